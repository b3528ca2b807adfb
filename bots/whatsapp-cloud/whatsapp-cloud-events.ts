import { z } from 'zod';

/**
 * The parts of a WhatsApp Cloud webhook event we read (shared/INTEGRATIONS.md, "WhatsApp");
 * loose objects, so fields Meta adds later pass through.
 */
const unixSeconds = z.string().regex(/^\d{1,12}$/);

const waMediaSchema = z.looseObject({
  id: z.string().min(1).max(200),
  mime_type: z.string().optional(),
  sha256: z.string().optional(),
  caption: z.string().optional(),
  filename: z.string().optional(),
});

export const waInboundMessageSchema = z.looseObject({
  from: z.string().regex(/^\d{5,20}$/),
  id: z.string().min(1).max(200),
  timestamp: unixSeconds,
  type: z.string().min(1),
  text: z.looseObject({ body: z.string() }).optional(),
  interactive: z
    .looseObject({
      type: z.string(),
      button_reply: z.looseObject({ id: z.string(), title: z.string().optional() }).optional(),
      list_reply: z.looseObject({ id: z.string(), title: z.string().optional() }).optional(),
    })
    .optional(),
  /** A quick-reply button of a template message. */
  button: z.looseObject({ payload: z.string().optional(), text: z.string().optional() }).optional(),
  /** Media: fetched by id (GET /<media-id>, then its URL) with the number's token. */
  image: waMediaSchema.optional(),
  document: waMediaSchema.optional(),
  audio: waMediaSchema.optional(),
});

export const waStatusSchema = z.looseObject({
  id: z.string().min(1).max(200),
  status: z.string().min(1),
  timestamp: unixSeconds,
  recipient_id: z.string().optional(),
  errors: z.array(z.looseObject({ code: z.number().int(), title: z.string().optional(), message: z.string().optional() })).optional(),
});

export const waMessagesValueSchema = z.looseObject({
  metadata: z.looseObject({ phone_number_id: z.string().min(1), display_phone_number: z.string().optional() }),
  contacts: z.array(z.looseObject({ wa_id: z.string(), profile: z.looseObject({ name: z.string().optional() }).optional() })).optional(),
  messages: z.array(waInboundMessageSchema).optional(),
  statuses: z.array(waStatusSchema).optional(),
});

export const waWebhookEventSchema = z.looseObject({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    z.looseObject({
      id: z.string().optional(),
      // Fields other than "messages" (account updates, templates...) have other shapes: read later, by field.
      changes: z.array(z.looseObject({ field: z.string(), value: z.unknown() })),
    }),
  ),
});

export type WaInboundMessage = z.output<typeof waInboundMessageSchema>;
export type WaStatus = z.output<typeof waStatusSchema>;
export type WaMessagesValue = z.output<typeof waMessagesValueSchema>;

/** Where a customer's message carries its answer: typed text, a tapped reply button or list row. */
export function textOfMessage(message: WaInboundMessage): string | undefined {
  if (message.type === 'text') return message.text?.body;
  if (message.type === 'interactive') return message.interactive?.button_reply?.id ?? message.interactive?.list_reply?.id;
  if (message.type === 'button') return message.button?.payload ?? message.button?.text;
  return undefined;
}
