import type { BilingualText } from '../shared/bilingual-text.js';
import { formatXaf } from '../shared/money.js';
import { formatValidity } from '../wifi/vouchers/voucher-texts.js';
import type { InboundFileKind, TicketSummary, UnreadableReason, WifiUsageSummary } from './conversation-input.js';

/** Everything the bot says, in both languages. Short sentences: SMS and USSD screens are small. */
export const conversationTexts = {
  welcome: (tenantName: string): BilingualText => ({
    fr: `Bienvenue chez ${tenantName} ! Choisissez votre langue. / Welcome! Choose your language.`,
    en: `Welcome to ${tenantName}! Choose your language. / Bienvenue ! Choisissez votre langue.`,
  }),
  greeting: (tenantName: string): BilingualText => ({
    fr: `Bonjour ! Ici ${tenantName}. Que voulez-vous faire ?`,
    en: `Hello! This is ${tenantName}. What would you like to do?`,
  }),
  menuPrompt: { fr: 'Que voulez-vous faire ?', en: 'What would you like to do?' },
  menu: {
    buyWifi: { fr: 'Acheter du WiFi', en: 'Buy WiFi' },
    myWifi: { fr: 'Mon WiFi', en: 'My WiFi' },
    openTicket: { fr: 'Ouvrir un ticket', en: 'Open a ticket' },
    myTickets: { fr: 'Mes tickets', en: 'My tickets' },
    agent: { fr: 'Parler à un agent', en: 'Talk to an agent' },
    language: { fr: 'English', en: 'Français' },
  },
  languageSet: { fr: 'C’est noté, je vous parle en français.', en: 'Noted, I will speak English with you.' },
  help: {
    fr: 'Je suis le robot de ce WiFi. Répondez avec le numéro d’un choix. Mots utiles : « menu », « agent », « english », « stop ».',
    en: 'I am this WiFi’s bot. Answer with the number of a choice. Useful words: "menu", "agent", "français", "stop".',
  },
  notUnderstood: { fr: 'Je n’ai pas compris. Voici ce que je peux faire :', en: 'I did not understand. Here is what I can do:' },
  unreadable: (reason: UnreadableReason): BilingualText => {
    switch (reason) {
      case 'empty':
        return { fr: 'Votre message est vide. Écrivez « menu » pour voir les choix.', en: 'Your message is empty. Write "menu" to see the choices.' };
      case 'too_long':
        return { fr: 'Votre message est trop long. Écrivez plus court, ou « agent » pour parler à quelqu’un.', en: 'Your message is too long. Please write less, or "agent" to talk to someone.' };
      case 'emoji_only':
        return { fr: 'Merci ! Écrivez « menu » pour voir ce que je peux faire.', en: 'Thank you! Write "menu" to see what I can do.' };
      default:
        return { fr: 'Désolé, je ne peux pas lire ce message. Écrivez « menu » pour voir les choix.', en: 'Sorry, I cannot read this message. Write "menu" to see the choices.' };
    }
  },
  stop: { fr: 'Au revoir ! Écrivez « menu » quand vous voulez revenir.', en: 'Goodbye! Write "menu" whenever you want to come back.' },
  back: { fr: 'Menu', en: 'Menu' },
  choosePackage: { fr: 'Quel forfait voulez-vous ?', en: 'Which package would you like?' },
  noPackages: { fr: 'Désolé, aucun forfait n’est disponible pour le moment.', en: 'Sorry, no package is available right now.' },
  packageLabel: (name: BilingualText, priceXaf: number): BilingualText => ({
    fr: `${name.fr} - ${formatXaf(priceXaf, 'fr')}`,
    en: `${name.en} - ${formatXaf(priceXaf, 'en')}`,
  }),
  askPhone: (label: BilingualText, priceXaf: number): BilingualText => ({
    fr: `${label.fr} : ${formatXaf(priceXaf, 'fr')}. Quel numéro MTN Mobile Money ou Orange Money paie ? (ex. 670000000)`,
    en: `${label.en}: ${formatXaf(priceXaf, 'en')}. Which MTN Mobile Money or Orange Money number pays? (e.g. 670000000)`,
  }),
  phoneInvalid: {
    fr: 'Ce numéro n’est pas un numéro MTN ou Orange du Cameroun. Exemple : 670000000. Ou écrivez « menu ».',
    en: 'This is not a Cameroonian MTN or Orange number. Example: 670000000. Or write "menu".',
  },
  paymentRequested: (priceXaf: number, phone: string): BilingualText => ({
    fr: `Je demande ${formatXaf(priceXaf, 'fr')} au ${phone}. Vous allez recevoir une demande de confirmation sur votre téléphone.`,
    en: `I am requesting ${formatXaf(priceXaf, 'en')} from ${phone}. You will get a confirmation request on your phone.`,
  }),
  dialToConfirm: (amountXaf: number, ussdCode: string): BilingualText => ({
    fr: `Pour confirmer le paiement de ${formatXaf(amountXaf, 'fr')}, composez ${ussdCode} et validez avec votre code secret. Votre code WiFi arrive ici dès la confirmation.`,
    en: `To confirm the payment of ${formatXaf(amountXaf, 'en')}, dial ${ussdCode} and approve with your PIN. Your WiFi code comes here as soon as it is confirmed.`,
  }),
  paymentFailed: (attemptsLeft: number): BilingualText =>
    attemptsLeft > 0
      ? {
          fr: `Le paiement n’a pas abouti (refusé, annulé ou expiré). Vous pouvez réessayer (encore ${attemptsLeft} essai${attemptsLeft > 1 ? 's' : ''}).`,
          en: `The payment did not go through (declined, cancelled or timed out). You can try again (${attemptsLeft} more ${attemptsLeft > 1 ? 'tries' : 'try'}).`,
        }
      : {
          fr: 'Le paiement n’a pas abouti et le nombre d’essais est atteint. Recommencez un achat depuis le menu, ou écrivez « agent ».',
          en: 'The payment did not go through and no tries are left. Start a new purchase from the menu, or write "agent".',
        },
  retry: { fr: 'Réessayer', en: 'Try again' },
  otherNumber: { fr: 'Autre numéro', en: 'Another number' },
  voucherReady: (voucher: { code: string; password: string; packageName: BilingualText; validityMinutes: number; loginUrl?: string }): BilingualText => {
    const samePassword = voucher.password === voucher.code;
    return {
      fr: [
        `Paiement reçu, merci ! Votre code WiFi : ${voucher.code}${samePassword ? '' : ` (mot de passe : ${voucher.password})`}`,
        `Forfait : ${voucher.packageName.fr}, valable ${formatValidity(voucher.validityMinutes, 'fr')}.`,
        `Pour vous connecter : rejoignez le réseau WiFi, ouvrez votre navigateur et saisissez le code${voucher.loginUrl ? ', ou scannez le QR code' : ''}.`,
      ].join('\n'),
      en: [
        `Payment received, thank you! Your WiFi code: ${voucher.code}${samePassword ? '' : ` (password: ${voucher.password})`}`,
        `Package: ${voucher.packageName.en}, valid for ${formatValidity(voucher.validityMinutes, 'en')}.`,
        `To connect: join the WiFi network, open your browser and enter the code${voucher.loginUrl ? ', or scan the QR code' : ''}.`,
      ].join('\n'),
    };
  },
  voucherImageAlt: (code: string, loginUrl?: string): BilingualText => ({
    fr: loginUrl ? `Connexion directe : ${loginUrl}` : `Code : ${code}`,
    en: loginUrl ? `Direct login: ${loginUrl}` : `Code: ${code}`,
  }),
  noWifi: { fr: 'Vous n’avez pas encore de forfait WiFi. Choisissez « Acheter du WiFi ».', en: 'You have no WiFi package yet. Choose "Buy WiFi".' },
  wifiUsage: (usage: WifiUsageSummary): BilingualText => {
    const left = usage.timeLeftSeconds === null ? null : Math.floor(usage.timeLeftSeconds / 60);
    return {
      fr: `${usage.code} (${usage.packageName.fr}) : ${left === null ? 'pas encore utilisé' : `${formatValidity(left, 'fr')} restant`}, ${formatBytes(usage.dataUsedBytes, 'fr')} utilisés${usage.dataLeftBytes === null ? '' : `, ${formatBytes(usage.dataLeftBytes, 'fr')} restants`}${usage.onlineNow ? ', connecté maintenant' : ''}.`,
      en: `${usage.code} (${usage.packageName.en}): ${left === null ? 'not used yet' : `${formatValidity(left, 'en')} left`}, ${formatBytes(usage.dataUsedBytes, 'en')} used${usage.dataLeftBytes === null ? '' : `, ${formatBytes(usage.dataLeftBytes, 'en')} left`}${usage.onlineNow ? ', online now' : ''}.`,
    };
  },
  chooseCategory: { fr: 'Pour quel sujet ?', en: 'What is it about?' },
  noCategories: { fr: 'Aucun sujet n’est ouvert pour le moment. Écrivez « agent » pour parler à quelqu’un.', en: 'No topic is open right now. Write "agent" to talk to someone.' },
  describe: { fr: 'Décrivez votre demande en un message.', en: 'Describe your request in one message.' },
  /** A file sent where the bot does not read files (bot mode, outside "describe your request"). */
  filesNotRead: {
    fr: 'Je ne lis les photos et les fichiers que lorsque vous décrivez un problème (« Ouvrir un ticket ») ou parlez à un agent. Que voulez-vous faire ?',
    en: 'I only read photos and files when you describe a problem ("Open a ticket") or talk to an agent. What would you like to do?',
  },
  /** A ticket's description when the customer sent only a file. */
  fileDescription: (kind: InboundFileKind): BilingualText =>
    kind === 'photo' ? { fr: 'Photo', en: 'Photo' } : kind === 'audio' ? { fr: 'Note vocale', en: 'Voice note' } : { fr: 'Document PDF', en: 'PDF document' },
  /** After a refused file at "describe your request": the text is still welcome. */
  describeInText: { fr: 'Vous pouvez aussi décrire votre demande par écrit.', en: 'You can also describe your request in writing.' },
  ticketOpened: (ticketNumber: number): BilingualText => ({
    fr: `Votre ticket n° ${ticketNumber} est ouvert. Un agent vous répond ici.`,
    en: `Your ticket #${ticketNumber} is open. An agent will answer you here.`,
  }),
  ticketOpenedToPay: (ticketNumber: number): BilingualText => ({
    fr: `Votre ticket n° ${ticketNumber} est ouvert.`,
    en: `Your ticket #${ticketNumber} is open.`,
  }),
  noTickets: { fr: 'Vous n’avez aucun ticket.', en: 'You have no tickets.' },
  ticketLine: (ticket: TicketSummary): BilingualText => ({
    fr: `N° ${ticket.number} - ${ticket.subject} : ${TICKET_STATUS.fr[ticket.status as keyof typeof TICKET_STATUS.fr] ?? ticket.status}${ticket.lastReply ? `. Dernière réponse : ${ticket.lastReply}` : ''}`,
    en: `#${ticket.number} - ${ticket.subject}: ${TICKET_STATUS.en[ticket.status as keyof typeof TICKET_STATUS.en] ?? ticket.status}${ticket.lastReply ? `. Last reply: ${ticket.lastReply}` : ''}`,
  }),
  handedOff: {
    fr: 'Un agent va vous répondre ici. Le robot est en pause. Écrivez « menu » pour revenir au robot.',
    en: 'An agent will answer you here. The bot is paused. Write "menu" to come back to the bot.',
  },
  refused: {
    fr: 'Désolé, je ne peux pas faire cela pour le moment. Écrivez « agent » pour parler à quelqu’un.',
    en: 'Sorry, I cannot do that right now. Write "agent" to talk to someone.',
  },
  wifiSubject: (name: BilingualText): BilingualText => ({ fr: `Achat WiFi : ${name.fr}`, en: `WiFi purchase: ${name.en}` }),
  handOffRefused: {
    fr: 'Désolé, aucun agent ne peut prendre votre demande pour le moment. Le robot reste à votre service.',
    en: 'Sorry, no agent can take your request right now. The bot is still here for you.',
  },
  /** The subject of the ticket a hand-off opens (agents read it in the inbox). */
  handOffSubject: { fr: 'Demande de conseiller', en: 'Agent requested' },
  /** The transcript a hand-off puts on its ticket, so that the agent starts with the context. */
  transcriptTitle: { fr: 'Derniers messages de la conversation :', en: 'Last messages of the conversation:' },
  transcriptCustomer: { fr: 'Client', en: 'Customer' },
  transcriptBot: { fr: 'Robot', en: 'Bot' },
  /** "Awa : ..." — who answers, when the agent's name is known. */
  agentMessage: (text: string, agentName?: string): BilingualText => (agentName ? { fr: `${agentName} : ${text}`, en: `${agentName}: ${text}` } : { fr: text, en: text }),
  csatRequest: (ticketNumber: number): BilingualText => ({
    fr: `Votre ticket n° ${ticketNumber} est résolu et le robot reprend la conversation. Comment notez-vous l’aide reçue ? Répondez de 1 (mauvais) à 5 (excellent).`,
    en: `Your ticket #${ticketNumber} is resolved and the bot is back. How would you rate the help you got? Answer from 1 (poor) to 5 (excellent).`,
  }),
  csatRateAgain: { fr: 'Répondez par un chiffre de 1 à 5, ou « menu » pour passer.', en: 'Please answer with a number from 1 to 5, or "menu" to skip.' },
  csatAskComment: {
    fr: 'Merci ! Un commentaire ? Écrivez-le, ou répondez 0 ou « non » pour passer.',
    en: 'Thank you! Any comment? Write it, or reply 0 or "no" to skip.',
  },
  csatThanks: { fr: 'Merci pour votre avis ! Que voulez-vous faire ?', en: 'Thank you for your feedback! What would you like to do?' },
};

const TICKET_STATUS = {
  fr: { open: 'ouvert', pending: 'en attente', resolved: 'résolu', closed: 'fermé' },
  en: { open: 'open', pending: 'pending', resolved: 'resolved', closed: 'closed' },
};

/** "120 Mo" / "1.5 GB": decimal units, as operators sell data. */
export function formatBytes(bytes: number, locale: 'fr' | 'en'): string {
  const units = locale === 'fr' ? ['o', 'Ko', 'Mo', 'Go'] : ['B', 'KB', 'MB', 'GB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const rounded = value >= 10 || unit === 0 ? String(Math.round(value)) : value.toFixed(1);
  return `${locale === 'fr' ? rounded.replace('.', ',') : rounded} ${units[unit]}`;
}
