import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { conversationMessages, type Database } from '@relais/db';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';
import { recordDeliveryReport } from './record-delivery-report.js';

const recordWhatsAppStatusInput = z.object({
  tenantId: z.uuid(),
  channelAccountId: z.uuid(),
  /** The wamid the provider gave when it accepted the message (conversation_messages.provider_message_id). */
  providerMessageId: z.string().min(1).max(200),
  status: z.enum(['sent', 'delivered', 'read', 'failed']),
  /** For 'failed': the reason, safe to store (no secret, no message text). */
  reason: z.string().max(200).optional(),
});

export type WhatsAppStatusOutcome = 'recorded' | 'unknown_message' | 'already_final';

/**
 * A status the provider posts about an outbound message (sent, delivered, read, failed). Delivered
 * and failed are delivery reports (recordDeliveryReport: a failure is final, the message dead with
 * its reason — e.g. outside the 24-hour window); read also marks it delivered when that report
 * was missed or overtaken. Sent adds nothing: the delivery job recorded the send when the
 * provider accepted it.
 */
export async function recordWhatsAppStatus(deps: { db: Database; clock: Clock }, options: z.input<typeof recordWhatsAppStatusInput>): Promise<WhatsAppStatusOutcome> {
  const input = parseInput(recordWhatsAppStatusInput, options);
  const report = { tenantId: input.tenantId, channelAccountId: input.channelAccountId, providerMessageId: input.providerMessageId };
  if (input.status === 'delivered') return recordDeliveryReport(deps, { ...report, outcome: 'delivered' });
  if (input.status === 'failed') return recordDeliveryReport(deps, { ...report, outcome: 'undeliverable', reason: input.reason });

  return deps.db.withTenant(input.tenantId, async (tx) => {
    const byProviderId = and(
      eq(conversationMessages.tenantId, input.tenantId),
      eq(conversationMessages.channelAccountId, input.channelAccountId),
      eq(conversationMessages.direction, 'outbound'),
      eq(conversationMessages.providerMessageId, input.providerMessageId),
    );
    if (input.status === 'read') {
      const updated = await tx
        .update(conversationMessages)
        .set({ status: 'read', deliveredAt: sql`coalesce(${conversationMessages.deliveredAt}, ${deps.clock.now().toISOString()}::timestamptz)` })
        .where(and(byProviderId, inArray(conversationMessages.status, ['sent', 'delivered'])))
        .returning({ id: conversationMessages.id });
      if (updated.length > 0) return 'recorded';
    }
    const [existing] = await tx.select({ status: conversationMessages.status }).from(conversationMessages).where(byProviderId);
    if (!existing) return 'unknown_message';
    return input.status === 'sent' && existing.status === 'sent' ? 'recorded' : 'already_final';
  });
}
