import { and, eq, isNull } from 'drizzle-orm';
import { teamMembers, tickets, users, type Tx } from '@relais/db';
import { AppError } from '../shared/app-error.js';

/**
 * Who acts on a ticket. People are users of the tenant (admins may act on any ticket; agents on
 * tickets that are unassigned, theirs, or their team's); the system and automations act for the
 * tenant. An automation's actor carries the chain of automations that led to the action, so
 * that the events it records cannot trigger the same automations again (the loop guard).
 */
export type TicketActor =
  | { kind: 'user'; userId: string }
  | { kind: 'customer'; contactId: string }
  | { kind: 'system' }
  | { kind: 'automation'; automationId: string; chain: string[] };

export const SYSTEM_ACTOR: TicketActor = { kind: 'system' };

export interface ActingUser {
  id: string;
  name: string;
  role: 'admin' | 'agent';
}

/** The active user behind `userId` in this tenant, or FORBIDDEN (unknown, disabled or another tenant's: RLS hides those). */
export async function loadActingUser(tx: Tx, tenantId: string, userId: string): Promise<ActingUser> {
  const [user] = await tx
    .select({ id: users.id, name: users.name, role: users.role })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, userId), isNull(users.disabledAt)));
  if (!user) throw new AppError('FORBIDDEN', 'this user may not act in this workspace');
  return user;
}

/**
 * Refuses (FORBIDDEN) a user who may not act on the ticket; NOT_FOUND when the ticket is not the
 * tenant's. Non-people actors always may. Returns the acting user, if any.
 */
export async function assertMayActOnTicket(tx: Tx, tenantId: string, actor: TicketActor, ticketId: string): Promise<ActingUser | undefined> {
  const [ticket] = await tx
    .select({ assigneeId: tickets.assigneeId, teamId: tickets.teamId })
    .from(tickets)
    .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId)));
  if (!ticket) throw new AppError('NOT_FOUND', 'ticket not found');
  if (actor.kind !== 'user') return undefined;
  const user = await loadActingUser(tx, tenantId, actor.userId);
  if (user.role === 'admin' || ticket.assigneeId === null || ticket.assigneeId === user.id) return user;
  if (ticket.teamId) {
    const [member] = await tx
      .select({ userId: teamMembers.userId })
      .from(teamMembers)
      .where(and(eq(teamMembers.tenantId, tenantId), eq(teamMembers.teamId, ticket.teamId), eq(teamMembers.userId, user.id)));
    if (member) return user;
  }
  throw new AppError('FORBIDDEN', 'this ticket is assigned to someone else');
}

/** The columns ticket_events stores for an actor. */
export function actorColumns(actor: TicketActor): { actorKind: 'user' | 'customer' | 'system' | 'automation'; actorId: string | null } {
  switch (actor.kind) {
    case 'user':
      return { actorKind: 'user', actorId: actor.userId };
    case 'customer':
      return { actorKind: 'customer', actorId: actor.contactId };
    case 'automation':
      return { actorKind: 'automation', actorId: actor.automationId };
    case 'system':
      return { actorKind: 'system', actorId: null };
  }
}
