import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  answerControl,
  BodyTooLargeError,
  ControlError,
  readControlJson,
  FailNextQueue,
  imageInfo,
  InFlight,
  listen,
  readFields,
  readRawBody,
  sendJson,
  TimerSet,
  TokenBucket,
  waitFor,
  type FieldValue,
} from '../http-kit/http-kit.js';
import {
  botApiParams,
  inlineButtonSchema,
  simBotSchema,
  telegramFaultsSchema,
  telegramSimulatorOptionsSchema,
  type SimBot,
  type TelegramFailNext,
  type TelegramSimulatorFaults,
  type TelegramSimulatorOptions,
} from './telegram-sim-schemas.js';
import type { TgCallbackQuery, TgChat, TgInlineButton, TgMessage, TgPhotoSize, TgUpdate, TgUser } from './telegram-types.js';

/**
 * The Telegram Bot API over real HTTP, for telegraf's `apiRoot`: several bots (tokens) at once,
 * the methods Relais uses, webhooks (with the secret-token header) or long polling, Telegram's
 * error answers and rate limits. Simulated users write and press buttons through the handle.
 *
 * Differences from Telegram, on purpose: plain-HTTP webhook URLs are accepted (allowHttpWebhooks),
 * photos sent by URL are recorded, not downloaded, and one size is returned per photo.
 * Files users send (photos, documents) are served by getFile and /file/bot<token>/<file_path>;
 * getFile refuses files over 20 MB, as Telegram's Bot API does.
 */

export interface SimUserInput {
  chatId: number;
  /** Defaults: id = chatId, first name "Client". */
  from?: { id?: number; firstName?: string; lastName?: string; username?: string; languageCode?: string };
  text?: string;
  /** A photo the user sends (the bot gets it with getFile); `text` becomes its caption. */
  photo?: Buffer;
  /** A file the user sends as a document (any bytes); `text` becomes its caption. */
  document?: { bytes: Buffer; fileName?: string; mimeType?: string };
}

export interface PressButtonInput {
  chatId: number;
  callbackData: string;
  /** The message carrying the button; default the latest one in the chat with that callback_data. */
  messageId?: number;
  from?: SimUserInput['from'];
}

export interface SentPhoto {
  fileId: string;
  /** How the bot gave it: uploaded bytes, a file_id sent before, or a URL. */
  source: 'upload' | 'file_id' | 'url';
  bytes?: Buffer;
  size?: number;
  width?: number;
  height?: number;
  fileName?: string;
  url?: string;
}

export interface SentMessage {
  messageId: number;
  chatId: number;
  method: 'sendMessage' | 'sendPhoto';
  text?: string;
  caption?: string;
  parseMode?: string;
  /** reply_markup as it stands now (after edits). */
  replyMarkup?: Record<string, unknown>;
  /** The inline keyboard, if any, as it stands now. */
  inlineKeyboard?: TgInlineButton[][];
  photo?: SentPhoto;
  /** editMessageReplyMarkup calls applied to this message. */
  edits: number;
  date: number;
}

export interface CallbackAnswer {
  callbackQueryId: string;
  text?: string;
  showAlert?: boolean;
}

export interface WebhookDelivery {
  updateId: number;
  url: string;
  outcome: 'accepted' | 'rejected' | 'failed';
  status?: number;
  error?: string;
  at: string;
}

export interface TelegramApiRequest {
  bot: string;
  method: string;
  status: number;
  at: string;
}

export interface WebhookInfo {
  url: string;
  secretToken?: string;
  maxConnections?: number;
  allowedUpdates?: unknown;
}

export interface TelegramSimulator {
  /** What telegraf takes as `apiRoot`, e.g. http://127.0.0.1:43210 */
  apiRoot: string;
  port: number;
  addBot(bot: SimBot): { id: number; username: string };
  /** A user writes to the bot: the Update goes to the webhook (resolves once accepted) or waits for getUpdates. */
  sendUserMessage(token: string, input: SimUserInput): Promise<TgUpdate>;
  /** A user presses an inline button the bot sent: a callback_query Update, delivered like a message. */
  pressButton(token: string, input: PressButtonInput): Promise<TgUpdate>;
  /** The user blocks the bot: sending to the chat then fails with 403. */
  blockBot(token: string, chatId: number): void;
  /** What the bot sent, oldest first (all chats when chatId is absent). */
  sent(token: string, chatId?: number): SentMessage[];
  /** Resolves once the bot has sent at least `count` messages (in the chat, if given). */
  waitForSent(token: string, options?: { chatId?: number; count?: number; timeoutMs?: number }): Promise<SentMessage[]>;
  /** Resolves once a getUpdates call of this bot is being held (the bot is long polling). */
  waitForPolling(token: string, timeoutMs?: number): Promise<void>;
  callbackAnswers(token: string): CallbackAnswer[];
  webhook(token: string): WebhookInfo | undefined;
  webhookDeliveries(token: string): WebhookDelivery[];
  /** Updates queued for getUpdates or a webhook, not yet confirmed. */
  pendingUpdates(token: string): TgUpdate[];
  requests(): TelegramApiRequest[];
  /** Merges into the faults in force (null/0 clears a field). */
  setFaults(faults: TelegramSimulatorFaults): void;
  /** Downloads of users' files through /file/bot<token>/<file_path>, oldest first. */
  fileDownloads(token: string): { filePath: string; bytes: number }[];
  /** Resolves once no webhook delivery is under way. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

class BotApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: Record<string, unknown>,
  ) {
    super(`${code}: ${description}`);
  }
}

const badRequest = (what: string) => new BotApiError(400, `Bad Request: ${what}`);
const WEBHOOK_TIMEOUT_MS = 10_000;
const MAX_LONG_POLL_SECONDS = 50;
const MAX_TEXT_LENGTH = 4096;
const MAX_CAPTION_LENGTH = 1024;
const MAX_CALLBACK_DATA_BYTES = 64;
/** The Bot API serves files up to 20 MB to bots. */
const MAX_GET_FILE_BYTES = 20 * 1024 * 1024;
const SECRET_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

interface Poller {
  response: ServerResponse;
  limit: number;
  timer: NodeJS.Timeout;
}

interface StoredFile {
  fileId: string;
  uniqueId: string;
  bytes?: Buffer;
  width: number;
  height: number;
  size?: number;
  /** Where getFile says the file is (photos/..., documents/...). */
  filePath: string;
}

interface ChatState {
  chat: TgChat;
  user: TgUser;
  nextMessageId: number;
  blocked: boolean;
  bucket?: TokenBucket;
}

interface BotState {
  token: string;
  user: TgUser;
  webhook?: WebhookInfo;
  updates: TgUpdate[];
  nextUpdateId: number;
  poller?: Poller;
  delivering: boolean;
  deliveries: WebhookDelivery[];
  /** update_id -> resolvers waiting for the webhook to accept it (or for it to be queued). */
  waiting: Map<number, () => void>;
  chats: Map<number, ChatState>;
  sent: SentMessage[];
  /** Messages as Telegram stores them, by chat then message id (for callback queries and edits). */
  messages: Map<string, TgMessage>;
  callbackQueries: Map<string, { answered: boolean }>;
  answers: CallbackAnswer[];
  files: Map<string, StoredFile>;
  downloads: { filePath: string; bytes: number }[];
  bucket?: TokenBucket;
}

/** A copy for callers; structuredClone would turn Buffers into plain Uint8Arrays. */
function copySent(entry: SentMessage): SentMessage {
  const { photo, ...rest } = entry;
  const copy: SentMessage = structuredClone(rest);
  if (photo) copy.photo = { ...photo, ...(photo.bytes ? { bytes: Buffer.from(photo.bytes) } : {}) };
  return copy;
}

const controlFromSchema = z.strictObject({ id: z.number().int().optional(), firstName: z.string().optional(), lastName: z.string().optional(), username: z.string().optional(), languageCode: z.string().optional() }).optional();
const controlMessageSchema = z.strictObject({ token: z.string(), chatId: z.number().int(), text: z.string().min(1), from: controlFromSchema });
const controlPressSchema = z.strictObject({ token: z.string(), chatId: z.number().int(), callbackData: z.string().min(1), messageId: z.number().int().optional(), from: controlFromSchema });

const messageKey = (chatId: number, messageId: number) => `${chatId}/${messageId}`;
const randomFileId = () => `AgACAgQAAxkBAA${randomBytes(24).toString('base64url')}`;

function botCommandEntities(text: string): TgMessage['entities'] {
  const command = /^\/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?/.exec(text);
  return command ? [{ offset: 0, length: command[0].length, type: 'bot_command' }] : undefined;
}

function parseParams<Schema extends z.ZodType>(schema: Schema, params: Record<string, unknown>): z.output<Schema> {
  const parsed = schema.safeParse(params);
  if (parsed.success) return parsed.data;
  const field = String(parsed.error.issues[0]?.path[0] ?? 'parameters');
  // Telegram's wording for missing/invalid parameters.
  throw badRequest(params[field] === undefined ? `${field} is empty` : `invalid ${field}`);
}

export async function startTelegramSimulator(input: TelegramSimulatorOptions = {}): Promise<TelegramSimulator> {
  const options = telegramSimulatorOptionsSchema.parse(input);
  const nowMs = options.now ?? Date.now;
  const unixNow = () => Math.floor(nowMs() / 1000);
  let faults = telegramFaultsSchema.parse(options.faults);
  const failNext = new FailNextQueue<TelegramFailNext>();
  failNext.set(faults.failNext ?? null);
  const bots = new Map<string, BotState>();
  const requestLog: TelegramApiRequest[] = [];
  /** token -> the last failed webhook delivery, for getWebhookInfo. */
  const lastWebhookError = new Map<string, { date: number; message: string }>();
  const timers = new TimerSet();
  const inFlight = new InFlight();
  const listeners = new Set<() => void>();
  let closed = false;
  const closing = new AbortController();
  const changed = () => {
    for (const listener of [...listeners]) listener();
  };

  function addBot(bot: SimBot): { id: number; username: string } {
    const parsed = simBotSchema.parse(bot);
    const id = Number(parsed.token.split(':')[0]);
    const username = parsed.username ?? `sim_${id}_bot`;
    bots.set(parsed.token, {
      token: parsed.token,
      user: { id, is_bot: true, first_name: parsed.firstName ?? 'Relais Sim', username },
      updates: [],
      nextUpdateId: 100_000 + Math.floor(Math.random() * 100_000),
      delivering: false,
      deliveries: [],
      waiting: new Map(),
      chats: new Map(),
      sent: [],
      messages: new Map(),
      callbackQueries: new Map(),
      answers: [],
      files: new Map(),
      downloads: [],
      bucket: options.rateLimits ? new TokenBucket(options.rateLimits.perBot.perSecond, options.rateLimits.perBot.burst, nowMs) : undefined,
    });
    return { id, username };
  }
  for (const bot of options.bots) addBot(bot);

  function botOf(token: string): BotState {
    const bot = bots.get(token);
    if (!bot) throw new Error(`Telegram simulator: no bot with token ${token.split(':')[0]}:...`);
    return bot;
  }

  function chatOf(bot: BotState, chatId: number, from?: SimUserInput['from']): ChatState {
    let state = bot.chats.get(chatId);
    if (!state) {
      const user: TgUser = {
        id: from?.id ?? chatId,
        is_bot: false,
        first_name: from?.firstName ?? 'Client',
        ...(from?.lastName ? { last_name: from.lastName } : {}),
        ...(from?.username ? { username: from.username } : {}),
        language_code: from?.languageCode ?? 'fr',
      };
      const chat: TgChat = { id: chatId, type: 'private', first_name: user.first_name, ...(user.last_name ? { last_name: user.last_name } : {}), ...(user.username ? { username: user.username } : {}) };
      state = {
        chat,
        user,
        nextMessageId: 1,
        blocked: false,
        bucket: options.rateLimits ? new TokenBucket(options.rateLimits.perChat.perSecond, options.rateLimits.perChat.burst, nowMs) : undefined,
      };
      bot.chats.set(chatId, state);
    }
    return state;
  }

  // ---- update delivery: webhook or getUpdates --------------------------------------------------

  function enqueue(bot: BotState, build: (updateId: number) => TgUpdate): Promise<TgUpdate> {
    const update = build(bot.nextUpdateId++);
    bot.updates.push(update);
    const accepted = new Promise<void>((resolve) => bot.waiting.set(update.update_id, resolve));
    if (bot.webhook) startWebhookDelivery(bot);
    else {
      bot.waiting.get(update.update_id)?.();
      bot.waiting.delete(update.update_id);
      answerPoller(bot);
    }
    return accepted.then(() => update);
  }

  function startWebhookDelivery(bot: BotState): void {
    if (bot.delivering || closed) return;
    bot.delivering = true;
    void inFlight.track(deliverToWebhook(bot));
  }

  /** Sends queued updates one at a time, in order; a rejected update is retried before the next. */
  async function deliverToWebhook(bot: BotState): Promise<void> {
    while (!closed && bot.webhook && bot.updates.length > 0) {
      const update = bot.updates[0]!;
      const { url, secretToken } = bot.webhook;
      const entry: WebhookDelivery = { updateId: update.update_id, url, outcome: 'failed', at: new Date().toISOString() };
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(secretToken ? { 'X-Telegram-Bot-Api-Secret-Token': secretToken } : {}) },
          body: JSON.stringify(update),
          signal: AbortSignal.any([closing.signal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
        });
        await response.arrayBuffer();
        entry.status = response.status;
        entry.outcome = response.ok ? 'accepted' : 'rejected';
      } catch (error) {
        entry.error = (error as Error).message;
      }
      bot.deliveries.push(entry);
      if (entry.outcome === 'accepted') {
        if (bot.updates[0] === update) bot.updates.shift();
        bot.waiting.get(update.update_id)?.();
        bot.waiting.delete(update.update_id);
        changed();
      } else {
        // Telegram keeps the update and tries again later; getWebhookInfo shows the last error.
        if (bot.webhook) {
          lastWebhookError.set(bot.token, { date: unixNow(), message: entry.status ? `Wrong response from the webhook: ${entry.status}` : `Connection failed: ${entry.error}` });
        }
        await timers.pause(options.webhookRetryMs);
      }
    }
    // Cleared in the same turn as the last queue check, so an update queued right after still starts a loop.
    bot.delivering = false;
  }

  function answerPoller(bot: BotState): void {
    const poller = bot.poller;
    if (!poller || bot.updates.length === 0) return;
    bot.poller = undefined;
    clearTimeout(poller.timer);
    sendJson(poller.response, 200, { ok: true, result: bot.updates.slice(0, poller.limit) });
  }

  // ---- Bot API methods -------------------------------------------------------------------------

  function requireChat(bot: BotState, chatId: number): ChatState {
    const chat = bot.chats.get(chatId);
    if (!chat) {
      if (options.requireKnownChat) throw badRequest('chat not found');
      return chatOf(bot, chatId);
    }
    if (chat.blocked) throw new BotApiError(403, 'Forbidden: bot was blocked by the user');
    return chat;
  }

  function rateLimit(bot: BotState, chat: ChatState): void {
    if (!bot.bucket || !chat.bucket) return;
    const waitSeconds = Math.max(bot.bucket.waitSeconds(), chat.bucket.waitSeconds());
    if (waitSeconds > 0) {
      const retryAfter = Math.max(1, Math.ceil(waitSeconds));
      throw new BotApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
    }
    bot.bucket.take();
    chat.bucket.take();
  }

  function inlineKeyboardOf(markup: Record<string, unknown> | undefined): TgInlineButton[][] | undefined {
    if (!markup || markup.inline_keyboard === undefined) return undefined;
    const rows = markup.inline_keyboard;
    if (!Array.isArray(rows) || !rows.every(Array.isArray)) throw badRequest("field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array of Arrays");
    return rows.map((row: unknown[]) =>
      row.map((raw) => {
        const button = inlineButtonSchema.safeParse(raw);
        if (!button.success) throw badRequest("can't parse inline keyboard button: Field \"text\" must be of type String");
        const { text, callback_data: callbackData, url } = button.data;
        if (callbackData === undefined && url === undefined) throw badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
        if (callbackData !== undefined && (callbackData.length === 0 || Buffer.byteLength(callbackData) > MAX_CALLBACK_DATA_BYTES)) throw badRequest('BUTTON_DATA_INVALID');
        return { text, ...(callbackData !== undefined ? { callback_data: callbackData } : {}), ...(url !== undefined ? { url } : {}) };
      }),
    );
  }

  function storeFile(bot: BotState, bytes: Buffer | undefined, width: number, height: number, document?: { fileName?: string }): StoredFile {
    const uniqueId = createHash('sha256').update(bytes ?? randomBytes(8)).digest('base64url').slice(0, 16);
    const extension = /\.([A-Za-z0-9]{1,8})$/.exec(document?.fileName ?? '')?.[1];
    const file: StoredFile = {
      fileId: randomFileId(),
      uniqueId,
      bytes,
      width,
      height,
      size: bytes?.length,
      filePath: document ? `documents/file_${bot.files.size}${extension ? `.${extension}` : ''}` : `photos/${uniqueId}.jpg`,
    };
    bot.files.set(file.fileId, file);
    return file;
  }

  const photoSize = (file: StoredFile): TgPhotoSize => ({
    file_id: file.fileId,
    file_unique_id: file.uniqueId,
    width: file.width,
    height: file.height,
    ...(file.size !== undefined ? { file_size: file.size } : {}),
  });

  function resolvePhoto(bot: BotState, photo: unknown): { sent: SentPhoto; file: StoredFile } {
    if (photo && typeof photo === 'object' && 'bytes' in photo) {
      const upload = photo as Exclude<FieldValue, string>;
      const info = imageInfo(upload.bytes);
      if (!info) throw badRequest('IMAGE_PROCESS_FAILED');
      const file = storeFile(bot, upload.bytes, info.width, info.height);
      return { file, sent: { fileId: file.fileId, source: 'upload', bytes: upload.bytes, size: upload.bytes.length, width: info.width, height: info.height, fileName: upload.fileName } };
    }
    if (typeof photo === 'string' && /^https?:\/\//.test(photo)) {
      const file = storeFile(bot, undefined, 0, 0);
      return { file, sent: { fileId: file.fileId, source: 'url', url: photo } };
    }
    if (typeof photo === 'string' && photo !== '') {
      const file = bot.files.get(photo);
      if (!file) throw badRequest('wrong file identifier/HTTP URL specified');
      return { file, sent: { fileId: file.fileId, source: 'file_id', bytes: file.bytes, size: file.size, width: file.width, height: file.height } };
    }
    throw badRequest('there is no photo in the request');
  }

  function recordSent(bot: BotState, chat: ChatState, sent: Omit<SentMessage, 'messageId' | 'chatId' | 'edits' | 'date'>, body: Partial<TgMessage>): TgMessage {
    const message: TgMessage = { message_id: chat.nextMessageId++, from: bot.user, chat: chat.chat, date: unixNow(), ...body };
    bot.messages.set(messageKey(chat.chat.id, message.message_id), message);
    bot.sent.push({ ...sent, messageId: message.message_id, chatId: chat.chat.id, edits: 0, date: message.date });
    changed();
    return message;
  }

  function sendMessage(bot: BotState, params: Record<string, unknown>): TgMessage {
    const p = parseParams(botApiParams.sendMessage, params);
    const chat = requireChat(bot, p.chat_id);
    if (p.text.trim() === '') throw badRequest('message text is empty');
    if (p.text.length > MAX_TEXT_LENGTH) throw badRequest('message is too long');
    const keyboard = inlineKeyboardOf(p.reply_markup);
    rateLimit(bot, chat);
    return recordSent(
      bot,
      chat,
      { method: 'sendMessage', text: p.text, parseMode: p.parse_mode, replyMarkup: p.reply_markup, inlineKeyboard: keyboard },
      { text: p.text, ...(keyboard ? { reply_markup: { inline_keyboard: keyboard } } : {}) },
    );
  }

  function sendPhoto(bot: BotState, params: Record<string, unknown>): TgMessage {
    const p = parseParams(botApiParams.sendPhoto, params);
    const chat = requireChat(bot, p.chat_id);
    if (p.caption !== undefined && p.caption.length > MAX_CAPTION_LENGTH) throw badRequest('message caption is too long');
    const keyboard = inlineKeyboardOf(p.reply_markup);
    const { sent, file } = resolvePhoto(bot, p.photo);
    rateLimit(bot, chat);
    return recordSent(
      bot,
      chat,
      { method: 'sendPhoto', caption: p.caption, parseMode: p.parse_mode, replyMarkup: p.reply_markup, inlineKeyboard: keyboard, photo: sent },
      { photo: [photoSize(file)], ...(p.caption ? { caption: p.caption } : {}), ...(keyboard ? { reply_markup: { inline_keyboard: keyboard } } : {}) },
    );
  }

  function answerCallbackQuery(bot: BotState, params: Record<string, unknown>): true {
    const p = parseParams(botApiParams.answerCallbackQuery, params);
    const query = bot.callbackQueries.get(p.callback_query_id);
    if (!query || query.answered) throw badRequest('query is too old and response timeout expired or query ID is invalid');
    query.answered = true;
    bot.answers.push({ callbackQueryId: p.callback_query_id, text: p.text, showAlert: p.show_alert });
    changed();
    return true;
  }

  function editMessageReplyMarkup(bot: BotState, params: Record<string, unknown>): TgMessage {
    const p = parseParams(botApiParams.editMessageReplyMarkup, params);
    const message = bot.messages.get(messageKey(p.chat_id, p.message_id));
    const record = bot.sent.find((entry) => entry.chatId === p.chat_id && entry.messageId === p.message_id);
    if (!message || !record) throw badRequest('message to edit not found');
    const keyboard = inlineKeyboardOf(p.reply_markup);
    if (JSON.stringify(keyboard ?? null) === JSON.stringify(message.reply_markup?.inline_keyboard ?? null)) {
      throw badRequest('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
    }
    if (keyboard) message.reply_markup = { inline_keyboard: keyboard };
    else delete message.reply_markup;
    message.edit_date = unixNow();
    record.replyMarkup = p.reply_markup;
    record.inlineKeyboard = keyboard;
    record.edits += 1;
    changed();
    return message;
  }

  function setWebhook(bot: BotState, params: Record<string, unknown>): { result: true; description: string } {
    const p = parseParams(botApiParams.setWebhook, params);
    if (p.url === '') return deleteWebhook(bot, {});
    if (!/^https?:\/\//.test(p.url) || (!options.allowHttpWebhooks && !p.url.startsWith('https://'))) {
      throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
    }
    if (p.secret_token !== undefined && !SECRET_TOKEN_PATTERN.test(p.secret_token)) throw badRequest('secret token contains unallowed characters');
    if (p.drop_pending_updates) bot.updates = [];
    cancelPoller(bot, 409, 'Conflict: terminated by setWebhook request');
    bot.webhook = { url: p.url, secretToken: p.secret_token, maxConnections: p.max_connections, allowedUpdates: p.allowed_updates };
    lastWebhookError.delete(bot.token);
    startWebhookDelivery(bot);
    return { result: true, description: 'Webhook was set' };
  }

  function deleteWebhook(bot: BotState, params: Record<string, unknown>): { result: true; description: string } {
    const p = parseParams(botApiParams.deleteWebhook, params);
    if (p.drop_pending_updates) bot.updates = [];
    const had = bot.webhook !== undefined;
    bot.webhook = undefined;
    lastWebhookError.delete(bot.token);
    // Updates that were waiting for the webhook are now waiting for getUpdates.
    for (const resolve of bot.waiting.values()) resolve();
    bot.waiting.clear();
    return { result: true, description: had ? 'Webhook was deleted' : 'Webhook is already deleted' };
  }

  function getWebhookInfo(bot: BotState): unknown {
    const error = lastWebhookError.get(bot.token);
    return {
      url: bot.webhook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: bot.updates.length,
      ...(bot.webhook?.maxConnections !== undefined ? { max_connections: bot.webhook.maxConnections } : {}),
      ...(error ? { last_error_date: error.date, last_error_message: error.message } : {}),
    };
  }

  function cancelPoller(bot: BotState, code: number, description: string): void {
    const poller = bot.poller;
    if (!poller) return;
    bot.poller = undefined;
    clearTimeout(poller.timer);
    sendJson(poller.response, code, { ok: false, error_code: code, description });
  }

  /** Long polling: answers at once when updates wait, else holds the request up to `timeout` seconds. */
  function getUpdates(bot: BotState, params: Record<string, unknown>, response: ServerResponse): 'held' | TgUpdate[] {
    if (bot.webhook) throw new BotApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    const p = parseParams(botApiParams.getUpdates, params);
    const offset = p.offset ?? 0;
    // An offset confirms every update before it; a negative one keeps only the last -offset updates.
    if (offset > 0) bot.updates = bot.updates.filter((update) => update.update_id >= offset);
    else if (offset < 0) bot.updates = bot.updates.slice(offset);
    const limit = Math.min(Math.max(p.limit ?? 100, 1), 100);
    cancelPoller(bot, 409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
    const timeoutSeconds = Math.min(Math.max(p.timeout ?? 0, 0), MAX_LONG_POLL_SECONDS);
    if (bot.updates.length > 0 || timeoutSeconds === 0) return bot.updates.slice(0, limit);
    const poller: Poller = {
      response,
      limit,
      timer: setTimeout(() => {
        if (bot.poller !== poller) return;
        bot.poller = undefined;
        sendJson(response, 200, { ok: true, result: [] });
      }, timeoutSeconds * 1000),
    };
    bot.poller = poller;
    changed();
    // The client gave up (telegraf's stop() aborts the request): forget it.
    response.on('close', () => {
      if (bot.poller !== poller) return;
      clearTimeout(poller.timer);
      bot.poller = undefined;
    });
    return 'held';
  }

  function getFile(bot: BotState, params: Record<string, unknown>): unknown {
    const p = parseParams(botApiParams.getFile, params);
    const file = bot.files.get(p.file_id);
    if (!file?.bytes) throw badRequest('wrong file_id or the file is temporarily unavailable');
    if (file.bytes.length > MAX_GET_FILE_BYTES) throw badRequest('file is too big');
    return { file_id: file.fileId, file_unique_id: file.uniqueId, file_size: file.size, file_path: file.filePath };
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  async function requestParams(request: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
    const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
    const raw = await readRawBody(request);
    try {
      for (const [key, value] of await readFields(request, raw)) params[key] = value;
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw new BotApiError(413, 'Request Entity Too Large');
      throw badRequest('unsupported request body');
    }
    return params;
  }

  async function callMethod(bot: BotState, method: string, params: Record<string, unknown>, response: ServerResponse): Promise<{ result: unknown; description?: string } | 'held'> {
    switch (method) {
      case 'getme':
        return { result: { ...bot.user, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false } };
      case 'sendmessage':
        return { result: sendMessage(bot, params) };
      case 'sendphoto':
        return { result: sendPhoto(bot, params) };
      case 'answercallbackquery':
        return { result: answerCallbackQuery(bot, params) };
      case 'editmessagereplymarkup':
        return { result: editMessageReplyMarkup(bot, params) };
      case 'setwebhook':
        return setWebhook(bot, params);
      case 'deletewebhook':
        return deleteWebhook(bot, params);
      case 'getwebhookinfo':
        return { result: getWebhookInfo(bot) };
      case 'getupdates': {
        const updates = getUpdates(bot, params, response);
        return updates === 'held' ? 'held' : { result: updates };
      }
      case 'getfile':
        return { result: getFile(bot, params) };
      default:
        throw new BotApiError(404, 'Not Found');
    }
  }

  async function handleFileDownload(response: ServerResponse, token: string, filePath: string): Promise<void> {
    const bot = bots.get(token);
    const file = bot ? [...bot.files.values()].find((candidate) => candidate.filePath === filePath && candidate.bytes) : undefined;
    if (!bot || !file?.bytes) return sendJson(response, 404, { ok: false, error_code: 404, description: 'Not Found' });
    bot.downloads.push({ filePath, bytes: file.bytes.length });
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(file.bytes.length) });
    response.end(file.bytes);
  }

  /** /_sim/... : the same controls as the handle, over HTTP, for `relais sim telegram`. */
  async function handleControl(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const botOrThrow = (token: string) => {
      if (!bots.has(token)) throw new ControlError(404, 'unknown bot token');
      return botOf(token);
    };
    await answerControl(response, async () => {
      const route = `${request.method} ${url.pathname}`;
      if (route === 'POST /_sim/messages') {
        const body = await readControlJson(request, controlMessageSchema);
        return userMessage(botOrThrow(body.token), { chatId: body.chatId, text: body.text, from: body.from });
      }
      if (route === 'POST /_sim/presses') {
        const body = await readControlJson(request, controlPressSchema);
        return press(botOrThrow(body.token), body);
      }
      if (route === 'GET /_sim/sent') {
        const token = url.searchParams.get('token') ?? '';
        const chatId = url.searchParams.get('chatId');
        return botOrThrow(token)
          .sent.filter((entry) => chatId === null || entry.chatId === Number(chatId))
          .map(({ photo, ...entry }) => ({ ...entry, ...(photo ? { photo: { ...photo, bytes: undefined } } : {}) }));
      }
      throw new ControlError(404, 'unknown simulator control endpoint');
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://sim');
    if (url.pathname.startsWith('/_sim/')) return handleControl(request, response, url);
    const fileMatch = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (fileMatch) return handleFileDownload(response, decodeURIComponent(fileMatch[1]!), fileMatch[2]!);
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return sendJson(response, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const token = decodeURIComponent(match[1]!);
    const method = match[2]!;
    const bot = bots.get(token);
    const entry: TelegramApiRequest = { bot: bot?.user.username ?? 'unknown', method, status: 0, at: new Date().toISOString() };
    requestLog.push(entry);
    const answer = (status: number, body: unknown) => {
      entry.status = status;
      sendJson(response, status, body);
    };
    try {
      if (faults.latencyMs) await timers.pause(faults.latencyMs);
      if (!bot) throw new BotApiError(401, 'Unauthorized');
      const params = await requestParams(request, url);
      const injected = failNext.take((rule) => !rule.method || rule.method.toLowerCase() === method.toLowerCase());
      if (injected) {
        const retryAfter = injected.status === 429 ? (injected.retryAfter ?? 1) : undefined;
        throw new BotApiError(injected.status, injected.description ?? (retryAfter ? `Too Many Requests: retry after ${retryAfter}` : 'Internal Server Error'), retryAfter ? { retry_after: retryAfter } : undefined);
      }
      const outcome = await callMethod(bot, method.toLowerCase(), params, response);
      if (outcome === 'held') {
        entry.status = 200;
        return;
      }
      answer(200, { ok: true, result: outcome.result, ...(outcome.description ? { description: outcome.description } : {}) });
    } catch (error) {
      if (!(error instanceof BotApiError)) throw error;
      answer(error.code, { ok: false, error_code: error.code, description: error.description, ...(error.parameters ? { parameters: error.parameters } : {}) });
    }
  }

  const listening = await listen(handle, options, (response, error) => {
    sendJson(response, 500, { ok: false, error_code: 500, description: `Internal Server Error: ${(error as Error).message}` });
  });

  // ---- control ---------------------------------------------------------------------------------

  function userMessage(bot: BotState, input: SimUserInput): Promise<TgUpdate> {
    const chat = chatOf(bot, input.chatId, input.from);
    if (input.text === undefined && !input.photo && !input.document) throw new Error('sendUserMessage needs text, a photo or a document');
    const body: Partial<TgMessage> = {};
    if (input.photo) {
      const info = imageInfo(input.photo);
      const file = storeFile(bot, input.photo, info?.width ?? 0, info?.height ?? 0);
      // Telegram lists a photo in several sizes, smallest first: the thumbnail here is the file's first bytes only.
      const thumbnail = storeFile(bot, input.photo.subarray(0, Math.min(input.photo.length, 256)), Math.ceil((info?.width ?? 0) / 4), Math.ceil((info?.height ?? 0) / 4));
      body.photo = [photoSize(thumbnail), photoSize(file)];
      if (input.text) body.caption = input.text;
    } else if (input.document) {
      const file = storeFile(bot, input.document.bytes, 0, 0, input.document);
      body.document = {
        file_id: file.fileId,
        file_unique_id: file.uniqueId,
        file_size: input.document.bytes.length,
        ...(input.document.fileName ? { file_name: input.document.fileName } : {}),
        ...(input.document.mimeType ? { mime_type: input.document.mimeType } : {}),
      };
      if (input.text) body.caption = input.text;
    } else {
      body.text = input.text!;
      const entities = botCommandEntities(input.text!);
      if (entities) body.entities = entities;
    }
    const message: TgMessage = { message_id: chat.nextMessageId++, from: chat.user, chat: chat.chat, date: unixNow(), ...body };
    bot.messages.set(messageKey(chat.chat.id, message.message_id), message);
    return enqueue(bot, (updateId) => ({ update_id: updateId, message }));
  }

  function press(bot: BotState, input: PressButtonInput): Promise<TgUpdate> {
    const chat = chatOf(bot, input.chatId, input.from);
    const hasButton = (entry: SentMessage) => entry.inlineKeyboard?.some((row) => row.some((button) => button.callback_data === input.callbackData)) ?? false;
    const candidates = bot.sent.filter((entry) => entry.chatId === input.chatId && (input.messageId === undefined ? hasButton(entry) : entry.messageId === input.messageId));
    const target = candidates.at(-1);
    if (!target || !hasButton(target)) throw new Error(`Telegram simulator: no button with callback_data "${input.callbackData}" in chat ${input.chatId}`);
    const message = bot.messages.get(messageKey(input.chatId, target.messageId))!;
    const query: TgCallbackQuery = {
      id: String(BigInt.asUintN(63, randomBytes(8).readBigUInt64BE())),
      from: chat.user,
      message: structuredClone(message),
      chat_instance: String(BigInt.asIntN(64, createHash('sha256').update(`${bot.token}/${input.chatId}`).digest().readBigUInt64BE())),
      data: input.callbackData,
    };
    bot.callbackQueries.set(query.id, { answered: false });
    return enqueue(bot, (updateId) => ({ update_id: updateId, callback_query: query }));
  }

  return {
    apiRoot: listening.origin,
    port: listening.port,
    addBot,
    sendUserMessage: async (token, message) => userMessage(botOf(token), message),
    pressButton: async (token, pressInput) => press(botOf(token), pressInput),
    blockBot(token, chatId) {
      chatOf(botOf(token), chatId).blocked = true;
    },
    sent: (token, chatId) =>
      botOf(token)
        .sent.filter((entry) => chatId === undefined || entry.chatId === chatId)
        .map(copySent),
    waitForSent(token, waitOptions = {}) {
      const bot = botOf(token);
      const count = waitOptions.count ?? 1;
      const check = () => {
        const matching = bot.sent.filter((entry) => waitOptions.chatId === undefined || entry.chatId === waitOptions.chatId);
        return matching.length >= count ? matching.map(copySent) : undefined;
      };
      const subscribe = (listener: () => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      };
      return waitFor(check, subscribe, waitOptions.timeoutMs ?? 5_000, `${count} message(s) from bot ${bot.user.username}`);
    },
    waitForPolling(token, timeoutMs = 5_000) {
      const bot = botOf(token);
      const subscribe = (listener: () => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      };
      return waitFor(() => (bot.poller ? true : undefined), subscribe, timeoutMs, `bot ${bot.user.username} to poll`).then(() => undefined);
    },
    callbackAnswers: (token) => botOf(token).answers.map((answer) => ({ ...answer })),
    webhook: (token) => {
      const webhook = botOf(token).webhook;
      return webhook ? { ...webhook } : undefined;
    },
    webhookDeliveries: (token) => botOf(token).deliveries.map((delivery) => ({ ...delivery })),
    pendingUpdates: (token) => structuredClone(botOf(token).updates),
    requests: () => requestLog.map((entry) => ({ ...entry })),
    fileDownloads: (token) => botOf(token).downloads.map((entry) => ({ ...entry })),
    setFaults(update) {
      const parsed = telegramFaultsSchema.parse(update);
      faults = { ...faults, ...parsed };
      if (parsed.failNext !== undefined) failNext.set(parsed.failNext);
    },
    settled: () => inFlight.settled(),
    async close() {
      closed = true;
      closing.abort();
      timers.close();
      for (const bot of bots.values()) {
        if (bot.poller) clearTimeout(bot.poller.timer);
        // Nobody will deliver these any more: let waiting callers go.
        for (const resolve of bot.waiting.values()) resolve();
      }
      await listening.close();
      await inFlight.settled();
    },
  };
}

export type { TgCallbackQuery, TgMessage, TgUpdate, TgUser } from './telegram-types.js';
