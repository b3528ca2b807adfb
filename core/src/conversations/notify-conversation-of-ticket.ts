import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { tickets, type Database } from '@relais/db';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';
import { applyConversationEvent } from './apply-conversation-event.js';

const bilingual = z.object({ fr: z.string().min(1), en: z.string().min(1) });

const notifyInput = z.object({
  tenantId: z.uuid(),
  ticketId: z.uuid(),
  eventKey: z.string().min(1),
  news: z.discriminatedUnion('kind', [
    /** `payment.failed` / `payment.expired`: what confirm-payment records when an attempt ends unpaid. */
    z.object({ kind: z.literal('payment_failed'), reason: z.string(), attemptsLeft: z.number().int().min(0) }),
    /** A ready-made text for the customer (`wifi.out_of_stock` carries one). */
    z.object({ kind: z.literal('notice'), text: bilingual }),
  ]),
});

/**
 * Tells the customer of a ticket opened in a conversation what happened to it, in that
 * conversation (tickets opened elsewhere have none: nothing to do).
 */
export async function notifyConversationOfTicket(deps: { db: Database; clock: Clock }, options: z.input<typeof notifyInput>): Promise<void> {
  const input = parseInput(notifyInput, options);
  const [ticket] = await deps.db.withTenant(input.tenantId, (tx) =>
    tx.select({ conversationId: tickets.conversationId }).from(tickets).where(and(eq(tickets.tenantId, input.tenantId), eq(tickets.id, input.ticketId))),
  );
  if (!ticket?.conversationId) return;
  await applyConversationEvent(deps, {
    tenantId: input.tenantId,
    conversationId: ticket.conversationId,
    eventKey: input.eventKey,
    input:
      input.news.kind === 'payment_failed'
        ? { kind: 'payment_failed', ticketId: input.ticketId, reason: input.news.reason, attemptsLeft: input.news.attemptsLeft }
        : { kind: 'notice', ticketId: input.ticketId, text: input.news.text },
  });
}
