import { z } from 'zod';
import { AppError, handleInboundMessage, recordDeliveryReport, type Clock, type DeliveryReportOutcome, type SecretBox } from '@relais/core';
import type { Database } from '@relais/db';
import { authenticateAfricasTalkingCallback, E164 } from './africastalking-account.js';
import { SMS_CAPABILITIES } from './sms-capabilities.js';

/** An SMS is a few hundred characters; this bounds what a forged callback can make us store. */
const MAX_SMS_TEXT_CHARS = 4_000;

/** Africa's Talking's inbound SMS callback (form fields); unknown fields pass. */
export const inboundSmsFormSchema = z.looseObject({
  from: z.string().trim().min(1).max(64),
  to: z.string().trim().max(64).optional(),
  text: z.string().max(MAX_SMS_TEXT_CHARS).default(''),
  /** Unique per message, the same on Africa's Talking's retries: the dedupe key. */
  id: z.string().trim().min(1).max(200),
  date: z.string().max(64).optional(),
  linkId: z.string().max(200).optional(),
  networkCode: z.string().max(16).optional(),
});

/** Africa's Talking's delivery report callback (form fields). */
export const deliveryReportFormSchema = z.looseObject({
  id: z.string().trim().min(1).max(200),
  status: z.enum(['Sent', 'Submitted', 'Buffered', 'Rejected', 'Success', 'Failed', 'AbsentSubscriber', 'Expired']),
  phoneNumber: z.string().max(64).optional(),
  networkCode: z.string().max(16).optional(),
  failureReason: z.string().max(200).optional(),
  retryCount: z.string().max(8).optional(),
});

type Deps = { db: Database; clock: Clock; secrets: SecretBox };

function parseForm<T extends z.ZodType>(schema: T, body: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(body);
  // The field's name only: a customer's text never goes into an error or a log line.
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', `not an Africa's Talking ${what}: ${parsed.error.issues[0]!.path.join('.') || 'body'} is invalid`);
  return parsed.data;
}

/**
 * Translates an inbound SMS callback into the conversation engine's inbound message: the phone
 * number is the customer (and the Mobile Money number offered by default), Africa's Talking's id
 * the dedupe key. The replies are written 'pending' and leave through the delivery queue.
 */
export async function handleInboundSms(deps: Deps, options: { channelAccountId: string; secret: string | undefined; body: unknown }): Promise<{ duplicate: boolean; replies: number; tenantId: string }> {
  const channel = await authenticateAfricasTalkingCallback(deps, { channelAccountId: options.channelAccountId, kinds: ['sms'], secret: options.secret });
  const sms = parseForm(inboundSmsFormSchema, options.body, 'inbound SMS');
  const outcome = await handleInboundMessage(deps, {
    tenantId: channel.tenantId,
    channelAccountId: channel.channelAccountId,
    sender: { externalId: sms.from, ...(E164.test(sms.from) ? { phoneE164: sms.from } : {}) },
    providerMessageId: sms.id,
    text: sms.text,
    // Our clock, not `date`: its format is unconfirmed (sim/README.md) and a zoneless time would shift.
    receivedAt: deps.clock.now(),
    capabilities: SMS_CAPABILITIES,
  });
  return { duplicate: outcome.duplicate, replies: outcome.replies.length, tenantId: channel.tenantId };
}

/**
 * Translates a delivery report: Success -> delivered; Failed / Rejected (and their variants) ->
 * undeliverable; the intermediate statuses (Sent, Submitted, Buffered) change nothing.
 */
export async function handleSmsDeliveryReport(
  deps: Deps,
  options: { channelAccountId: string; secret: string | undefined; body: unknown },
): Promise<{ outcome: DeliveryReportOutcome | 'in_progress' }> {
  // USSD accounts push SMS too (after their sessions): their reports may come here as well.
  const channel = await authenticateAfricasTalkingCallback(deps, { channelAccountId: options.channelAccountId, kinds: ['sms', 'ussd'], secret: options.secret });
  const report = parseForm(deliveryReportFormSchema, options.body, 'delivery report');
  if (report.status === 'Sent' || report.status === 'Submitted' || report.status === 'Buffered') return { outcome: 'in_progress' };
  const outcome = await recordDeliveryReport(deps, {
    tenantId: channel.tenantId,
    channelAccountId: channel.channelAccountId,
    providerMessageId: report.id,
    outcome: report.status === 'Success' ? 'delivered' : 'undeliverable',
    reason: report.failureReason ?? report.status,
  });
  return { outcome };
}
