import type { AppErrorCode } from '../shared/app-error.js';
import type { AttachmentRejection } from '../tickets/attachments/attachment-rules.js';
import type { BilingualText } from '../shared/bilingual-text.js';
import type { ChannelCapabilities, OutboundMessageBody } from '../shared/ports/channel-sender.js';
import type { ConversationLocale, OfferedCategory, OfferedPackage } from './conversation-state.js';

/** What a file the customer sent is, as its bytes show (the attachment rules accept nothing else). */
export type InboundFileKind = 'photo' | 'pdf' | 'audio';

/** A file the rules accept, as the transition knows it: no bytes, the pipeline holds them. */
export interface ConversationFileRef {
  sha256: string;
  fileName?: string;
}

/** Why a customer's message cannot be read as an answer. */
export type UnreadableReason = 'empty' | 'too_long' | 'binary' | 'emoji_only' | 'suspicious';

export interface WifiUsageSummary {
  code: string;
  packageName: BilingualText;
  status: string;
  timeLeftSeconds: number | null;
  dataUsedBytes: number;
  dataLeftBytes: number | null;
  onlineNow: boolean;
}

export interface TicketSummary {
  number: number;
  subject: string;
  status: string;
  lastReply: string | null;
}

/**
 * Everything that moves a conversation: what the customer wrote, and what happened elsewhere
 * that the customer must hear about (payment, voucher, lookups the pipeline made for it).
 */
export type ConversationInput =
  | { kind: 'text'; text: string }
  | { kind: 'unreadable'; reason: UnreadableReason }
  /**
   * A photo, document or voice note, with its caption when readable: accepted by the attachment
   * rules (the pipeline holds the bytes) or refused (too large, type not allowed, empty).
   */
  | { kind: 'file'; caption?: string; file: ({ ok: true; kind: InboundFileKind } & ConversationFileRef) | { ok: false; reason: AttachmentRejection } }
  | { kind: 'ticket_opened'; ticketId: string; ticketNumber: number }
  /** A database effect was refused (plan limit, nothing to pay...): say sorry, show the menu. A refused hand-off gives the conversation back to the bot. */
  | { kind: 'action_refused'; code: AppErrorCode; action?: 'hand_off' }
  | { kind: 'payment_pending'; ticketId: string; amountXaf: number; operator: 'MTN' | 'ORANGE'; ussdCode?: string }
  | { kind: 'payment_failed'; ticketId: string; reason: string; attemptsLeft: number }
  | {
      kind: 'voucher_ready';
      ticketId: string;
      code: string;
      password: string;
      packageName: BilingualText;
      validityMinutes: number;
      /** The hotspot login URL when the router has a DNS name. */
      loginUrl?: string;
      image?: { fileKey: string; mimeType: string };
    }
  /** A ready-made message for the customer (e.g. sold out, with a refund on its way). */
  | { kind: 'notice'; ticketId?: string; text: BilingualText }
  | { kind: 'wifi_usage'; usages: WifiUsageSummary[] }
  | { kind: 'tickets'; tickets: TicketSummary[] }
  /** An agent's public reply on the conversation's ticket: sent as written, in any mode. */
  | { kind: 'agent_message'; text: string; agentName?: string }
  /** The ticket was resolved by people: the bot is back and asks for a 1-5 rating. */
  | { kind: 'csat_request'; ticketId: string; ticketNumber: number };

/** What the transition knows besides the state: read by the pipeline before each transition. */
export interface ConversationContext {
  /** The contact's language, else the tenant's default. */
  locale: ConversationLocale;
  /** false until the contact has chosen a language (then it is asked at first contact). */
  localeChosen: boolean;
  tenantName: string;
  capabilities: ChannelCapabilities;
  /** Active packages with stock (or made on demand), cheapest first. */
  packages: OfferedPackage[];
  /** Active support categories (those not selling a package). */
  categories: OfferedCategory[];
  /** The chat's own number when the channel identity is a phone number: it pays by default. */
  contactPhoneE164?: string;
  maxPaymentAttempts: number;
  now: Date;
}

/** Work the transition asks for; the pipeline carries it out after the transition. */
export type ConversationEffect =
  /** A message in the context's locale, before rendering for the channel's capabilities. */
  | { kind: 'send'; message: OutboundMessageBody }
  | { kind: 'set_contact_locale'; locale: ConversationLocale }
  /** In the same transaction; answered with a `ticket_opened` (or `action_refused`) input. `file`: attached to the description. */
  | { kind: 'open_ticket'; categoryId?: string; packageId?: string; subject: string; description?: string; file?: ConversationFileRef }
  /** Through the outbox (`conversation.start_payment`): the gateway is called after commit. */
  | { kind: 'start_payment'; ticketId: string; payerPhone: string; attempt: number }
  /**
   * In the same transaction: the conversation goes under a ticket (its current one, or its latest
   * open one, or a new one with a transcript) that agents see; refused (plan limit) as `action_refused`.
   */
  | { kind: 'hand_off' }
  /** In the same transaction: a customer's text while an agent holds the conversation lands on its ticket (with this turn's file when `withFile`). */
  | { kind: 'relay_to_ticket'; text: string; withFile?: boolean }
  /** This turn's file is kept in the FileStore for a ticket opened by a later turn (the payer's number is asked first). */
  | { kind: 'hold_file' }
  /** In the same transaction: the survey's rating (once per ticket), then its optional comment. */
  | { kind: 'record_csat'; ticketId: string; rating: number }
  | { kind: 'record_csat_comment'; ticketId: string; comment: string }
  /** Read in the same transaction and fed back as a `wifi_usage` / `tickets` input of the same turn. */
  | { kind: 'lookup'; what: 'wifi_usage' | 'tickets' };

export const MAX_INBOUND_TEXT_BYTES = 4096;

/** Characters that never appear in a typed message: C0/C1 controls (tab and newlines aside), the replacement character. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const BINARY = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFD\uFFFE\uFFFF]/;
const EMOJI = /\p{Extended_Pictographic}/u;
const WORD_CHARACTER = /[\p{L}\p{N}]/u;
/**
 * Text shaped like an attack on a web page, a database or a template. Nothing here is ever run
 * or rendered as markup, but such text is no answer to a question either: it gets the polite
 * answer and leaves the conversation as it was.
 */
const SUSPICIOUS = [
  /<\s*\/?\s*(script|iframe|img|svg|object|embed|style|link|meta)\b/i,
  /\bjavascript\s*:/i,
  /\bon(error|load|click|mouseover)\s*=/i,
  /('|")\s*(or|and)\s+('|")?\w+('|")?\s*=\s*('|")?\w+/i,
  /;\s*(drop|delete|truncate|alter|insert|update)\s+(table|from|into|database)?\b/i,
  /\bunion\s+(all\s+)?select\b/i,
  /--\s*$/,
  /\$\{[^}]*\}|\{\{[^}]*\}\}|<%.*%>/,
  /\.\.[/\\]/,
];

/**
 * Reads a customer's text as an input: a text to interpret, or the reason it cannot be one
 * (empty, over 4 KB, binary, emoji only, injection-like).
 */
export function inspectInboundText(text: string): ConversationInput {
  if (typeof text !== 'string' || text.trim().length === 0) return { kind: 'unreadable', reason: 'empty' };
  if (Buffer.byteLength(text, 'utf8') > MAX_INBOUND_TEXT_BYTES) return { kind: 'unreadable', reason: 'too_long' };
  if (BINARY.test(text)) return { kind: 'unreadable', reason: 'binary' };
  if (!WORD_CHARACTER.test(text) && EMOJI.test(text)) return { kind: 'unreadable', reason: 'emoji_only' };
  if (SUSPICIOUS.some((pattern) => pattern.test(text))) return { kind: 'unreadable', reason: 'suspicious' };
  return { kind: 'text', text: text.trim() };
}
