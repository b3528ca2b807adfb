import { and, desc, eq } from 'drizzle-orm';
import { csatResponses, ticketMessages, tickets, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { recordTicketEvent } from '../record-ticket-event.js';

/** Longest comment kept (the chat caps a message at 4 KB anyway). */
export const MAX_CSAT_COMMENT_LENGTH = 2000;

/**
 * A customer's 1-5 rating of a ticket (and optional comment), in the caller's transaction. One
 * answer per ticket: a second rating changes nothing (a comment given with it fills the first
 * answer's). The agent rated is the ticket's assignee, else the last agent who answered publicly.
 * Records `csat_received`. NOT_FOUND / FORBIDDEN when the ticket is not this contact's.
 */
export async function recordCsatResponse(
  tx: Tx,
  options: { tenantId: string; ticketId: string; contactId: string; rating: number; comment?: string; now: Date },
): Promise<{ recorded: boolean }> {
  const { tenantId, ticketId, now } = options;
  if (!Number.isInteger(options.rating) || options.rating < 1 || options.rating > 5) throw new AppError('VALIDATION_FAILED', 'rating: a whole number from 1 to 5');
  const [ticket] = await tx
    .select({ contactId: tickets.contactId, assigneeId: tickets.assigneeId })
    .from(tickets)
    .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId)));
  if (!ticket) throw new AppError('NOT_FOUND', 'ticket not found');
  if (ticket.contactId !== options.contactId) throw new AppError('FORBIDDEN', 'only the ticket’s customer rates it');
  const agentId = ticket.assigneeId ?? (await lastAnsweringAgent(tx, tenantId, ticketId));
  const comment = cleanComment(options.comment);
  const [inserted] = await tx
    .insert(csatResponses)
    .values({ tenantId, ticketId, contactId: options.contactId, agentId, rating: options.rating, comment, createdAt: now })
    .onConflictDoNothing({ target: [csatResponses.tenantId, csatResponses.ticketId] })
    .returning({ id: csatResponses.id });
  if (!inserted) {
    if (comment) await tx.update(csatResponses).set({ comment }).where(and(eq(csatResponses.tenantId, tenantId), eq(csatResponses.ticketId, ticketId)));
    return { recorded: false };
  }
  await recordTicketEvent(tx, {
    tenantId,
    ticketId,
    kind: 'csat_received',
    actor: { kind: 'customer', contactId: options.contactId },
    data: { responseId: inserted.id, rating: options.rating, agentId },
    at: now,
  });
  return { recorded: true };
}

/** Blank comments are no comment. */
export function cleanComment(comment: string | undefined): string | null {
  const trimmed = comment?.trim().slice(0, MAX_CSAT_COMMENT_LENGTH);
  return trimmed ? trimmed : null;
}

async function lastAnsweringAgent(tx: Tx, tenantId: string, ticketId: string): Promise<string | null> {
  const [reply] = await tx
    .select({ userId: ticketMessages.authorUserId })
    .from(ticketMessages)
    .where(and(eq(ticketMessages.tenantId, tenantId), eq(ticketMessages.ticketId, ticketId), eq(ticketMessages.authorKind, 'agent'), eq(ticketMessages.isPrivate, false)))
    .orderBy(desc(ticketMessages.createdAt))
    .limit(1);
  return reply?.userId ?? null;
}
