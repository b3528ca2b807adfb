import { z } from 'zod';

/** What the Africa's Talking simulator accepts from tests, the CLI and benchmarks. */

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const atAccountSchema = z.strictObject({
  username: z.string().min(1),
  apiKey: z.string().min(1),
  /** Sender ids / short codes this account may send `from`; absent = any. */
  senderIds: z.array(z.string().min(1)).optional(),
  /** Short codes / numbers whose inbound SMS belong to this account (for receiveSms without a url). */
  shortCodes: z.array(z.string().min(1)).default([]),
  /** Where delivery reports of this account's messages are posted. */
  deliveryReportsUrl: httpUrl.optional(),
  /** Where inbound SMS to this account's short codes are posted. */
  inboundSmsUrl: httpUrl.optional(),
});

export const atFailNextSchema = z.strictObject({
  status: z.number().int().min(400).max(599),
  /** Sent as text/plain, like Africa's Talking's own error answers. */
  body: z.string().optional(),
  times: z.number().int().positive().default(1),
});

export const atFaultsSchema = z.strictObject({
  /** Delay before answering every API request. */
  latencyMs: z.number().int().nonnegative().optional(),
  /** Answer the next API request(s) with this error; null clears it. */
  failNext: atFailNextSchema.nullable().optional(),
  /** Never post delivery reports / inbound SMS (USSD is a live dialogue: not affected). */
  dropCallbacks: z.boolean().optional(),
  /** Post each delivery report / inbound SMS this many times, concurrently. */
  duplicateCallbacks: z.number().int().min(1).max(100).optional(),
  /** Wait this long before each delivery report / inbound SMS. */
  callbackDelayMs: z.number().int().nonnegative().optional(),
});

export const atSimulatorOptionsSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).default(0),
  host: z.string().min(1).default('127.0.0.1'),
  accounts: z.array(atAccountSchema).default([]),
  /** USSD service codes (e.g. "*384*123#") and the callback each one posts to. */
  ussdServices: z.array(z.strictObject({ serviceCode: z.string().min(2), callbackUrl: httpUrl })).default([]),
  /** Price of one SMS part, shown in `cost` (Africa's Talking bills per part). */
  pricePerPart: z.strictObject({ currency: z.string().length(3), amount: z.number().nonnegative() }).default({ currency: 'XAF', amount: 25 }),
  /** Post a delivery report for every accepted message, this long after the send; false: only when asked. */
  autoDeliveryReport: z
    .union([z.literal(false), z.strictObject({ afterMs: z.number().int().nonnegative(), status: z.enum(['Success', 'Failed', 'Rejected', 'Sent', 'Submitted', 'Buffered']), failureReason: z.string().optional() })])
    .default({ afterMs: 0, status: 'Success' }),
  faults: atFaultsSchema.default({}),
});

export type AtSimulatorOptions = z.input<typeof atSimulatorOptionsSchema>;
export type AtSimulatorFaults = z.input<typeof atFaultsSchema>;
export type AtAccount = z.input<typeof atAccountSchema>;
export type AtFailNext = z.output<typeof atFailNextSchema>;
export type DeliveryStatus = 'Sent' | 'Submitted' | 'Buffered' | 'Rejected' | 'Success' | 'Failed';

/** The SMS send form: loose, each field is checked by the handler to give Africa's Talking's answer. */
export const smsSendFormSchema = z.looseObject({
  username: z.string().optional(),
  to: z.string().optional(),
  message: z.string().optional(),
  from: z.string().optional(),
  enqueue: z.string().optional(),
  bulkSMSMode: z.string().optional(),
});
