import type { BilingualText } from '../shared/bilingual-text.js';
import type { OutboundMessageBody } from '../shared/ports/channel-sender.js';
import { isAppError } from '../shared/app-error.js';
import { parseCameroonMobile } from '../payments/cameroon-msisdn.js';
import { attachmentRejectionText } from '../tickets/attachments/attachment-rules.js';
import type { ConversationContext, ConversationEffect, ConversationInput } from './conversation-input.js';
import type { ConversationChoice, ConversationCsat, ConversationLocale, ConversationOrder, ConversationState } from './conversation-state.js';
import { conversationTexts as T } from './conversation-texts.js';
import { fileTag } from './inbound-file.js';

export interface ConversationTransition {
  state: ConversationState;
  effects: ConversationEffect[];
}

/** What the customer dials when the gateway did not say (CamPay's own wording of the codes). */
const DEFAULT_USSD_CODES = { MTN: '*126#', ORANGE: '#150*50#' } as const;

const GLOBAL_WORDS: Record<'menu' | 'help' | 'agent' | 'stop' | 'fr' | 'en', readonly string[]> = {
  menu: ['menu', 'accueil', 'start', 'debut', 'retour', 'back', 'annuler', 'cancel', '0', 'bonjour', 'bonsoir', 'salut', 'hello', 'hi', 'hey', 'coucou'],
  help: ['aide', 'help', '?', 'info'],
  agent: ['agent', 'conseiller', 'humain', 'human', 'operateur', 'operator'],
  stop: ['stop', 'quitter', 'quit', 'exit', 'bye', 'au revoir'],
  en: ['english', 'anglais', 'en'],
  fr: ['francais', 'french', 'fr'],
};

/** Answers to "any comment?" that mean "no comment" ("0" too, although it is also a menu word). */
const NO_COMMENT_WORDS: readonly string[] = ['0', 'non', 'no', 'non merci', 'no thanks', 'rien', 'nothing', 'aucun', 'none', 'passer', 'skip', 'pas de commentaire', 'no comment'];
/** A rating typed out: "4", "4/5", "4 sur 5", "4 etoiles", "4 stars". */
const TYPED_RATING = /^([1-5])\s*(\/\s*5|sur 5|out of 5|etoiles?|stars?)?$/;
const RATING_CHOICE = /^csat:([1-5])$/;

const MENU_IDS = ['menu:buy_wifi', 'menu:my_wifi', 'menu:open_ticket', 'menu:my_tickets', 'menu:agent', 'menu:language'] as const;
const BACK_ID = 'menu';

/** Lower case, no accents, no surrounding punctuation or leading slash ("/start", "Menu !"). */
export function normaliseWord(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '?') return '?';
  return trimmed
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/^[/\s]+/, '')
    .replace(/[\s!.?,;:]+$/, '')
    .replace(/\s+/g, ' ');
}

/** A typed number ("2"), a tapped id or a label typed out, mapped back to one of the offered choices. */
export function matchChoice(text: string, offered: readonly ConversationChoice[]): ConversationChoice | undefined {
  const word = normaliseWord(text);
  if (/^\d{1,3}$/.test(word)) return offered[Number(word) - 1];
  return offered.find((choice) => normaliseWord(choice.id) === word || normaliseWord(choice.label) === word);
}

function globalWordOf(text: string): keyof typeof GLOBAL_WORDS | undefined {
  const word = normaliseWord(text);
  return (Object.keys(GLOBAL_WORDS) as (keyof typeof GLOBAL_WORDS)[]).find((key) => GLOBAL_WORDS[key].includes(word));
}

function payerPhoneOf(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    return parseCameroonMobile(text).e164;
  } catch (error) {
    if (isAppError(error)) return undefined;
    throw error;
  }
}

/**
 * The conversation engine: from a state and one input, the next state and the effects to carry
 * out. Pure — no clock, database or network — so every path is tested without either, and the
 * pipeline decides how effects leave (same transaction, outbox, lookups fed back as inputs).
 * Every customer text gets an answer, except while an agent holds the conversation.
 */
export function transitionConversation(state: ConversationState, input: ConversationInput, context: ConversationContext): ConversationTransition {
  return new Turn(state, context).run(input);
}

class Turn {
  private state: ConversationState;
  private readonly effects: ConversationEffect[] = [];
  private locale: ConversationLocale;

  constructor(
    state: ConversationState,
    private readonly context: ConversationContext,
  ) {
    this.state = { ...state, capabilities: state.capabilities ?? context.capabilities };
    this.locale = context.locale;
  }

  run(input: ConversationInput): ConversationTransition {
    this.apply(input);
    // The survey's ticket is only kept while the survey is on screen.
    if (this.state.csat && this.state.step !== 'csat_rate' && this.state.step !== 'csat_comment') {
      const { csat: _left, ...rest } = this.state;
      this.state = rest;
    }
    return { state: this.state, effects: this.effects };
  }

  private apply(input: ConversationInput): void {
    switch (input.kind) {
      case 'text':
        this.onText(input.text);
        break;
      case 'unreadable':
        // The polite answer only: step, choices and order stay as they were.
        if (this.state.mode === 'bot') this.say(T.unreadable(input.reason));
        break;
      case 'file':
        this.onFile(input);
        break;
      case 'ticket_opened':
        this.onTicketOpened(input.ticketId, input.ticketNumber);
        break;
      case 'action_refused':
        this.state.order = undefined;
        if (input.action === 'hand_off') {
          // No ticket, so no agent would ever see the conversation: the bot keeps it.
          this.state.mode = 'bot';
          this.showMenu(T.handOffRefused);
        } else {
          this.showMenu(T.refused);
        }
        break;
      case 'payment_pending':
        this.say(T.dialToConfirm(input.amountXaf, input.ussdCode ?? DEFAULT_USSD_CODES[input.operator]));
        break;
      case 'payment_failed':
        this.onPaymentFailed(input.ticketId, input.attemptsLeft);
        break;
      case 'voucher_ready': {
        const image = input.image ? { ...input.image, alt: T.voucherImageAlt(input.code, input.loginUrl)[this.locale] } : undefined;
        this.send({ text: T.voucherReady(input)[this.locale], image });
        this.closeOrder(input.ticketId);
        break;
      }
      case 'notice':
        this.say(input.text);
        if (input.ticketId) this.closeOrder(input.ticketId);
        break;
      case 'wifi_usage':
        this.say(input.usages.length === 0 ? T.noWifi : joinTexts(input.usages.map(T.wifiUsage)));
        this.settle();
        break;
      case 'tickets':
        this.say(input.tickets.length === 0 ? T.noTickets : joinTexts(input.tickets.map(T.ticketLine)));
        this.settle();
        break;
      case 'agent_message':
        // What a person wrote goes out as written, whatever the bot was doing.
        this.say(T.agentMessage(input.text, input.agentName));
        break;
      case 'csat_request':
        // A person still holds the conversation (under another ticket): no survey in the middle of it.
        if (this.state.mode === 'agent') break;
        this.askRating(T.csatRequest(input.ticketNumber), { ticketId: input.ticketId, ticketNumber: input.ticketNumber, retries: 0 });
        break;
    }
  }

  private onText(text: string): void {
    const word = globalWordOf(text);
    if (this.state.mode === 'agent') return this.onTextWhileAgent(text, word);
    // "0" skips the survey's comment before it means "menu" (both end on the menu anyway).
    if (this.state.step === 'csat_comment' && NO_COMMENT_WORDS.includes(normaliseWord(text))) return this.onCsatComment(undefined);
    switch (word) {
      case 'menu':
        // A first "bonjour" is a first contact: the language question comes before the menu.
        return this.state.step === 'start' ? this.greet() : this.showMenu(T.greeting(this.context.tenantName));
      case 'help':
        return this.showMenu(T.help);
      case 'agent':
        return this.handOff();
      case 'stop':
        this.state = { ...this.state, step: 'start', offered: [], order: undefined };
        return this.say(T.stop);
      case 'fr':
      case 'en':
        return this.setLocale(word);
    }
    const choice = matchChoice(text, this.state.offered);
    switch (this.state.step) {
      case 'start':
        return this.greet();
      case 'choose_language':
        if (choice?.id === 'lang:fr' || choice?.id === 'lang:en') return this.setLocale(choice.id === 'lang:fr' ? 'fr' : 'en');
        return this.showMenu(T.greeting(this.context.tenantName));
      case 'menu':
      case 'idle': {
        const picked = choice ?? menuChoiceNamed(text);
        if (picked) return this.onMenuChoice(picked.id);
        return this.showMenu(this.state.step === 'idle' ? T.menuPrompt : T.notUnderstood);
      }
      case 'buy_choose_package':
        return this.onPackageChoice(choice?.id);
      case 'ticket_choose_category':
        return this.onCategoryChoice(choice?.id);
      case 'ticket_describe':
        return this.onDescription(text);
      case 'pay_enter_phone':
        return this.onPhone(text);
      case 'pay_awaiting': {
        const picked = menuChoiceNamed(text);
        if (picked) return this.onMenuChoice(picked.id);
        return this.showMenu(T.notUnderstood);
      }
      case 'pay_failed':
        return this.onRetryChoice(choice?.id);
      case 'csat_rate':
        return this.onRating(text);
      case 'csat_comment':
        return this.onCsatComment(text);
    }
  }

  /** The bot is paused: only the words that take the conversation back (or change language) act; the rest is for the agent. */
  private onTextWhileAgent(text: string, word: keyof typeof GLOBAL_WORDS | undefined): void {
    if (word === 'menu' || word === 'stop') {
      this.state.mode = 'bot';
      return word === 'menu' ? this.showMenu(T.greeting(this.context.tenantName)) : this.say(T.stop);
    }
    if (word === 'help') return this.say(T.handedOff);
    if (word === 'fr' || word === 'en') {
      this.locale = word;
      this.effects.push({ kind: 'set_contact_locale', locale: word });
      return this.say(T.languageSet);
    }
    this.effects.push({ kind: 'relay_to_ticket', text });
  }

  /**
   * A photo or file: onto the ticket while an agent holds the conversation; the description of the
   * ticket at "describe your request"; elsewhere the bot does not read files and says so, with the
   * menu. A refused file is never stored: the customer is told why (the step stays, so a
   * description can still be written); while an agent holds the conversation its caption still
   * reaches the ticket.
   */
  private onFile(input: Extract<ConversationInput, { kind: 'file' }>): void {
    const { file, caption } = input;
    if (this.state.mode === 'agent') {
      if (file.ok) return void this.effects.push({ kind: 'relay_to_ticket', text: caption ?? fileTag(file.kind), withFile: true });
      this.say(attachmentRejectionText(file.reason));
      if (caption) this.effects.push({ kind: 'relay_to_ticket', text: caption });
      return;
    }
    const order = this.state.order;
    if (this.state.step !== 'ticket_describe' || !order) return this.showMenu(T.filesNotRead);
    if (!file.ok) return this.say(joinTexts([attachmentRejectionText(file.reason), T.describeInText]));
    const description = (caption ?? T.fileDescription(file.kind)[this.locale]).slice(0, 2000);
    this.startOrder({ ...order, description, file: { sha256: file.sha256, ...(file.fileName ? { fileName: file.fileName } : {}) } });
    // The ticket waits for the payer's number: the file must outlive this turn.
    const after: ConversationState = this.state;
    if (after.step === 'pay_enter_phone') this.effects.push({ kind: 'hold_file' });
  }

  private greet(): void {
    if (this.context.localeChosen) return this.showMenu(T.greeting(this.context.tenantName));
    this.offer('choose_language', T.welcome(this.context.tenantName), [
      { id: 'lang:fr', label: 'Français' },
      { id: 'lang:en', label: 'English' },
    ]);
  }

  private setLocale(locale: ConversationLocale): void {
    this.locale = locale;
    this.effects.push({ kind: 'set_contact_locale', locale });
    this.say(T.languageSet);
    this.showMenu(T.menuPrompt);
  }

  private onMenuChoice(id: string): void {
    switch (id) {
      case 'menu:buy_wifi':
        if (this.context.packages.length === 0) return this.showMenu(T.noPackages);
        return this.offer(
          'buy_choose_package',
          T.choosePackage,
          this.context.packages.map((item) => ({ id: `package:${item.id}`, label: T.packageLabel(item.name, item.priceXaf)[this.locale] })),
          true,
        );
      case 'menu:my_wifi':
        this.settle();
        return void this.effects.push({ kind: 'lookup', what: 'wifi_usage' });
      case 'menu:open_ticket':
        if (this.context.categories.length === 0) return this.showMenu(T.noCategories);
        return this.offer(
          'ticket_choose_category',
          T.chooseCategory,
          this.context.categories.map((category) => ({
            id: `category:${category.id}`,
            label: category.priceXaf ? T.packageLabel(category.name, category.priceXaf)[this.locale] : category.name[this.locale],
          })),
          true,
        );
      case 'menu:my_tickets':
        this.settle();
        return void this.effects.push({ kind: 'lookup', what: 'tickets' });
      case 'menu:agent':
        return this.handOff();
      case 'menu:language':
        return this.setLocale(this.locale === 'fr' ? 'en' : 'fr');
      default:
        return this.showMenu(T.notUnderstood);
    }
  }

  private onPackageChoice(choiceId: string | undefined): void {
    if (choiceId === BACK_ID) return this.showMenu(T.menuPrompt);
    const item = this.context.packages.find((candidate) => `package:${candidate.id}` === choiceId);
    if (!item) return this.offerAgain(T.notUnderstood);
    this.startOrder({ kind: 'wifi', packageId: item.id, label: item.name, priceXaf: item.priceXaf, paymentAttempts: 0 });
  }

  private onCategoryChoice(choiceId: string | undefined): void {
    if (choiceId === BACK_ID) return this.showMenu(T.menuPrompt);
    const category = this.context.categories.find((candidate) => `category:${candidate.id}` === choiceId);
    if (!category) return this.offerAgain(T.notUnderstood);
    this.state = {
      ...this.state,
      step: 'ticket_describe',
      offered: [],
      order: { kind: 'support', categoryId: category.id, label: category.name, priceXaf: category.priceXaf ?? 0, paymentAttempts: 0 },
    };
    this.say(T.describe);
  }

  private onDescription(text: string): void {
    const order = this.state.order;
    if (!order) return this.showMenu(T.notUnderstood);
    this.startOrder({ ...order, description: text.slice(0, 2000) });
  }

  /** Paid orders need a payer: the chat's own number when it is one, else asked. Then the ticket opens. */
  private startOrder(order: ConversationOrder): void {
    const payerPhone = order.priceXaf > 0 ? payerPhoneOf(this.context.contactPhoneE164) : undefined;
    if (order.priceXaf > 0 && !payerPhone) {
      this.state = { ...this.state, step: 'pay_enter_phone', offered: [], order };
      return this.say(T.askPhone(order.label, order.priceXaf));
    }
    this.openTicket({ ...order, payerPhone });
  }

  private openTicket(order: ConversationOrder): void {
    this.state = { ...this.state, step: order.priceXaf > 0 ? 'pay_awaiting' : 'idle', offered: [], order };
    const subject = order.kind === 'wifi' ? T.wifiSubject(order.label)[this.locale] : order.label[this.locale];
    this.effects.push({ kind: 'open_ticket', packageId: order.packageId, categoryId: order.categoryId, subject, description: order.description, ...(order.file ? { file: order.file } : {}) });
  }

  private onPhone(text: string): void {
    const order = this.state.order;
    if (!order) return this.showMenu(T.notUnderstood);
    const payerPhone = payerPhoneOf(text);
    if (!payerPhone) return this.say(T.phoneInvalid);
    if (order.ticketId) return this.startPayment({ ...order, payerPhone });
    this.openTicket({ ...order, payerPhone });
  }

  private onTicketOpened(ticketId: string, ticketNumber: number): void {
    const order = this.state.order;
    if (!order || order.ticketId) return;
    const opened = { ...order, ticketId, ticketNumber };
    if (order.priceXaf > 0 && order.payerPhone) {
      if (order.kind === 'support') this.say(T.ticketOpenedToPay(ticketNumber));
      return this.startPayment(opened);
    }
    this.say(T.ticketOpened(ticketNumber));
    this.state = { ...this.state, step: 'idle', offered: [], order: undefined };
  }

  private startPayment(order: ConversationOrder): void {
    if (!order.ticketId || !order.payerPhone) return this.showMenu(T.notUnderstood);
    const attempt = order.paymentAttempts + 1;
    if (attempt > this.context.maxPaymentAttempts) {
      this.state.order = undefined;
      return this.showMenu(T.paymentFailed(0));
    }
    this.state = { ...this.state, step: 'pay_awaiting', offered: [], order: { ...order, paymentAttempts: attempt } };
    this.effects.push({ kind: 'start_payment', ticketId: order.ticketId, payerPhone: order.payerPhone, attempt });
    this.say(T.paymentRequested(order.priceXaf, order.payerPhone));
  }

  private onPaymentFailed(ticketId: string, attemptsLeftByGateway: number): void {
    const order = this.state.order?.ticketId === ticketId ? this.state.order : undefined;
    const attemptsLeft = order ? Math.max(0, Math.min(attemptsLeftByGateway, this.context.maxPaymentAttempts - order.paymentAttempts)) : 0;
    if (!order || attemptsLeft === 0) {
      if (order) this.state.order = undefined;
      if (this.state.mode === 'agent') return this.say(T.paymentFailed(0));
      return this.showMenu(T.paymentFailed(0));
    }
    this.offer('pay_failed', T.paymentFailed(attemptsLeft), [
      { id: 'pay:retry', label: T.retry[this.locale] },
      { id: 'pay:other_number', label: T.otherNumber[this.locale] },
      { id: BACK_ID, label: T.back[this.locale] },
    ]);
  }

  private onRetryChoice(choiceId: string | undefined): void {
    const order = this.state.order;
    if (!order?.ticketId) return this.showMenu(T.notUnderstood);
    if (choiceId === 'pay:retry') return this.startPayment(order);
    if (choiceId === 'pay:other_number') {
      this.state = { ...this.state, step: 'pay_enter_phone', offered: [] };
      return this.say(T.askPhone(order.label, order.priceXaf));
    }
    if (choiceId === BACK_ID) return this.showMenu(T.menuPrompt);
    this.offerAgain(T.notUnderstood);
  }

  /**
   * The 1-5 question. Plain-text channels (SMS, USSD) get the scale in the text only: their list
   * would read "1. 1" once the stars are stripped. "4" maps back either way.
   */
  private askRating(intro: BilingualText, csat: ConversationCsat): void {
    const choices = [1, 2, 3, 4, 5].map((rating) => ({ id: `csat:${rating}`, label: `${rating} ${'⭐'.repeat(rating)}` }));
    this.state = { ...this.state, step: 'csat_rate', offered: choices, csat };
    this.send({ text: intro[this.locale], choices: this.context.capabilities.plainTextOnly ? undefined : choices });
  }

  /** A rating is recorded; anything else is asked again once, then the survey steps aside (never a trap). */
  private onRating(text: string): void {
    const csat = this.state.csat;
    const rating = ratingOf(text, this.state.offered);
    if (csat && rating !== undefined) {
      this.effects.push({ kind: 'record_csat', ticketId: csat.ticketId, rating });
      this.state = { ...this.state, step: 'csat_comment', offered: [], csat };
      return this.say(T.csatAskComment);
    }
    // A menu entry by name is an answer of its own: acted on at once.
    if (csat && csat.retries < 1 && !menuChoiceNamed(text)) return this.askRating(T.csatRateAgain, { ...csat, retries: csat.retries + 1 });
    this.settle();
    this.onText(text);
  }

  private onCsatComment(comment: string | undefined): void {
    const csat = this.state.csat;
    if (!csat && comment !== undefined) {
      this.settle();
      return this.onText(comment);
    }
    if (csat && comment !== undefined) this.effects.push({ kind: 'record_csat_comment', ticketId: csat.ticketId, comment: comment.slice(0, 2000) });
    this.showMenu(T.csatThanks);
  }

  private handOff(): void {
    this.state = { ...this.state, mode: 'agent', step: 'idle', offered: [] };
    this.effects.push({ kind: 'hand_off' });
    this.say(T.handedOff);
  }

  /** The order is done (voucher delivered, sold out...): no question stays open about it. */
  private closeOrder(ticketId: string): void {
    if (this.state.order?.ticketId !== ticketId) return;
    this.state.order = undefined;
    if (this.state.step === 'pay_awaiting' || this.state.step === 'pay_failed' || this.state.step === 'pay_enter_phone') this.settle();
  }

  private settle(): void {
    this.state = { ...this.state, step: 'idle', offered: [] };
  }

  private showMenu(intro: BilingualText): void {
    const labels = T.menu;
    const choices = MENU_IDS.map((id) => ({ id, label: labels[menuKey(id)][this.locale] }));
    this.offer('menu', intro, choices);
  }

  private offer(step: ConversationState['step'], text: BilingualText, choices: ConversationChoice[], withBack = false): void {
    const offered = withBack ? [...choices, { id: BACK_ID, label: T.back[this.locale] }] : choices;
    this.state = { ...this.state, step, offered };
    this.send({ text: text[this.locale], choices: offered });
  }

  /** The same question again, after an answer that was not one of its choices. */
  private offerAgain(intro: BilingualText): void {
    this.send({ text: intro[this.locale], choices: this.state.offered });
  }

  private say(text: BilingualText): void {
    this.send({ text: text[this.locale] });
  }

  private send(message: OutboundMessageBody): void {
    this.effects.push({ kind: 'send', message: message.image || message.choices?.length ? message : { text: message.text } });
  }
}

/** The rating an answer gives: typed ("4", "4/5", "4 étoiles") or a tapped / typed choice of the survey. */
function ratingOf(text: string, offered: readonly ConversationChoice[]): number | undefined {
  const typed = TYPED_RATING.exec(normaliseWord(text));
  if (typed) return Number(typed[1]);
  const chosen = RATING_CHOICE.exec(matchChoice(text, offered)?.id ?? '');
  return chosen ? Number(chosen[1]) : undefined;
}

/** A menu entry typed by name ("Mon WiFi", "my tickets") in either language, even when the menu is not on screen. */
function menuChoiceNamed(text: string): ConversationChoice | undefined {
  const word = normaliseWord(text);
  if (/^\d+$/.test(word)) return undefined; // numbers refer to what is on screen
  const named = MENU_IDS.flatMap((id) => [
    { id, label: T.menu[menuKey(id)].fr },
    { id, label: T.menu[menuKey(id)].en },
  ]).filter((choice) => choice.id !== 'menu:language');
  return matchChoice(text, named);
}

function menuKey(id: (typeof MENU_IDS)[number]): keyof typeof T.menu {
  const keys = { 'menu:buy_wifi': 'buyWifi', 'menu:my_wifi': 'myWifi', 'menu:open_ticket': 'openTicket', 'menu:my_tickets': 'myTickets', 'menu:agent': 'agent', 'menu:language': 'language' } as const;
  return keys[id];
}

function joinTexts(texts: BilingualText[]): BilingualText {
  return { fr: texts.map((text) => text.fr).join('\n'), en: texts.map((text) => text.en).join('\n') };
}
