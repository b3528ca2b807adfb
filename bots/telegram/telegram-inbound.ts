import { timingSafeEqual } from 'node:crypto';
import { Telegram, TelegramError } from 'telegraf';
import { z } from 'zod';
import {
  AppError,
  findChannelAccountRoute,
  handleInboundMessage,
  loadChannelAccount,
  type ChannelAccountWithSecrets,
  type Clock,
  type FileStore,
  type InboundFile,
  type SecretBox,
} from '@relais/core';
import type { Database } from '@relais/db';
import { downloadInboundFile, FileUnavailableError, isFinalRefusal } from '../shared/download-inbound-file.js';
import { TELEGRAM_CAPABILITIES } from './telegram-capabilities.js';

/** The parts of a Telegram Update we read (https://core.telegram.org/bots/api#update); others pass. */
const telegramUser = z.looseObject({ id: z.number().int(), first_name: z.string().optional(), last_name: z.string().optional(), language_code: z.string().optional() });
const telegramChat = z.looseObject({ id: z.number().int(), type: z.string() });
const telegramFile = z.looseObject({ file_id: z.string().min(1), file_size: z.number().int().nonnegative().optional() });
export const telegramUpdateSchema = z.looseObject({
  update_id: z.number().int(),
  message: z
    .looseObject({
      message_id: z.number().int(),
      date: z.number().int(),
      chat: telegramChat,
      from: telegramUser.optional(),
      text: z.string().optional(),
      caption: z.string().optional(),
      /** The same photo in several sizes, smallest first. */
      photo: z.array(telegramFile).optional(),
      document: telegramFile.extend({ file_name: z.string().optional() }).optional(),
      voice: telegramFile.optional(),
    })
    .optional(),
  callback_query: z
    .looseObject({
      id: z.string(),
      from: telegramUser,
      data: z.string().optional(),
      message: z.looseObject({ chat: telegramChat }).optional(),
    })
    .optional(),
});
export type TelegramUpdate = z.output<typeof telegramUpdateSchema>;

/** A sticker, a location... has no text: the engine answers an empty input politely. */
const NOT_TEXT = '';

export interface TelegramInboundResult {
  handled: boolean;
  /** The callback query to acknowledge (the button's spinner), with what it takes to do so. */
  callback?: { callbackQueryId: string; botToken: string; apiRoot?: string };
}

/**
 * A webhook call: checks the secret token first (constant time) — a wrong one is UNAUTHENTICATED
 * and nothing is stored — then receives the update.
 */
export async function handleTelegramUpdate(
  deps: { db: Database; clock: Clock; secrets: SecretBox; fileStore: FileStore },
  options: { channelAccountId: string; secretToken: string | undefined; update: unknown },
): Promise<TelegramInboundResult> {
  const { tenantId } = await findChannelAccountRoute(deps, options.channelAccountId);
  const account = await loadChannelAccount(deps, { tenantId, channelAccountId: options.channelAccountId });
  if (account.kind !== 'telegram') throw new AppError('NOT_FOUND', 'no such Telegram channel');
  if (!secretMatches(account.secrets.webhookSecret, options.secretToken)) throw new AppError('UNAUTHENTICATED', 'wrong webhook secret token');
  return receiveTelegramUpdate(deps, account, options.update);
}

/**
 * Translates one Telegram update of a channel account (from the webhook or from long polling)
 * into the conversation engine's inbound message. Updates with no customer input (edits, joins)
 * are ignored; private chats only (a group is not a customer conversation). A photo (its largest
 * size), a document or a voice note is downloaded with getFile (capped: see downloadInboundFile),
 * its caption as the text.
 */
export async function receiveTelegramUpdate(deps: { db: Database; clock: Clock; fileStore: FileStore }, account: ChannelAccountWithSecrets, rawUpdate: unknown): Promise<TelegramInboundResult> {
  const parsed = telegramUpdateSchema.safeParse(rawUpdate);
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', 'not a Telegram update');
  const update = parsed.data;

  const input = update.message
    ? { chat: update.message.chat, from: update.message.from, text: update.message.text ?? NOT_TEXT, date: update.message.date }
    : update.callback_query?.message && update.callback_query.data !== undefined
      ? { chat: update.callback_query.message.chat, from: update.callback_query.from, text: update.callback_query.data, date: undefined }
      : undefined;
  const apiRoot = typeof account.settings.apiRoot === 'string' ? account.settings.apiRoot : undefined;
  const callback = update.callback_query && account.secrets.botToken ? { callbackQueryId: update.callback_query.id, botToken: account.secrets.botToken, apiRoot } : undefined;
  if (!input || input.chat.type !== 'private') return { handled: false, callback };
  const media = update.message ? mediaOf(update.message) : undefined;
  const file = media ? await downloadTelegramFile(account, apiRoot, media) : undefined;
  // A file Telegram will never give (unknown, too big for bots) goes on as its caption alone.

  await handleInboundMessage(deps, {
    tenantId: account.tenantId,
    channelAccountId: account.id,
    sender: { externalId: String(input.chat.id), name: [input.from?.first_name, input.from?.last_name].filter(Boolean).join(' ') || undefined },
    // update_id is unique per bot and the same on Telegram's retries of one update.
    providerMessageId: `update:${update.update_id}`,
    text: media ? (update.message?.caption ?? NOT_TEXT) : input.text,
    ...(file ? { file } : {}),
    receivedAt: input.date ? new Date(input.date * 1000) : deps.clock.now(),
    capabilities: TELEGRAM_CAPABILITIES,
  });
  return { handled: true, callback };
}

type TelegramMessage = NonNullable<TelegramUpdate['message']>;

/** The file a message carries, if any: the largest size of a photo (Telegram lists them smallest first). */
function mediaOf(message: TelegramMessage): { fileId: string; size?: number; fileName?: string } | undefined {
  const photo = message.photo?.at(-1);
  if (photo) return { fileId: photo.file_id, size: photo.file_size, fileName: 'photo.jpg' };
  if (message.document) return { fileId: message.document.file_id, size: message.document.file_size, fileName: message.document.file_name };
  if (message.voice) return { fileId: message.voice.file_id, size: message.voice.file_size, fileName: 'voice.ogg' };
  return undefined;
}

/**
 * getFile, then the download from Telegram's file URL (it holds the bot token: never in an
 * error). Undefined when Telegram refuses for good; other failures throw, so the update comes again.
 */
async function downloadTelegramFile(account: ChannelAccountWithSecrets, apiRoot: string | undefined, media: { fileId: string; size?: number; fileName?: string }): Promise<InboundFile | undefined> {
  const botToken = account.secrets.botToken;
  if (!botToken) throw new AppError('NOT_FOUND', 'the Telegram channel has no bot token');
  const fileUrl = async () => {
    const telegram = new Telegram(botToken, { ...(apiRoot ? { apiRoot } : {}), webhookReply: false });
    try {
      return await telegram.getFileLink(media.fileId);
    } catch (error) {
      const message = `Telegram getFile failed (${error instanceof Error ? error.name : 'error'})`;
      throw error instanceof TelegramError && isFinalRefusal(error.code) ? new FileUnavailableError(message) : new Error(message);
    }
  };
  try {
    return await downloadInboundFile({ url: fileUrl, declaredSize: media.size, fileName: media.fileName });
  } catch (error) {
    if (error instanceof FileUnavailableError) return undefined;
    throw error;
  }
}

function secretMatches(expected: string | undefined, given: string | undefined): boolean {
  // An account without a webhook secret accepts no webhook at all: never an open endpoint.
  if (!expected || given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Stops the spinner on the button the customer pressed. Best effort: the answer already goes out
 * as a message, so a failure here is logged by the caller and changes nothing else.
 */
export async function answerTelegramCallback(options: { botToken: string; apiRoot?: string; callbackQueryId: string }): Promise<void> {
  const telegram = new Telegram(options.botToken, { ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}), webhookReply: false });
  await telegram.answerCbQuery(options.callbackQueryId);
}
