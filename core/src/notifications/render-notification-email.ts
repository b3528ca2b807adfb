import type { MailMessage } from '../shared/ports/mailer.js';
import type { NotificationText } from './notification-payload.js';

type Locale = 'fr' | 'en';

const GREETING: Record<Locale, (name: string) => string> = {
  fr: (name) => `Bonjour ${name},`,
  en: (name) => `Hello ${name},`,
};
const TICKET_LINE: Record<Locale, (ticketNumber: number) => string> = {
  fr: (ticketNumber) => `Ticket n° ${ticketNumber}`,
  en: (ticketNumber) => `Ticket #${ticketNumber}`,
};
const FOOTER: Record<Locale, string> = {
  fr: 'Vous recevez cet e-mail car vos préférences de notification le demandent ; vous pouvez les changer dans Relais.',
  en: 'You receive this email because your notification preferences ask for it; you can change them in Relais.',
};

/** HTML special characters as entities: every value in the HTML body comes from people. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * The email copy of a notification in the recipient's language: plain text, and the same text as
 * simple escaped HTML. The subject is one line (a title with a line break must not start a header).
 */
export function renderNotificationEmail(options: { to: string; locale: Locale; recipientName: string; notification: NotificationText }): MailMessage {
  const { locale, notification } = options;
  const title = notification.title[locale].replace(/\s+/g, ' ').trim();
  const subject = notification.ticketNumber !== undefined ? `[#${notification.ticketNumber}] ${title}` : title;
  const paragraphs = [
    GREETING[locale](options.recipientName),
    notification.body[locale].trim(),
    notification.ticketNumber !== undefined ? TICKET_LINE[locale](notification.ticketNumber) : '',
  ].filter((paragraph) => paragraph !== '');
  const text = `${paragraphs.join('\n\n')}\n\n-- \n${FOOTER[locale]}\n`;
  const htmlParagraph = (paragraph: string) => `<p>${escapeHtml(paragraph).replace(/\r?\n/g, '<br>')}</p>`;
  const html = [
    `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body>`,
    ...paragraphs.map(htmlParagraph),
    `<hr><p style="color:#666;font-size:12px">${escapeHtml(FOOTER[locale])}</p>`,
    '</body></html>',
  ].join('\n');
  return { to: options.to, subject, text, html };
}
