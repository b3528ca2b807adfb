import { z } from 'zod';
import type { BilingualText } from '../shared/bilingual-text.js';
import type { ChannelCapabilities } from '../shared/ports/channel-sender.js';

export type ConversationLocale = 'fr' | 'en';

/** Where the customer is in a flow; each step reads the next input its own way. */
export const CONVERSATION_STEPS = [
  /** Nothing asked yet (new or expired conversation): any input greets. */
  'start',
  'choose_language',
  'menu',
  /** Something was answered; no question is open: any unknown input shows the menu. */
  'idle',
  'buy_choose_package',
  'ticket_choose_category',
  'ticket_describe',
  /** Asking which Mobile Money number pays the order. */
  'pay_enter_phone',
  'pay_awaiting',
  'pay_failed',
  /** A resolved ticket's satisfaction survey: the 1-5 rating is asked (see `csat`). */
  'csat_rate',
  /** The rating is recorded; an optional comment is asked (0 / "non" / "no" skips it). */
  'csat_comment',
] as const;
export type ConversationStep = (typeof CONVERSATION_STEPS)[number];

export interface ConversationChoice {
  id: string;
  label: string;
}

const bilingual = z.object({ fr: z.string(), en: z.string() });

/** What the customer is buying or asking for: a WiFi package, or a support ticket in a category. */
const orderSchema = z.object({
  kind: z.enum(['wifi', 'support']),
  packageId: z.uuid().optional(),
  categoryId: z.uuid().optional(),
  label: bilingual,
  priceXaf: z.number().int().nonnegative(),
  description: z.string().max(2000).optional(),
  /** A photo or file sent as the description: attached to the ticket when it opens (held in the FileStore until then). */
  file: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), fileName: z.string().max(255).optional() }).optional(),
  /** Set once the ticket is open: retries pay the same ticket. */
  ticketId: z.uuid().optional(),
  ticketNumber: z.number().int().optional(),
  payerPhone: z.string().optional(),
  /** Payment attempts started for this ticket (at most MAX_PAYMENT_ATTEMPTS_PER_TICKET). */
  paymentAttempts: z.number().int().nonnegative().default(0),
});
export type ConversationOrder = z.output<typeof orderSchema>;

/** The satisfaction survey in progress: which ticket it is about, and how many answers were not a rating. */
const csatSchema = z.object({
  ticketId: z.uuid(),
  ticketNumber: z.number().int(),
  /** Unexpected answers to the rating question so far: asked again once, then the survey is left. */
  retries: z.number().int().nonnegative().default(0),
});
export type ConversationCsat = z.output<typeof csatSchema>;

const capabilitiesSchema = z.object({
  buttons: z.boolean(),
  maxButtons: z.number().int().nonnegative(),
  images: z.boolean(),
  maxTextLength: z.number().int().positive(),
  plainTextOnly: z.boolean(),
  replyInSession: z.boolean(),
  pushOutsideSession: z.boolean().optional(),
});
export const channelCapabilitiesSchema: z.ZodType<ChannelCapabilities> = capabilitiesSchema;

/**
 * The engine's state of one conversation, stored in conversations.state (jsonb) and parsed with
 * this schema on every load: a row written by an older version, or damaged, falls back to a
 * fresh start instead of breaking the conversation.
 */
export const conversationStateSchema = z.object({
  step: z.enum(CONVERSATION_STEPS).default('start'),
  /** 'agent': the bot is paused while a person handles the conversation (mirrors conversations.mode). */
  mode: z.enum(['bot', 'agent']).default('bot'),
  /** The choices last shown: a typed "2", a tapped id or a label maps back to one of these. */
  offered: z.array(z.object({ id: z.string(), label: z.string() })).default([]),
  order: orderSchema.optional(),
  /** Set only in the csat_rate / csat_comment steps. Optional: states stored before the survey existed parse as they did. */
  csat: csatSchema.optional(),
  /**
   * What the conversation's channel can show, as its adapter last said: messages written later,
   * outside an inbound request (voucher ready, payment failed), are rendered with it.
   */
  capabilities: capabilitiesSchema.optional(),
});
export type ConversationState = z.output<typeof conversationStateSchema>;

export function freshConversationState(previous?: Pick<ConversationState, 'capabilities' | 'mode'>): ConversationState {
  return { step: 'start', mode: previous?.mode ?? 'bot', offered: [], capabilities: previous?.capabilities };
}

export function readConversationState(stored: unknown, mode: 'bot' | 'agent' | 'closed'): ConversationState {
  const parsed = conversationStateSchema.safeParse(stored ?? {});
  const state = parsed.success ? parsed.data : freshConversationState();
  // The column is the authority on mode: agents (and their tools) change it without the engine.
  return { ...state, mode: mode === 'agent' ? 'agent' : 'bot' };
}

/** A package as the bot offers it. */
export interface OfferedPackage {
  id: string;
  name: BilingualText;
  priceXaf: number;
  validityMinutes: number;
}

/** A category a customer may open a ticket in (categories that sell WiFi are bought through "buy WiFi"). */
export interface OfferedCategory {
  id: string;
  name: BilingualText;
  /** null = free support */
  priceXaf: number | null;
}
