import { randomUUID } from 'node:crypto';
import { executeStatement, type RawStatement, type Tx } from '@relais/db';
import { assertCanOpenTicket } from '../billing/plan-limits/assert-can-open-ticket.js';
import { notificationCtes } from '../notifications/notify-users.js';
import { AppError } from '../shared/app-error.js';
import { assignedNotification } from './assignment/assign-ticket.js';
import { loadRoundRobin, type RoundRobin } from './assignment/auto-assign-ticket.js';
import { actorRow, ticketEventCtes } from './record-ticket-event.js';
import { openingCalendar, ticketOpeningContext, type TicketOpeningRow } from './sla/new-ticket-sla.js';
import type { TicketSla } from './sla/refresh-ticket-sla.js';
import { takeTicketNumbers } from './ticket-counter.js';
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
 * Opens a ticket in the caller's transaction: the acting user (FORBIDDEN unless active) and the
 * contact (NOT_FOUND), the plan's monthly quota (PLAN_LIMIT_REACHED), the category's default
 * priority and SLA policy, a gap-free number, the description as its first message, SLA due
 * times, an assignee (given, or auto-assigned round-robin when the tenant has it on), the
 * `created` / `assigned` events and the assignee's notification. Used by `createTicket` and by
 * the conversation engine.
 */
export async function openTicket(tx: Tx, options: OpenTicketOptions): Promise<OpenedTicket> {
  const [opened] = await openTickets(tx, [options]);
  if (opened instanceof Error) throw opened;
  return opened!;
}

/** Thrown by `openTickets` for several openings on a plan with a ticket quota: open them one at a time. */
export class OneAtATime extends Error {
  constructor() {
    super('this plan counts its tickets: open them one at a time');
  }
}

/**
 * Opens tickets of one tenant in one transaction (all of `openings` have the same tenantId),
 * as the same openings one after another would: the result of each is its ticket, or the
 * AppError that refused it (nothing of it written; the others go on). Four statements whatever
 * their number:
 *
 * 1. before the lock, one read: tenant settings, plan, categories and SLA policies, and the
 *    checks (acting user, contact, assignee, team); due times are computed in memory;
 * 2. the numbers (`tenant_counters`, one upsert: the lock, until commit — gap-free numbers,
 *    only committed tickets hold one);
 * 3. after the lock, when a ticket is to be auto-assigned: the candidate agents, then the
 *    round-robin picks in memory, one ticket after another (a statement after the lock: a
 *    statement's snapshot is taken before it waits, and the picks must see the previous
 *    holder's assignments);
 * 4. one write: tickets, messages, events and their outbox rows, the agents' last assignment,
 *    the assignees' notifications.
 *
 * A plan with a monthly ticket quota (small plans) counts under its own lock, ticket by ticket:
 * several such openings at once throw `OneAtATime`.
 */
export async function openTickets(tx: Tx, openings: readonly OpenTicketOptions[]): Promise<(OpenedTicket | AppError)[]> {
  const tenantId = openings[0]!.tenantId;
  const rows = await executeStatement<OpeningReadRow>(tx, OPENING_READS, [tenantId, JSON.stringify(openings.map((options, i) => readInput(options, i)))]);
  if (rows.length !== openings.length) throw new AppError('NOT_FOUND', 'tenant not found');
  const calendar = openingCalendar(rows[0]!);
  const results: (OpenedTicket | AppError)[] = new Array(openings.length);
  const accepted: { index: number; options: OpenTicketOptions; priority: TicketPriority; autoAssign: boolean; sla: TicketSla }[] = [];
  for (const [index, options] of openings.entries()) {
    const row = rows[index]!;
    // The checks in the order they have always run.
    const refusal = !row.actor_ok
      ? new AppError('FORBIDDEN', 'this user may not act in this workspace')
      : !row.contact_ok
        ? new AppError('NOT_FOUND', 'contact not found')
        : undefined;
    if (refusal) {
      results[index] = refusal;
      continue;
    }
    if (row.plan_id === null || row.tickets_per_month !== null) {
      if (openings.length > 1) throw new OneAtATime();
      await assertCanOpenTicket(tx, tenantId, options.now);
    }
    const invalid =
      options.categoryId && !row.category_found
        ? new AppError('NOT_FOUND', 'category not found')
        : options.assigneeId && !row.assignee_ok
          ? new AppError('VALIDATION_FAILED', 'assignee: no active user of this workspace has this id')
          : options.teamId && !row.team_ok
            ? new AppError('VALIDATION_FAILED', 'team: no team of this workspace has this id')
            : undefined;
    if (invalid) {
      results[index] = invalid;
      continue;
    }
    const context = ticketOpeningContext(row, calendar);
    const priority = options.priority ?? context.categoryPriority ?? 'medium';
    const autoAssign = !options.assigneeId && options.autoAssign !== false && context.autoAssign;
    accepted.push({ index, options, priority, autoAssign, sla: context.slaFor(priority, options.now) });
  }
  if (accepted.length === 0) return results;

  // From here to commit, the tenant's other openings wait.
  const last = await takeTicketNumbers(tx, tenantId, accepted.length);
  let roundRobin: RoundRobin | undefined;
  if (accepted.some((opening) => opening.autoAssign)) {
    const teams = accepted.filter((opening) => opening.autoAssign && opening.options.teamId).map((opening) => opening.options.teamId!);
    roundRobin = await loadRoundRobin(tx, tenantId, teams);
  }
  const tickets: unknown[] = [];
  const messages: unknown[] = [];
  const events: unknown[] = [];
  const notifications: unknown[] = [];
  for (const [k, { index, options, priority, autoAssign, sla }] of accepted.entries()) {
    const number = last - accepted.length + 1 + k;
    const ticketId = randomUUID();
    const at = options.now.toISOString();
    let assigneeId: string | null = options.assigneeId ?? null;
    if (assigneeId) roundRobin?.given(assigneeId);
    else if (autoAssign) assigneeId = roundRobin!.pick(options.teamId ?? null, options.now);
    const byUser = options.actor.kind === 'user';
    const description = options.description?.trim() ? options.description : null;
    tickets.push({
      id: ticketId,
      number,
      contact_id: options.contactId,
      category_id: options.categoryId ?? null,
      conversation_id: options.conversationId ?? null,
      team_id: options.teamId ?? null,
      assignee_id: assigneeId,
      subject: options.subject.trim().slice(0, 200) || '-',
      priority,
      tags: normaliseTags(options.tags ?? []),
      first_response_due_at: iso(sla.firstResponseDueAt),
      first_response_warn_at: iso(sla.firstResponseWarnAt),
      resolution_due_at: iso(sla.resolutionDueAt),
      resolution_warn_at: iso(sla.resolutionWarnAt),
      last_message_at: description === null ? null : at,
      created_at: at,
    });
    if (description !== null) {
      messages.push({
        ticket_id: ticketId,
        author_kind: byUser ? 'agent' : 'customer',
        author_user_id: options.actor.kind === 'user' ? options.actor.userId : null,
        body: description,
        is_private: byUser,
        created_at: at,
      });
    }
    const actor = actorRow(options.actor);
    events.push({ id: randomUUID(), ticket_id: ticketId, kind: 'created', ...actor, data: { number }, created_at: at });
    if (assigneeId) {
      events.push({ id: randomUUID(), ticket_id: ticketId, kind: 'assigned', ...actor, data: { assigneeId, auto: !options.assigneeId }, created_at: at });
      // An assignee who assigned the ticket to themselves needs no notice.
      if (!(options.actor.kind === 'user' && options.actor.userId === assigneeId)) {
        notifications.push({ user_id: assigneeId, payload: assignedNotification(ticketId, number), created_at: at });
      }
    }
    results[index] = { ticketId, ticketNumber: number, assigneeId };
  }
  await executeStatement(tx, OPENING_WRITES, [
    tenantId,
    JSON.stringify(tickets),
    JSON.stringify(messages),
    JSON.stringify(events),
    JSON.stringify(notifications),
    JSON.stringify(roundRobin?.picked() ?? []),
  ]);
  return results;
}

interface OpeningReadRow extends TicketOpeningRow {
  plan_id: string | null;
  tickets_per_month: number | null;
  category_found: boolean;
  actor_ok: boolean;
  contact_ok: boolean;
  assignee_ok: boolean;
  team_ok: boolean;
}

const readInput = (options: OpenTicketOptions, ord: number) => ({
  ord,
  category_id: options.categoryId ?? null,
  actor_user_id: options.actor.kind === 'user' ? options.actor.userId : null,
  contact_id: options.contactId,
  assignee_id: options.assigneeId ?? null,
  team_id: options.teamId ?? null,
});

/**
 * Everything opening reads before the lock, one row per opening (in order): the tenant's
 * timezone and helpdesk settings, its plan (a tenant reads its own row and every plan;
 * commission tenants have the 'commission' plan), the category (when given) and the SLA policy
 * that applies (the category's, else the default), and the checks.
 */
const OPENING_READS: RawStatement = {
  name: 'tickets.opening_reads',
  text: `select t.timezone, h.weekly_hours, h.holidays, coalesce(h.auto_assign, true) as auto_assign,
      p.id as plan_id, p.tickets_per_month,
      c.id is not null as category_found, c.default_priority, coalesce(cp.targets, dp.targets) as targets,
      (i.actor_user_id is null or exists (select 1 from users u where u.tenant_id = t.id and u.id = i.actor_user_id and u.disabled_at is null)) as actor_ok,
      exists (select 1 from contacts ct where ct.tenant_id = t.id and ct.id = i.contact_id) as contact_ok,
      (i.assignee_id is null or exists (select 1 from users u where u.tenant_id = t.id and u.id = i.assignee_id and u.disabled_at is null)) as assignee_ok,
      (i.team_id is null or exists (select 1 from teams m where m.tenant_id = t.id and m.id = i.team_id)) as team_ok
    from tenants t
    cross join jsonb_to_recordset($2::jsonb) as i(ord integer, category_id uuid, actor_user_id uuid, contact_id uuid, assignee_id uuid, team_id uuid)
    left join plans p on p.id = coalesce(t.plan_id, case when t.billing_mode = 'commission' then 'commission' end)
    left join helpdesk_settings h on h.tenant_id = t.id
    left join categories c on c.tenant_id = t.id and c.id = i.category_id
    left join sla_policies cp on cp.tenant_id = t.id and cp.id = c.sla_policy_id
    left join sla_policies dp on dp.tenant_id = t.id and dp.is_default
    where t.id = $1
    order by i.ord`,
};

/** Everything opening writes, under the lock, in one statement (foreign keys are checked at its end). */
const OPENING_WRITES: RawStatement = {
  name: 'tickets.opening_writes',
  text: `with ticket_rows as (
      insert into tickets (tenant_id, id, number, contact_id, category_id, conversation_id, team_id, assignee_id, subject, priority, tags,
        first_response_due_at, first_response_warn_at, resolution_due_at, resolution_warn_at, last_message_at, created_at, updated_at)
      select $1::uuid, t.id, t.number, t.contact_id, t.category_id, t.conversation_id, t.team_id, t.assignee_id, t.subject, t.priority,
        array(select jsonb_array_elements_text(t.tags)), t.first_response_due_at, t.first_response_warn_at, t.resolution_due_at, t.resolution_warn_at,
        t.last_message_at, t.created_at, t.created_at
      from jsonb_to_recordset($2::jsonb) as t(id uuid, number integer, contact_id uuid, category_id uuid, conversation_id uuid, team_id uuid, assignee_id uuid,
        subject text, priority text, tags jsonb, first_response_due_at timestamptz, first_response_warn_at timestamptz, resolution_due_at timestamptz,
        resolution_warn_at timestamptz, last_message_at timestamptz, created_at timestamptz)
      returning id
    ),
    message_rows as (
      insert into ticket_messages (tenant_id, ticket_id, author_kind, author_user_id, body, is_private, created_at)
      select $1::uuid, m.ticket_id, m.author_kind, m.author_user_id, m.body, m.is_private, m.created_at
      from jsonb_to_recordset($3::jsonb) as m(ticket_id uuid, author_kind text, author_user_id uuid, body text, is_private boolean, created_at timestamptz)
    ),
    ticket_event_input as (
      select * from jsonb_to_recordset($4::jsonb) as e(id uuid, ticket_id uuid, kind text, actor_kind text, actor_id text, data jsonb, created_at timestamptz)
    ),
    ${ticketEventCtes('$1::uuid')},
    picked_agents as (
      update users u set last_assigned_at = p.at
      from jsonb_to_recordset($6::jsonb) as p(id uuid, at timestamptz)
      where u.tenant_id = $1::uuid and u.id = p.id
    ),
    notification_input as (
      select * from jsonb_to_recordset($5::jsonb) as n(user_id uuid, payload jsonb, created_at timestamptz)
    ),
    ${notificationCtes('$1::uuid', `'ticket.assigned'`)}
    select count(*) from ticket_rows`,
};

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Tags are lower-case words without spaces, kept once each, in order. */
export function normaliseTags(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim().toLowerCase().replace(/\s+/g, '-')).filter((tag) => tag.length > 0 && tag.length <= 40))];
}
