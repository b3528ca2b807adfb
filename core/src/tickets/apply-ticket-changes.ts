import { and, eq } from 'drizzle-orm';
import { conversations, teamMembers, tickets, type Tx } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { writeToOutbox } from '../shared/outbox.js';
import { assignTicket } from './assignment/assign-ticket.js';
import { normaliseTags } from './open-ticket.js';
import { recordTicketEvent } from './record-ticket-event.js';
import { refreshTicketSla } from './sla/refresh-ticket-sla.js';
import { assertMayActOnTicket, type TicketActor } from './ticket-actor.js';
import { assertTeamExists } from './ticket-references.js';
import type { TicketPriority, TicketStatus } from './ticket-values.js';

export interface TicketChanges {
  status?: TicketStatus;
  priority?: TicketPriority;
  addTags?: string[];
  removeTags?: string[];
  teamId?: string | null;
  /** null unassigns. */
  assigneeId?: string | null;
}

/** Outbox topic written when a ticket is resolved: the customer is asked to rate it. */
export const TICKET_RESOLVED_TOPIC = 'ticket.resolved';

/**
 * Changes a ticket in the caller's transaction, as `actor` may (FORBIDDEN / NOT_FOUND otherwise):
 * status (resolving stamps resolved_at and hands the conversation back to the bot; reopening
 * stamps reopened_at), priority, tags, team, assignee. SLA due times follow; one `updated` event
 * lists the changes ({field: [before, after]}), with `resolved` / `reopened` / `closed` / `assigned`
 * beside it. A ticket merged into another refuses changes (CONFLICT). Returns the fields changed.
 */
export async function applyTicketChanges(tx: Tx, options: { tenantId: string; actor: TicketActor; ticketId: string; changes: TicketChanges; now: Date }): Promise<{ changed: string[] }> {
  const { tenantId, ticketId, actor, now, changes } = options;
  if (actor.kind === 'customer') throw new AppError('FORBIDDEN', 'customers do not change tickets');
  await assertMayActOnTicket(tx, tenantId, actor, ticketId);
  const [before] = await tx.select().from(tickets).where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId))).for('update');
  if (!before) throw new AppError('NOT_FOUND', 'ticket not found');
  if (before.mergedIntoId) throw new AppError('CONFLICT', 'this ticket was merged into another one');

  const diff: Record<string, [unknown, unknown]> = {};
  const update: Partial<typeof tickets.$inferInsert> = {};
  if (changes.status && changes.status !== before.status) {
    diff.status = [before.status, changes.status];
    update.status = changes.status;
    if (changes.status === 'resolved') update.resolvedAt = now;
    if (changes.status === 'closed') {
      update.closedAt = now;
      update.resolvedAt = before.resolvedAt ?? now;
    }
    if ((changes.status === 'open' || changes.status === 'pending') && (before.status === 'resolved' || before.status === 'closed')) {
      update.reopenedAt = now;
      update.resolvedAt = null;
      update.closedAt = null;
    }
  }
  if (changes.priority && changes.priority !== before.priority) {
    diff.priority = [before.priority, changes.priority];
    update.priority = changes.priority;
  }
  if (changes.addTags || changes.removeTags) {
    const removed = new Set(normaliseTags(changes.removeTags ?? []));
    const tags = normaliseTags([...before.tags, ...(changes.addTags ?? [])]).filter((tag) => !removed.has(tag));
    if (tags.join('\n') !== before.tags.join('\n')) {
      diff.tags = [before.tags, tags];
      update.tags = tags;
    }
  }
  if (changes.teamId !== undefined && changes.teamId !== before.teamId) {
    if (changes.teamId) await assertTeamExists(tx, tenantId, changes.teamId);
    diff.teamId = [before.teamId, changes.teamId];
    update.teamId = changes.teamId;
  }

  if (Object.keys(update).length > 0) {
    await tx.update(tickets).set({ ...update, updatedAt: now }).where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId)));
  }
  if (diff.priority || diff.status) {
    await refreshTicketSla(tx, { tenantId, ticketId, now, reason: diff.status ? 'status_changed' : 'priority_changed' });
  }

  let assigneeId = before.assigneeId;
  if (changes.assigneeId !== undefined && changes.assigneeId !== before.assigneeId) {
    assigneeId = await assignTicket(tx, { tenantId, ticketId, actor, assigneeId: changes.assigneeId, now });
  } else if (diff.teamId && changes.teamId && !(before.assigneeId && (await isTeamMember(tx, tenantId, changes.teamId, before.assigneeId)))) {
    // Moved to a team its assignee is not in: the team's round-robin takes it (or nobody, for now).
    assigneeId = (await assignTicket(tx, { tenantId, ticketId, actor, auto: true, teamId: changes.teamId, now })) ?? null;
    if (!assigneeId && before.assigneeId) assigneeId = await assignTicket(tx, { tenantId, ticketId, actor, assigneeId: null, now });
  }
  if (assigneeId !== before.assigneeId) diff.assigneeId = [before.assigneeId, assigneeId];

  const changed = Object.keys(diff);
  if (changed.length === 0) return { changed };
  await recordTicketEvent(tx, { tenantId, ticketId, kind: 'updated', actor, data: { changes: diff }, at: now });
  if (diff.status) await recordStatusEvent(tx, { tenantId, ticketId, actor, now, from: before.status, to: changes.status! });
  return { changed };
}

async function recordStatusEvent(tx: Tx, options: { tenantId: string; ticketId: string; actor: TicketActor; now: Date; from: TicketStatus; to: TicketStatus }): Promise<void> {
  const { tenantId, ticketId, actor, now, from, to } = options;
  const wasDone = from === 'resolved' || from === 'closed';
  if (to === 'resolved' || (to === 'closed' && !wasDone)) {
    await recordTicketEvent(tx, { tenantId, ticketId, kind: 'resolved', actor, at: now });
    // The bot takes the conversation back; the customer is asked to rate the help.
    await tx
      .update(conversations)
      .set({ mode: 'bot', ticketId: null, updatedAt: now })
      .where(and(eq(conversations.tenantId, tenantId), eq(conversations.ticketId, ticketId), eq(conversations.mode, 'agent')));
    await writeToOutbox(tx, tenantId, { topic: TICKET_RESOLVED_TOPIC, dedupeKey: `ticket-resolved:${ticketId}:${now.getTime()}`, payload: { ticketId } });
  }
  if (to === 'closed') await recordTicketEvent(tx, { tenantId, ticketId, kind: 'closed', actor, at: now });
  if (wasDone && (to === 'open' || to === 'pending')) await recordTicketEvent(tx, { tenantId, ticketId, kind: 'reopened', actor, at: now });
}

async function isTeamMember(tx: Tx, tenantId: string, teamId: string, userId: string): Promise<boolean> {
  const [member] = await tx
    .select({ userId: teamMembers.userId })
    .from(teamMembers)
    .where(and(eq(teamMembers.tenantId, tenantId), eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)));
  return member !== undefined;
}
