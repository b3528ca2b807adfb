import { z } from 'zod';

/** What the WhatsApp Cloud (Graph API) simulator accepts from tests, the CLI and benchmarks. */

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const waPhoneNumberSchema = z.strictObject({
  /** The phone-number id used in Graph paths (digits). */
  id: z.string().regex(/^\d+$/, 'a phone-number id is digits'),
  /** As it appears in metadata.display_phone_number, e.g. "237690000000". */
  displayPhoneNumber: z.string().regex(/^\d{8,15}$/),
  /** Bearer token accepted for this number (a system-user token in production). */
  accessToken: z.string().min(1),
  /** Signs events sent to webhookUrl (X-Hub-Signature-256). */
  appSecret: z.string().min(1),
  /** WhatsApp Business Account id, entry[].id of events; default derived from the number id. */
  wabaId: z.string().regex(/^\d+$/).optional(),
  webhookUrl: httpUrl.optional(),
  /** What the verification GET sends as hub.verify_token. */
  verifyToken: z.string().min(1).optional(),
});

export const waFailNextSchema = z.strictObject({
  status: z.number().int().min(400).max(599),
  /** Graph error code (e.g. 130429 rate limit, 131000 generic, 190 token). */
  code: z.number().int().default(131000),
  message: z.string().optional(),
  /** Only requests whose path ends with this ("/messages", "/media"); default any. */
  pathEndsWith: z.string().optional(),
  times: z.number().int().positive().default(1),
});

export const waFaultsSchema = z.strictObject({
  latencyMs: z.number().int().nonnegative().optional(),
  failNext: waFailNextSchema.nullable().optional(),
  /** Send every event this many times (Meta does deliver duplicates). */
  duplicateEvents: z.number().int().min(1).max(100).optional(),
  /** Sign events with this secret instead of the app secret (a forged or misconfigured signature). */
  signWith: z.string().nullable().optional(),
});

export const waSimulatorOptionsSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).default(0),
  host: z.string().min(1).default('127.0.0.1'),
  phoneNumbers: z.array(waPhoneNumberSchema).default([]),
  /**
   * A free-form (non-template) message to someone who has not written within 24 h:
   * 'status' (what Meta does: accepted, then a `failed` status with error 131047),
   * 'reject' (HTTP 400 with error 131047 at once), or false (no window rule).
   */
  windowRule: z.union([z.enum(['status', 'reject']), z.literal(false)]).default('status'),
  /** Statuses posted for each accepted message, in order. */
  autoStatuses: z.array(z.enum(['sent', 'delivered', 'read'])).default(['sent', 'delivered']),
  /** Wait before re-sending an event the webhook did not accept. */
  webhookRetryMs: z.number().int().nonnegative().default(1_000),
  /** Write non-ASCII as \uXXXX and "/" as "\/" in event bodies, as Meta does (so re-serialised JSON will not verify). */
  escapeUnicode: z.boolean().default(true),
  /** Clock for the 24-hour window and timestamps (ms since epoch); default Date.now. */
  now: z.custom<() => number>((value) => typeof value === 'function', 'a function returning ms since epoch').optional(),
  faults: waFaultsSchema.default({}),
});

export type WaSimulatorOptions = z.input<typeof waSimulatorOptionsSchema>;
export type WaSimulatorFaults = z.input<typeof waFaultsSchema>;
export type WaPhoneNumber = z.input<typeof waPhoneNumberSchema>;
export type WaFailNext = z.output<typeof waFailNextSchema>;

/** Outgoing message bodies: loose where Meta's own checks give a specific error. */
const replyButtonSchema = z.looseObject({ type: z.literal('reply'), reply: z.looseObject({ id: z.string(), title: z.string() }) });
const listRowSchema = z.looseObject({ id: z.string(), title: z.string(), description: z.string().optional() });

export const interactiveSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('button'),
    header: z.unknown().optional(),
    body: z.looseObject({ text: z.string() }),
    footer: z.looseObject({ text: z.string() }).optional(),
    action: z.looseObject({ buttons: z.array(replyButtonSchema) }),
  }),
  z.looseObject({
    type: z.literal('list'),
    header: z.unknown().optional(),
    body: z.looseObject({ text: z.string() }),
    footer: z.looseObject({ text: z.string() }).optional(),
    action: z.looseObject({ button: z.string(), sections: z.array(z.looseObject({ title: z.string().optional(), rows: z.array(listRowSchema) })) }),
  }),
]);

export const sendMessageSchema = z.looseObject({
  messaging_product: z.literal('whatsapp'),
  recipient_type: z.literal('individual').optional(),
  to: z.string().min(1),
  type: z.enum(['text', 'interactive', 'image', 'template']).default('text'),
  context: z.looseObject({ message_id: z.string() }).optional(),
  text: z.looseObject({ body: z.string(), preview_url: z.boolean().optional() }).optional(),
  interactive: interactiveSchema.optional(),
  image: z.looseObject({ id: z.string().optional(), link: z.string().optional(), caption: z.string().optional() }).optional(),
  template: z.looseObject({ name: z.string(), language: z.looseObject({ code: z.string() }) }).optional(),
});

export type WaOutgoingMessage = z.output<typeof sendMessageSchema>;
export type WaInteractive = z.output<typeof interactiveSchema>;
