import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { executeRows, type Tx } from '@relais/db';
import { assertCanOpenTicket } from '../billing/plan-limits/assert-can-open-ticket.js';
import { notificationCtes } from '../notifications/notify-users.js';
import { assignedNotification } from './assignment/assign-ticket.js';
import { assigneePickCte } from './assignment/auto-assign-ticket.js';
import { actorRow, ticketEventCtes } from './record-ticket-event.js';
import { loadTicketOpeningContext } from './sla/new-ticket-sla.js';
import { nextTicketNumber } from './ticket-counter.js';
import { assertActiveUser, assertTeamExists } from './ticket-references.js';
import type { TicketActor } from './ticket-actor.js';
import type { TicketPriority } from './ticket-values.js';


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
 * The ticket number's counter row serialises a tenant's openings and assignments until commit
 * (fair round-robin, gap-free numbers), so everything that can be read is read before it, and
 * under it there is one statement: the pick, the ticket, its message, the events with their
 * outbox rows and the notification (issue 6's benchmark: 500 openings per second).
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
  const at = now.toISOString();
  const actor = actorRow(options.actor);

  // From here to commit, the tenant's other openings wait.
  const ticketNumber = await nextTicketNumber(tx, tenantId);
  const assignee = options.assigneeId
    ? sql`assignee_pick as (select ${options.assigneeId}::uuid as id),`
    : autoAssign
      ? sql`${assigneePickCte({ tenantId, teamId: options.teamId, now })},`
      : sql`assignee_pick as (select null::uuid as id where false),`;
  const events = sql`select ${randomUUID()}::uuid as id, ${ticketId}::uuid as ticket_id, 'created'::text as kind, ${actor.actor_kind}::text as actor_kind,
        ${actor.actor_id}::text as actor_id, ${JSON.stringify({ number: ticketNumber })}::jsonb as data, ${at}::timestamptz as created_at
      union all
      select gen_random_uuid(), ${ticketId}::uuid, 'assigned'::text, ${actor.actor_kind}::text, ${actor.actor_id}::text,
        jsonb_build_object('assigneeId', p.id, 'auto', ${!options.assigneeId}::boolean), ${at}::timestamptz
      from assignee_pick p`;
  // An assignee who assigned the ticket to themselves needs no notice.
  const notified = options.actor.kind === 'user' ? sql`select id from assignee_pick where id <> ${options.actor.userId}::uuid` : sql`select id from assignee_pick`;
  const [row] = (await executeRows(
    tx,
    sql`with ${assignee}
        ticket as (
          insert into tickets (tenant_id, id, number, contact_id, category_id, conversation_id, team_id, assignee_id, subject, priority, tags,
            first_response_due_at, first_response_warn_at, resolution_due_at, resolution_warn_at, last_message_at, created_at, updated_at)
          values (${tenantId}::uuid, ${ticketId}::uuid, ${ticketNumber}::integer, ${options.contactId}::uuid, ${options.categoryId ?? null}::uuid, ${options.conversationId ?? null}::uuid,
            ${options.teamId ?? null}::uuid, (select id from assignee_pick), ${options.subject.trim().slice(0, 200) || '-'}::text, ${priority}::text,
            array(select jsonb_array_elements_text(${JSON.stringify(normaliseTags(options.tags ?? []))}::jsonb)),
            ${iso(sla.firstResponseDueAt)}::timestamptz, ${iso(sla.firstResponseWarnAt)}::timestamptz,
            ${iso(sla.resolutionDueAt)}::timestamptz, ${iso(sla.resolutionWarnAt)}::timestamptz,
            ${description === null ? null : at}::timestamptz, ${at}::timestamptz, ${at}::timestamptz)
          returning id
        ),
        message as (
          insert into ticket_messages (tenant_id, ticket_id, author_kind, author_user_id, body, is_private, created_at)
          select ${tenantId}::uuid, ${ticketId}::uuid, ${byUser ? 'agent' : 'customer'}::text, ${options.actor.kind === 'user' ? options.actor.userId : null}::uuid,
            ${description}::text, ${byUser}::boolean, ${at}::timestamptz
          from ticket
          where ${description}::text is not null
        ),
        ${ticketEventCtes(tenantId, events)},
        ${notificationCtes({ tenantId, userIds: notified, kind: 'ticket.assigned', content: assignedNotification(ticketId, ticketNumber), at: now })}
        select (select id from assignee_pick) as assignee_id`,
  )) as { assignee_id: string | null }[];
  return { ticketId, ticketNumber, assigneeId: row?.assignee_id ?? null };
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Tags are lower-case words without spaces, kept once each, in order. */
export function normaliseTags(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim().toLowerCase().replace(/\s+/g, '-')).filter((tag) => tag.length > 0 && tag.length <= 40))];
}
