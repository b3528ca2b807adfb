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
  /**
   * An in-session channel whose sessions end (USSD): what the conversation says outside a
   * customer's request (payment prompt, voucher) is pushed by the account's sender (an SMS)
   * instead of waiting to be read, as web chat polling does.
   */
  pushOutsideSession?: boolean;
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
  /** The bytes of `body.image`, read from the FileStore by the caller (absent when there is no image). */
  imageBytes?: Buffer;
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

/**
 * How fast a sender may push, as its provider allows; the delivery use case paces to these
 * (evenly spaced sends, no bursts), so the provider's rate limiter rarely has to say 429.
 */
export interface SendLimits {
  /** Messages per second to one recipient chat (Telegram: about 1). */
  perChatPerSecond: number;
  /** Messages per second for the whole channel account: one bot, one number (Telegram: about 30). */
  perAccountPerSecond: number;
  /** Up to this much random extra spacing per send (WhatsApp: do not look like a machine). */
  jitterMs?: number;
}

export interface ChannelSender {
  readonly capabilities: ChannelCapabilities;
  readonly limits: SendLimits;
  /** Throws ChannelSendError on failure; its message must never quote a secret (it is stored). */
  send(request: SendRequest): Promise<SendResult>;
}

/**
 * A channel account as the composition root needs it to build that account's sender. `kind` is
 * read there, never in core; `secretsEnc` is opened there with the tenant id as owner.
 */
export interface SendingChannelAccount {
  tenantId: string;
  id: string;
  kind: string;
  externalId: string | null;
  settings: Record<string, unknown>;
  secretsEnc: string | null;
  /** Changes when settings or secrets do: lets the composition root cache senders safely. */
  updatedAt: Date;
}

/** The sender for an account, or undefined when no adapter can send on it (its messages wait). */
export type SenderFor = (account: SendingChannelAccount) => ChannelSender | undefined;
