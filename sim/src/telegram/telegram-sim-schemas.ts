import { z } from 'zod';

/** What the Telegram Bot API simulator accepts from tests, the CLI and benchmarks. */

export const telegramTokenSchema = z.string().regex(/^\d+:[A-Za-z0-9_-]{10,}$/, 'a bot token looks like 123456:ABC-DEF...');

export const simBotSchema = z.strictObject({
  token: telegramTokenSchema,
  /** Without the @; default "<id>_sim_bot". */
  username: z.string().regex(/^[A-Za-z0-9_]{3,64}$/).optional(),
  firstName: z.string().min(1).optional(),
});

const bucketSchema = z.strictObject({ perSecond: z.number().positive(), burst: z.number().int().positive() });

export const telegramRateLimitsSchema = z.strictObject({
  /** Telegram: "avoid sending more than one message per second" in a chat; short bursts pass. */
  perChat: bucketSchema.default({ perSecond: 1, burst: 3 }),
  /** Telegram: about 30 messages per second per bot. */
  perBot: bucketSchema.default({ perSecond: 30, burst: 30 }),
});

export const telegramFailNextSchema = z.strictObject({
  /** HTTP status and error_code of the injected answer (e.g. 429, 500, 502). */
  status: z.number().int().min(400).max(599),
  description: z.string().optional(),
  /** retry_after in seconds, sent in `parameters` (for 429; default 1). */
  retryAfter: z.number().int().positive().optional(),
  /** Only this Bot API method (case-insensitive), e.g. "sendMessage"; default any. */
  method: z.string().optional(),
  times: z.number().int().positive().default(1),
});

export const telegramFaultsSchema = z.strictObject({
  /** Delay before answering every Bot API call. */
  latencyMs: z.number().int().nonnegative().optional(),
  /** Answer the next matching call(s) with an error; null clears it. */
  failNext: telegramFailNextSchema.nullable().optional(),
});

export const telegramSimulatorOptionsSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).default(0),
  host: z.string().min(1).default('127.0.0.1'),
  bots: z.array(simBotSchema).default([]),
  /** false turns rate limiting off. */
  rateLimits: z.union([z.literal(false), telegramRateLimitsSchema]).default({ perChat: { perSecond: 1, burst: 3 }, perBot: { perSecond: 30, burst: 30 } }),
  /** A bot cannot write first: sending to a chat that never wrote to it -> 400 "chat not found". */
  requireKnownChat: z.boolean().default(true),
  /** Real Telegram demands HTTPS webhooks; local receivers are plain HTTP. */
  allowHttpWebhooks: z.boolean().default(true),
  /** Wait before re-sending an update the webhook did not accept. */
  webhookRetryMs: z.number().int().nonnegative().default(1_000),
  /** Clock for rate limits and message dates (ms since epoch); default Date.now. */
  now: z.custom<() => number>((value) => typeof value === 'function', 'a function returning ms since epoch').optional(),
  faults: telegramFaultsSchema.default({}),
});

export type TelegramSimulatorOptions = z.input<typeof telegramSimulatorOptionsSchema>;
export type TelegramSimulatorFaults = z.input<typeof telegramFaultsSchema>;
export type TelegramFailNext = z.output<typeof telegramFailNextSchema>;
export type SimBot = z.input<typeof simBotSchema>;

/** Parameters of the Bot API methods served, as they arrive (JSON, form or multipart; numbers may be strings). */
const chatIdSchema = z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]);
const intSchema = z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]);
const boolSchema = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);
/** reply_markup is an object in JSON bodies and a JSON string in form/multipart bodies. */
const jsonObjectSchema = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}, z.record(z.string(), z.unknown()));

export const inlineButtonSchema = z.looseObject({
  text: z.string(),
  callback_data: z.string().optional(),
  url: z.string().optional(),
});

export const botApiParams = {
  sendMessage: z.looseObject({
    chat_id: chatIdSchema,
    text: z.string(),
    parse_mode: z.string().optional(),
    reply_markup: jsonObjectSchema.optional(),
  }),
  sendPhoto: z.looseObject({
    chat_id: chatIdSchema,
    /** A file_id, an http(s) URL, or an uploaded file (multipart). */
    photo: z.unknown(),
    caption: z.string().optional(),
    parse_mode: z.string().optional(),
    reply_markup: jsonObjectSchema.optional(),
  }),
  answerCallbackQuery: z.looseObject({
    callback_query_id: z.string(),
    text: z.string().optional(),
    show_alert: boolSchema.optional(),
    url: z.string().optional(),
  }),
  editMessageReplyMarkup: z.looseObject({
    chat_id: chatIdSchema,
    message_id: intSchema,
    reply_markup: jsonObjectSchema.optional(),
  }),
  setWebhook: z.looseObject({
    url: z.string(),
    secret_token: z.string().optional(),
    max_connections: intSchema.optional(),
    allowed_updates: z.unknown().optional(),
    drop_pending_updates: boolSchema.optional(),
  }),
  deleteWebhook: z.looseObject({ drop_pending_updates: boolSchema.optional() }),
  getUpdates: z.looseObject({
    offset: intSchema.optional(),
    limit: intSchema.optional(),
    timeout: intSchema.optional(),
    allowed_updates: z.unknown().optional(),
  }),
  getFile: z.looseObject({ file_id: z.string() }),
};
