import { and, eq } from 'drizzle-orm';
import { tickets, type Tx } from '@relais/db';
import { notifyUsers, type NotificationContent } from '../../notifications/notify-users.js';
import { AppError } from '../../shared/app-error.js';
import { recordTicketEvent } from '../record-ticket-event.js';
import type { TicketActor } from '../ticket-actor.js';
import { assertActiveUser } from '../ticket-references.js';
import { pickAssignee } from './auto-assign-ticket.js';

type AssignTicketOptions = { tenantId: string; ticketId: string; actor: TicketActor; now: Date } & (
  | { assigneeId: string | null }
  /** Round-robin among available agents (of `teamId` when given). */
  | { auto: true; teamId?: string | null }
);

/**
 * Sets a ticket's assignee in the caller's transaction (permissions are the caller's business):
 * a chosen active user of the tenant, nobody, or the round-robin's pick. Records `assigned` and
 * notifies the new assignee (unless they assigned themselves). Returns the assignee.
 */
export async function assignTicket(tx: Tx, options: AssignTicketOptions): Promise<string | null> {
  const { tenantId, ticketId, now } = options;
  let assigneeId: string | null;
  if ('auto' in options) {
    assigneeId = (await pickAssignee(tx, { tenantId, teamId: options.teamId, now })) ?? null;
    if (!assigneeId) return null;
  } else {
    assigneeId = options.assigneeId;
    if (assigneeId) await assertActiveUser(tx, tenantId, assigneeId);
  }
  const [ticket] = await tx
    .update(tickets)
    .set({ assigneeId, updatedAt: now })
    .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId)))
    .returning({ number: tickets.number });
  if (!ticket) throw new AppError('NOT_FOUND', 'ticket not found');
  await recordTicketEvent(tx, { tenantId, ticketId, kind: 'assigned', actor: options.actor, data: { assigneeId, auto: 'auto' in options }, at: now });
  const actorIsAssignee = options.actor.kind === 'user' && options.actor.userId === assigneeId;
  if (assigneeId && !actorIsAssignee) await notifyAssignee(tx, { tenantId, ticketId, ticketNumber: ticket.number, assigneeId, now });
  return assigneeId;
}

/** Tells a user a ticket is now theirs (in-app and email, as their preferences say). */
export async function notifyAssignee(tx: Tx, options: { tenantId: string; ticketId: string; ticketNumber: number; assigneeId: string; now: Date }): Promise<void> {
  await notifyUsers(tx, {
    tenantId: options.tenantId,
    userIds: [options.assigneeId],
    kind: 'ticket.assigned',
    content: assignedNotification(options.ticketId, options.ticketNumber),
    at: options.now,
  });
}

export function assignedNotification(ticketId: string, number: number): NotificationContent {
  return {
    title: { fr: `Ticket #${number} vous est attribué`, en: `Ticket #${number} is assigned to you` },
    body: { fr: `Le ticket #${number} vous a été attribué.`, en: `Ticket #${number} has been assigned to you.` },
    ticketId,
    ticketNumber: number,
  };
}
