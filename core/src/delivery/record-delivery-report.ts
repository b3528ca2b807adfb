import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { conversationMessages, type Database } from '@relais/db';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';

const LAST_ERROR_MAX_CHARS = 300;

const recordDeliveryReportInput = z.object({
  tenantId: z.uuid(),
  channelAccountId: z.uuid(),
  /** The id the provider gave when it accepted the message (conversation_messages.provider_message_id). */
  providerMessageId: z.string().min(1).max(200),
  /**
   * delivered: on the customer's phone. undeliverable: the provider gave up (it retries on its
   * own before saying so), so the message is dead rather than queued again: a resend could reach
   * the customer twice and is paid twice.
   */
  outcome: z.enum(['delivered', 'undeliverable']),
  /** The provider's reason, for the inbox and the logs (never the message text). */
  reason: z.string().max(200).optional(),
});

export type DeliveryReportOutcome = 'recorded' | 'unknown_message' | 'already_final';

/**
 * A provider's delivery report on an outbound conversation message, found by the id the provider
 * gave it. Only a message recorded as sent moves: a report for an unknown id (another system's,
 * or one that arrives before the send was recorded) changes nothing, nor does a late report on a
 * message already delivered or dead. Reports are idempotent.
 */
export async function recordDeliveryReport(deps: { db: Database; clock: Clock }, options: z.input<typeof recordDeliveryReportInput>): Promise<DeliveryReportOutcome> {
  const input = parseInput(recordDeliveryReportInput, options);
  const now = deps.clock.now();
  return deps.db.withTenant(input.tenantId, async (tx) => {
    const byProviderId = and(
      eq(conversationMessages.tenantId, input.tenantId),
      eq(conversationMessages.channelAccountId, input.channelAccountId),
      eq(conversationMessages.direction, 'outbound'),
      eq(conversationMessages.providerMessageId, input.providerMessageId),
    );
    const change =
      input.outcome === 'delivered'
        ? { status: 'delivered' as const, deliveredAt: now }
        : { status: 'dead' as const, lastError: `undeliverable: ${input.reason ?? 'no reason given'}`.slice(0, LAST_ERROR_MAX_CHARS) };
    const updated = await tx
      .update(conversationMessages)
      .set(change)
      .where(and(byProviderId, eq(conversationMessages.status, 'sent')))
      .returning({ id: conversationMessages.id });
    if (updated.length > 0) return 'recorded';
    const [existing] = await tx.select({ id: conversationMessages.id }).from(conversationMessages).where(byProviderId);
    return existing ? 'already_final' : 'unknown_message';
  });
}
