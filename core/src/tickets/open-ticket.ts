import { and, eq, sql } from 'drizzle-orm';
import { categories, executeRows, ticketMessages, tickets, type Tx } from '@relais/db';
import { assertCanOpenTicket } from '../billing/plan-limits/assert-can-open-ticket.js';
import { AppError } from '../shared/app-error.js';
import { assignTicket } from './assignment/assign-ticket.js';
import { loadHelpdeskBehaviour } from './helpdesk-settings.js';
import { recordTicketEvent } from './record-ticket-event.js';
import { refreshTicketSla } from './sla/refresh-ticket-sla.js';
import type { TicketActor } from './ticket-actor.js';
import type { TicketPriority } from './ticket-values.js';

/** The tenant_counters row that numbers tickets (#1, #2...). */
export const TICKET_NUMBER_COUNTER = 'ticket';

export interface OpenTicketOptions {
  tenantId: string;
  actor: TicketActor;
  contactId: string;
  categoryId?: string | null;
  subject: string;
  /** The customer's words (or, from an agent, an internal description kept as a private note). */
  description?: string;
  priority?: TicketPriority;
  teamId?: string | null;
  /** An assignee chosen by hand; otherwise auto-assignment when the tenant has it on. */
  assigneeId?: string | null;
  tags?: string[];
  conversationId?: string | null;
  /** false: never auto-assigned (a WiFi purchase is not work for an agent); default: the tenant's setting. */
  autoAssign?: boolean;
  now: Date;
}

export interface OpenedTicket {
  ticketId: string;
  ticketNumber: number;
  assigneeId: string | null;
}

/**
 * Opens a ticket in the caller's transaction: the plan's monthly quota (PLAN_LIMIT_REACHED),
 * the category's default priority and SLA policy, a gap-free number (the counter row stays locked
 * until commit), the description as its first message, SLA due times, auto-assignment, and the
 * `created` event. Used by `createTicket` and by the conversation engine.
 */
export async function openTicket(tx: Tx, options: OpenTicketOptions): Promise<OpenedTicket> {
  const { tenantId, now } = options;
  await assertCanOpenTicket(tx, tenantId, now);
  let priority = options.priority;
  if (options.categoryId) {
    const [category] = await tx
      .select({ priority: categories.defaultPriority })
      .from(categories)
      .where(and(eq(categories.tenantId, tenantId), eq(categories.id, options.categoryId)));
    if (!category) throw new AppError('NOT_FOUND', 'category not found');
    priority ??= category.priority;
  }
  // Late in the transaction: the counter row is locked from here to commit.
  const [counter] = (await executeRows(
    tx,
    sql`insert into tenant_counters (tenant_id, name, value) values (${tenantId}, ${TICKET_NUMBER_COUNTER}, 1)
        on conflict (tenant_id, name) do update set value = tenant_counters.value + 1
        returning value`,
  )) as { value: string | number }[];
  const [ticket] = await tx
    .insert(tickets)
    .values({
      tenantId,
      number: Number(counter!.value),
      contactId: options.contactId,
      categoryId: options.categoryId ?? null,
      conversationId: options.conversationId ?? null,
      teamId: options.teamId ?? null,
      subject: options.subject.trim().slice(0, 200) || '-',
      priority: priority ?? 'medium',
      tags: normaliseTags(options.tags ?? []),
      lastMessageAt: options.description ? now : null,
      createdAt: now,
      updatedAt: now,
    })
    .returning({ id: tickets.id, number: tickets.number });
  const ticketId = ticket!.id;
  if (options.description) {
    const byUser = options.actor.kind === 'user';
    await tx.insert(ticketMessages).values({
      tenantId,
      ticketId,
      authorKind: byUser ? 'agent' : 'customer',
      authorUserId: options.actor.kind === 'user' ? options.actor.userId : null,
      body: options.description,
      isPrivate: byUser,
      createdAt: now,
    });
  }
  await refreshTicketSla(tx, { tenantId, ticketId, now, reason: 'created' });
  await recordTicketEvent(tx, { tenantId, ticketId, kind: 'created', actor: options.actor, data: { number: ticket!.number }, at: now });
  let assigneeId: string | null = null;
  if (options.assigneeId) {
    assigneeId = await assignTicket(tx, { tenantId, ticketId, actor: options.actor, assigneeId: options.assigneeId, now });
  } else if (options.autoAssign !== false && (await loadHelpdeskBehaviour(tx, tenantId)).autoAssign) {
    assigneeId = await assignTicket(tx, { tenantId, ticketId, actor: options.actor, auto: true, teamId: options.teamId ?? null, now });
  }
  return { ticketId, ticketNumber: ticket!.number, assigneeId };
}

/** Tags are lower-case words without spaces, kept once each, in order. */
export function normaliseTags(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim().toLowerCase().replace(/\s+/g, '-')).filter((tag) => tag.length > 0 && tag.length <= 40))];
}
