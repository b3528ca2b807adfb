import { Telegram, TelegramError } from 'telegraf';
import { ChannelSendError, type ChannelSender, type OutboundMessageBody, type SendLimits, type SendRequest, type SendResult } from '@relais/core';
import { TELEGRAM_CAPABILITIES, TELEGRAM_LIMITS, TELEGRAM_MAX_CALLBACK_DATA_BYTES, TELEGRAM_MAX_CAPTION_LENGTH } from './telegram-capabilities.js';

export interface TelegramSenderOptions {
  botToken: string;
  /** Bot API root; tests and demo mode point it at the simulator. Default https://api.telegram.org */
  apiRoot?: string;
  /** One Bot API call longer than this is abandoned (and retried later). */
  timeoutMs?: number;
  limits?: SendLimits;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const FILE_EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };

/**
 * Sends conversation messages through one bot (one channel account) with telegraf's Telegram
 * client: choices as an inline keyboard (callback_data = choice id), an image as a photo with the
 * text as caption, plain text otherwise. Errors become ChannelSendError built from Telegram's
 * error code and description only, never from the request (the URL holds the token).
 */
export function createTelegramSender(options: TelegramSenderOptions): ChannelSender {
  // webhookReply off: every call is a real request whose errors we see.
  const telegram = new Telegram(options.botToken, { ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}), webhookReply: false });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const call = async <M extends 'sendMessage' | 'sendPhoto'>(method: M, payload: Parameters<Telegram['callApi']>[1] & object): Promise<{ message_id: number }> => {
    try {
      // telegraf types its signal with the abort-controller polyfill; Node's AbortSignal is the same at runtime.
      return (await telegram.callApi(method, payload as never, { signal: AbortSignal.timeout(timeoutMs) as never })) as { message_id: number };
    } catch (error) {
      throw toSendError(error);
    }
  };

  return {
    capabilities: TELEGRAM_CAPABILITIES,
    limits: options.limits ?? TELEGRAM_LIMITS,
    async send(request: SendRequest): Promise<SendResult> {
      const chatId = chatIdOf(request.recipient);
      const replyMarkup = inlineKeyboardOf(request.body);
      const { text } = request.body;
      if (request.body.image && request.imageBytes) {
        const photo = { source: request.imageBytes, filename: `image.${FILE_EXTENSIONS[request.body.image.mimeType] ?? 'png'}` };
        if (text.length <= TELEGRAM_MAX_CAPTION_LENGTH) {
          const sent = await call('sendPhoto', { chat_id: chatId, photo, ...(text ? { caption: text } : {}), ...(replyMarkup ? { reply_markup: replyMarkup } : {}) });
          return { providerMessageId: providerIdOf(chatId, sent) };
        }
        // Too long for a caption: the photo with its alternative text, then the text and the buttons.
        await call('sendPhoto', { chat_id: chatId, photo, caption: request.body.image.alt.slice(0, TELEGRAM_MAX_CAPTION_LENGTH) });
      }
      const sent = await call('sendMessage', { chat_id: chatId, text, ...(replyMarkup ? { reply_markup: replyMarkup } : {}) });
      return { providerMessageId: providerIdOf(chatId, sent) };
    },
  };
}

/** Telegram numbers messages per chat (every chat has a message 1): the chat makes the id unique per bot. */
const providerIdOf = (chatId: number | string, message: { message_id: number }) => `${chatId}/${message.message_id}`;

/** Private chats have numeric ids; anything else (a @channel name) goes as written. */
function chatIdOf(recipient: string): number | string {
  if (/^-?\d+$/.test(recipient)) {
    const numeric = Number(recipient);
    if (Number.isSafeInteger(numeric)) return numeric;
  }
  return recipient;
}

function inlineKeyboardOf(body: OutboundMessageBody): { inline_keyboard: { text: string; callback_data: string }[][] } | undefined {
  if (!body.choices || body.choices.length === 0) return undefined;
  for (const choice of body.choices) {
    if (Buffer.byteLength(choice.id, 'utf8') > TELEGRAM_MAX_CALLBACK_DATA_BYTES) {
      throw new ChannelSendError(`choice id longer than ${TELEGRAM_MAX_CALLBACK_DATA_BYTES} bytes cannot be a Telegram button`, { permanent: true });
    }
  }
  // One button per row: labels such as "1 jour — 500 FCFA" stay readable on a phone.
  return { inline_keyboard: body.choices.map((choice) => [{ text: choice.label, callback_data: choice.id }]) };
}

function toSendError(error: unknown): ChannelSendError {
  if (error instanceof ChannelSendError) return error;
  if (error instanceof TelegramError) {
    const code = error.code;
    const what = `Telegram ${code}: ${String(error.description ?? '').slice(0, 200)}`;
    if (code === 429) {
      const retryAfterSeconds = Number(error.parameters?.retry_after ?? 1);
      return new ChannelSendError(what, { permanent: false, retryAfterMs: Math.max(1, retryAfterSeconds) * 1000 });
    }
    // 401/404: the token was refused, a configuration the tenant can fix, so the message waits.
    if (code >= 500 || code === 401 || code === 404) return new ChannelSendError(what, { permanent: false });
    // 400 (chat not found, bad request), 403 (bot blocked, kicked): sending again cannot succeed.
    return new ChannelSendError(what, { permanent: true });
  }
  const name = error instanceof Error ? error.name : 'Error';
  if (name === 'AbortError' || name === 'TimeoutError') return new ChannelSendError('Telegram did not answer in time', { permanent: false });
  const code = (error as { code?: unknown } | null)?.code;
  // Only the error code: a network error's message quotes the URL, and the URL holds the token.
  return new ChannelSendError(`Telegram unreachable${typeof code === 'string' ? ` (${code})` : ''}`, { permanent: false });
}
