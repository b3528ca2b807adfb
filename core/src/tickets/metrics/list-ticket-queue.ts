import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { executeRows, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import { loadActingUser } from '../ticket-actor.js';
import type { TicketDeps } from '../ticket-deps.js';
import { ticketPrioritySchema, type TicketPriority, type TicketStatus } from '../ticket-values.js';

export const TICKET_QUEUE_VIEWS = ['unassigned', 'mine', 'team', 'all_open'] as const;
export const MAX_TICKET_QUEUE_PAGE = 100;

const listTicketQueueInput = z.object({
  tenantId: z.uuid(),
  /** Who looks: an active user of the tenant ("mine" is theirs). */
  userId: z.uuid(),
  view: z.enum(TICKET_QUEUE_VIEWS),
  /** Narrows any view to one team; "team" without it means every team the user is in. */
  teamId: z.uuid().optional(),
  status: z.enum(['open', 'pending']).optional(),
  priority: ticketPrioritySchema.optional(),
  limit: z.number().int().min(1).max(MAX_TICKET_QUEUE_PAGE).default(50),
  /** `nextCursor` of the previous page, with the same filters. */
  cursor: z.string().max(200).optional(),
});

export interface QueuedTicket {
  id: string;
  number: number;
  subject: string;
  status: Extract<TicketStatus, 'open' | 'pending'>;
  priority: TicketPriority;
  assignee: { id: string; name: string } | null;
  teamId: string | null;
  contact: { id: string; name: string | null };
  lastMessageAt: Date | null;
  createdAt: Date;
  firstResponseDueAt: Date | null;
  resolutionDueAt: Date | null;
  /** The due time the queue sorts on: the first-response one until answered, else the resolution one (earliest of both). */
  nextDueAt: Date | null;
  /** Answered late, or still unanswered past the due time (or the SLA job recorded the breach). */
  firstResponseBreached: boolean;
  /** Past the resolution due time (or the SLA job recorded the breach). */
  resolutionBreached: boolean;
}

export interface TicketQueuePage {
  tickets: QueuedTicket[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** Where a page ends, in the queue's order: priority rank, next due time (null last), creation, id. */
interface QueuePosition {
  rank: number;
  /** ISO text with microseconds (PostgreSQL's precision), null = no due time. */
  due: string | null;
  created: string;
  id: string;
}

const positionSchema = z.object({
  rank: z.number().int().min(0).max(3),
  due: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/).nullable(),
  created: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
  id: z.uuid(),
});

function encodeCursor(position: QueuePosition): string {
  return Buffer.from(JSON.stringify([position.rank, position.due, position.created, position.id])).toString('base64url');
}

function decodeCursor(cursor: string): QueuePosition {
  let parsed: z.ZodSafeParseResult<QueuePosition>;
  try {
    const [rank, due, created, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    parsed = positionSchema.safeParse({ rank, due, created, id });
  } catch {
    throw new AppError('VALIDATION_FAILED', 'cursor: not a cursor of this list');
  }
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', 'cursor: not a cursor of this list');
  return parsed.data;
}

const PRIORITY_RANK = sql`(case t.priority when 'urgent' then 0 when 'high' then 1 when 'medium' then 2 else 3 end)`;
/** The running target: first response until answered, resolution always (least() skips nulls). */
const NEXT_DUE = sql`least(case when t.first_responded_at is null then t.first_response_due_at end, t.resolution_due_at)`;
const NEXT_DUE_SORT = sql`coalesce(${NEXT_DUE}, 'infinity'::timestamptz)`;
const MICROSECONDS = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

async function viewCondition(tx: Tx, input: z.output<typeof listTicketQueueInput>): Promise<SQL> {
  const { tenantId, userId, teamId } = input;
  const user = await loadActingUser(tx, tenantId, userId);
  if (teamId && input.view === 'team' && user.role !== 'admin') {
    const [member] = await executeRows(tx, sql`select 1 from team_members where tenant_id = ${tenantId} and team_id = ${teamId} and user_id = ${userId}`);
    if (!member) throw new AppError('FORBIDDEN', 'this user is not in this team');
  }
  const ofTeam = teamId ? sql` and t.team_id = ${teamId}` : sql``;
  switch (input.view) {
    case 'unassigned':
      return sql`t.assignee_id is null${ofTeam}`;
    case 'mine':
      return sql`t.assignee_id = ${userId}${ofTeam}`;
    case 'team':
      return teamId ? sql`t.team_id = ${teamId}` : sql`t.team_id in (select m.team_id from team_members m where m.tenant_id = ${tenantId} and m.user_id = ${userId})`;
    case 'all_open':
      return teamId ? sql`t.team_id = ${teamId}` : sql`true`;
  }
}

/**
 * The open-ticket queue an agent works from: open and pending tickets (merged ones are closed),
 * most urgent first (urgent, high, medium, low), then the nearest running due time (tickets
 * without one last), then the oldest; a page at a time, by keyset (the cursor holds the last
 * row's sort key, so a page never repeats or skips rows that did not move meanwhile).
 *
 * Views: `unassigned` (nobody's), `mine` (assigned to `userId`), `team` (of `teamId`, or of any
 * team `userId` is in), `all_open` (everything). `teamId` narrows every view; an agent asking
 * for a team's view must be in that team (FORBIDDEN). Listing is reading: what a user may then
 * do to a ticket is checked by the use case that does it.
 */
export async function listTicketQueue(deps: TicketDeps, options: z.input<typeof listTicketQueueInput>): Promise<TicketQueuePage> {
  const input = parseInput(listTicketQueueInput, options);
  const { tenantId } = input;
  const after = input.cursor ? decodeCursor(input.cursor) : undefined;
  const now = deps.clock.now().toISOString();
  return deps.db.withTenant(tenantId, async (tx) => {
    const view = await viewCondition(tx, input);
    const statuses = input.status ? sql`t.status = ${input.status}` : sql`t.status in ('open', 'pending')`;
    const position = after
      ? sql` and (${PRIORITY_RANK}, ${NEXT_DUE_SORT}, t.created_at, t.id)
               > (${after.rank}::int, coalesce(${after.due}::timestamptz, 'infinity'::timestamptz), ${after.created}::timestamptz, ${after.id}::uuid)`
      : sql``;
    // The page is chosen on tickets alone; names are joined to its rows only.
    const rows = await executeRows(
      tx,
      sql`select q.*, c.name as contact_name, u.name as assignee_name,
            ${MICROSECONDS(sql`q.next_due_at`)} as due_key, ${MICROSECONDS(sql`q.created_at`)} as created_key
          from (
            select t.id, t.number, t.subject, t.status, t.priority, t.assignee_id, t.team_id, t.contact_id, t.tenant_id,
              t.last_message_at, t.created_at, t.first_response_due_at, t.resolution_due_at,
              ${PRIORITY_RANK} as rank, ${NEXT_DUE} as next_due_at, ${NEXT_DUE_SORT} as due_sort,
              (t.first_response_due_at is not null and (t.first_response_breached_at is not null
                or coalesce(t.first_responded_at, t.sla_paused_at, ${now}::timestamptz) > t.first_response_due_at)) as first_response_breached,
              (t.resolution_due_at is not null and (t.resolution_breached_at is not null
                or coalesce(t.sla_paused_at, ${now}::timestamptz) > t.resolution_due_at)) as resolution_breached
            from tickets t
            where t.tenant_id = ${tenantId} and ${statuses} and ${view}
              ${input.priority ? sql` and t.priority = ${input.priority}` : sql``}${position}
            order by rank, due_sort, t.created_at, t.id
            limit ${input.limit + 1}
          ) q
          join contacts c on c.tenant_id = q.tenant_id and c.id = q.contact_id
          left join users u on u.tenant_id = q.tenant_id and u.id = q.assignee_id
          order by q.rank, q.due_sort, q.created_at, q.id`,
    );
    const page = rows.slice(0, input.limit);
    const last = page.at(-1);
    return {
      tickets: page.map(toQueuedTicket),
      nextCursor:
        rows.length > input.limit && last
          ? encodeCursor({ rank: Number(last.rank), due: (last.due_key as string | null) ?? null, created: String(last.created_key), id: String(last.id) })
          : null,
    };
  });
}

const dateOrNull = (value: unknown): Date | null => (value === null || value === undefined ? null : new Date(value as string | Date));

function toQueuedTicket(row: Record<string, unknown>): QueuedTicket {
  return {
    id: String(row.id),
    number: Number(row.number),
    subject: String(row.subject),
    status: row.status as QueuedTicket['status'],
    priority: row.priority as TicketPriority,
    assignee: row.assignee_id ? { id: String(row.assignee_id), name: String(row.assignee_name) } : null,
    teamId: (row.team_id as string | null) ?? null,
    contact: { id: String(row.contact_id), name: (row.contact_name as string | null) ?? null },
    lastMessageAt: dateOrNull(row.last_message_at),
    createdAt: new Date(row.created_at as string | Date),
    firstResponseDueAt: dateOrNull(row.first_response_due_at),
    resolutionDueAt: dateOrNull(row.resolution_due_at),
    nextDueAt: dateOrNull(row.next_due_at),
    firstResponseBreached: row.first_response_breached === true || row.first_response_breached === 't',
    resolutionBreached: row.resolution_breached === true || row.resolution_breached === 't',
  };
}
