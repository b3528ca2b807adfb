import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { attachments, conversations, ticketMessages, tickets } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import { normaliseTags } from './open-ticket.js';
import { recordTicketEvent } from './record-ticket-event.js';
import { assertMayActOnTicket } from './ticket-actor.js';
import type { TicketDeps } from './ticket-deps.js';

const mergeTicketsInput = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  /** The duplicate: closed, its messages and attachments moved to the target. */
  sourceTicketId: z.uuid(),
  targetTicketId: z.uuid(),
});

/**
 * Merges a duplicate ticket of a contact into another ticket of the same contact: messages and
 * attachments move to the target, tags are joined, the conversation follows, the duplicate is
 * closed with `merged_into_id` (later customer messages on it are forwarded). Both tickets record
 * `merged`.
 */
export async function mergeTickets(deps: TicketDeps, options: z.input<typeof mergeTicketsInput>): Promise<void> {
  const input = parseInput(mergeTicketsInput, options);
  const { tenantId, sourceTicketId, targetTicketId } = input;
  if (sourceTicketId === targetTicketId) throw new AppError('VALIDATION_FAILED', 'a ticket cannot be merged into itself');
  const actor = { kind: 'user' as const, userId: input.userId };
  const now = deps.clock.now();
  await deps.db.withTenant(tenantId, async (tx) => {
    await assertMayActOnTicket(tx, tenantId, actor, sourceTicketId);
    await assertMayActOnTicket(tx, tenantId, actor, targetTicketId);
    // Locked in id order, so two opposite merges at once wait instead of deadlocking.
    const locked = [];
    for (const id of [sourceTicketId, targetTicketId].sort()) {
      locked.push(...(await tx.select().from(tickets).where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, id))).for('update')));
    }
    const source = locked.find((ticket) => ticket.id === sourceTicketId)!;
    const target = locked.find((ticket) => ticket.id === targetTicketId)!;
    if (source.mergedIntoId || target.mergedIntoId) throw new AppError('CONFLICT', 'one of these tickets was already merged');
    if (source.contactId !== target.contactId) throw new AppError('CONFLICT', 'only tickets of the same contact can be merged');

    await tx.update(ticketMessages).set({ ticketId: targetTicketId }).where(and(eq(ticketMessages.tenantId, tenantId), eq(ticketMessages.ticketId, sourceTicketId)));
    await tx.update(attachments).set({ ticketId: targetTicketId }).where(and(eq(attachments.tenantId, tenantId), eq(attachments.ticketId, sourceTicketId)));
    await tx
      .update(conversations)
      .set({ ticketId: targetTicketId, updatedAt: now })
      .where(and(eq(conversations.tenantId, tenantId), eq(conversations.ticketId, sourceTicketId)));
    await tx
      .update(tickets)
      .set({ tags: normaliseTags([...target.tags, ...source.tags]), lastMessageAt: maxDate(target.lastMessageAt, source.lastMessageAt), updatedAt: now })
      .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, targetTicketId)));
    await tx
      .update(tickets)
      .set({ mergedIntoId: targetTicketId, status: 'closed', closedAt: now, resolvedAt: source.resolvedAt ?? now, updatedAt: now })
      .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, sourceTicketId)));
    await recordTicketEvent(tx, { tenantId, ticketId: sourceTicketId, kind: 'merged', actor, data: { into: targetTicketId, intoNumber: target.number }, at: now });
    await recordTicketEvent(tx, { tenantId, ticketId: targetTicketId, kind: 'merged', actor, data: { from: sourceTicketId, fromNumber: source.number }, at: now });
  });
}

function maxDate(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}
