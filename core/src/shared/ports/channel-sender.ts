/**
 * Sending a message to a customer on a channel account, as the delivery job needs it. One
 * implementation per provider lives in bots/<channel>/; the composition root picks one per
 * channel account. Core never names a channel: it reads an account's capabilities.
 */

/** What a channel can show; the conversation engine renders for these, never for a channel name. */
export interface ChannelCapabilities {
  /** Tappable choices (Telegram inline keyboard, WhatsApp Cloud interactive buttons/lists). */
  buttons: boolean;
  /** Most choices shown as buttons; more fall back to a list or numbered text. */
  maxButtons: number;
  images: boolean;
  /** Longest text in one message (SMS: a few GSM-7 parts; USSD: one ~182-character screen). */
  maxTextLength: number;
  /** Plain GSM-7/ASCII only (SMS, USSD). */
  plainTextOnly: boolean;
  /** The answer is the reply to the request (USSD CON/END, web chat polling), not a push. */
  replyInSession: boolean;
}

/** A message, channel-neutral. */
export interface OutboundMessageBody {
  text: string;
  /** Offered answers; `id` comes back as the customer's input when tapped, a number when typed. */
  choices?: { id: string; label: string }[];
  /** An image stored in the FileStore (the voucher QR code) and its text alternative. */
  image?: { fileKey: string; mimeType: string; alt: string };
}

export interface SendRequest {
  tenantId: string;
  channelAccountId: string;
  /** The provider's address of the customer: chat id, E.164 number, wa_id... */
  recipient: string;
  body: OutboundMessageBody;
  /** Our message id, for providers that accept an idempotency key. */
  messageId: string;
}

export interface SendResult {
  providerMessageId?: string;
}

/** A send that failed: `retryAfterMs` when the provider said when to come back (429). */
export class ChannelSendError extends Error {
  override name = 'ChannelSendError';
  readonly permanent: boolean;
  readonly retryAfterMs?: number;

  constructor(message: string, options: { permanent: boolean; retryAfterMs?: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.permanent = options.permanent;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export interface ChannelSender {
  readonly capabilities: ChannelCapabilities;
  send(request: SendRequest): Promise<SendResult>;
}
