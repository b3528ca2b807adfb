import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { executeRows, type Tx } from '@relais/db';
import { assertCanOpenTicket } from '../billing/plan-limits/assert-can-open-ticket.js';
import { notifyAssignee } from './assignment/assign-ticket.js';
import { pickAssignee } from './assignment/auto-assign-ticket.js';
import { recordTicketEvents } from './record-ticket-event.js';
import { loadTicketOpeningContext } from './sla/new-ticket-sla.js';
import { assertActiveUser, assertTeamExists } from './ticket-references.js';
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
 * the category's default priority and SLA policy, a gap-free number, the description as its
 * first message, SLA due times, an assignee (given, or auto-assigned round-robin when the tenant
 * has it on), the `created` / `assigned` events and the assignee's notification. Used by
 * `createTicket` and by the conversation engine.
 *
 * Ticket numbers and assignments serialise a tenant's openings (the counter row and the
 * assignment lock are held until commit), so everything that can be read is read before them and
 * what follows them is four statements: the pick, the ticket with its number and message, the
 * events, the notification (issue 6's benchmark: 500 openings per second).
 */
export async function openTicket(tx: Tx, options: OpenTicketOptions): Promise<OpenedTicket> {
  const { tenantId, now } = options;
  await assertCanOpenTicket(tx, tenantId, now);
  const context = await loadTicketOpeningContext(tx, { tenantId, categoryId: options.categoryId });
  const priority = options.priority ?? context.categoryPriority ?? 'medium';
  const sla = context.slaFor(priority, now);
  if (options.assigneeId) await assertActiveUser(tx, tenantId, options.assigneeId);
  if (options.teamId) await assertTeamExists(tx, tenantId, options.teamId);
  const autoAssign = !options.assigneeId && options.autoAssign !== false && context.autoAssign;
  const ticketId = randomUUID();
  const byUser = options.actor.kind === 'user';
  const description = options.description?.trim() ? options.description : null;

  // From here to commit, the tenant's other openings wait.
  const assigneeId = options.assigneeId ?? (autoAssign ? ((await pickAssignee(tx, { tenantId, teamId: options.teamId, now })) ?? null) : null);
  const [ticket] = (await executeRows(
    tx,
    sql`with counter as (
          insert into tenant_counters (tenant_id, name, value) values (${tenantId}, ${TICKET_NUMBER_COUNTER}, 1)
          on conflict (tenant_id, name) do update set value = tenant_counters.value + 1
          returning value
        ),
        ticket as (
          insert into tickets (tenant_id, id, number, contact_id, category_id, conversation_id, team_id, assignee_id, subject, priority, tags,
            first_response_due_at, first_response_warn_at, resolution_due_at, resolution_warn_at, last_message_at, created_at, updated_at)
          select ${tenantId}, ${ticketId}, counter.value, ${options.contactId}, ${options.categoryId ?? null}::uuid, ${options.conversationId ?? null}::uuid,
            ${options.teamId ?? null}::uuid, ${assigneeId}::uuid, ${options.subject.trim().slice(0, 200) || '-'}, ${priority},
            array(select jsonb_array_elements_text(${JSON.stringify(normaliseTags(options.tags ?? []))}::jsonb)),
            ${iso(sla.firstResponseDueAt)}::timestamptz, ${iso(sla.firstResponseWarnAt)}::timestamptz,
            ${iso(sla.resolutionDueAt)}::timestamptz, ${iso(sla.resolutionWarnAt)}::timestamptz,
            ${description === null ? null : now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
          from counter
          returning number
        ),
        message as (
          insert into ticket_messages (tenant_id, ticket_id, author_kind, author_user_id, body, is_private, created_at)
          select ${tenantId}, ${ticketId}, ${byUser ? 'agent' : 'customer'}, ${options.actor.kind === 'user' ? options.actor.userId : null}::uuid,
            ${description}::text, ${byUser}, ${now.toISOString()}::timestamptz
          from ticket
          where ${description}::text is not null
        )
        select number from ticket`,
  )) as { number: number }[];
  const ticketNumber = Number(ticket!.number);
  await recordTicketEvents(tx, [
    { tenantId, ticketId, kind: 'created', actor: options.actor, data: { number: ticketNumber }, at: now },
    ...(assigneeId ? [{ tenantId, ticketId, kind: 'assigned' as const, actor: options.actor, data: { assigneeId, auto: !options.assigneeId }, at: now }] : []),
  ]);
  const actorIsAssignee = options.actor.kind === 'user' && options.actor.userId === assigneeId;
  if (assigneeId && !actorIsAssignee) await notifyAssignee(tx, { tenantId, ticketId, ticketNumber, assigneeId, now });
  return { ticketId, ticketNumber, assigneeId };
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Tags are lower-case words without spaces, kept once each, in order. */
export function normaliseTags(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim().toLowerCase().replace(/\s+/g, '-')).filter((tag) => tag.length > 0 && tag.length <= 40))];
}
