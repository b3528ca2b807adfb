import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { executeRows, users, type Database } from '@relais/db';

/** The helpdesk data set bench/tickets measures on: one tenant, its agents, contacts, tickets, messages, CSAT. */
export interface TicketsSeed {
  agentIds: string[];
  contacts: number;
  tickets: number;
  messages: number;
  csat: number;
  openOrPending: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Seeds `tickets` tickets created evenly over the `days` before `now`, in creation order (as a
 * real table fills), each with `messagesPerTicket` messages, server side (INSERT ... SELECT over
 * generate_series, under withTenant: the runtime role and row-level security, like the app).
 *
 * The spread: priorities 10 % urgent, 20 % high, 50 % medium, 20 % low; 90 % under an SLA
 * (first response 30 min to 8 h by priority, resolution 8 times that, wall-clock); first replies
 * after 1 min to 10 h (mostly within the hour), resolutions after 20 min to 3 days. Tickets of the
 * last two days are half open or pending, older ones 1.5 % (about 2.6 % overall); 30 % of the open
 * ones unassigned and 40 % unanswered; the rest spread evenly over the agents. A quarter of the
 * resolved tickets have a CSAT answer (mostly 4-5). Breach times are set where a due time passed.
 * Deterministic for a given size (setseed).
 */
export async function seedHelpdesk(
  db: Database,
  options: { tenantId: string; now: Date; days: number; tickets: number; messagesPerTicket: number; agents: number; onProgress?: (line: string) => void },
): Promise<TicketsSeed> {
  const { tenantId, now, tickets } = options;
  const contacts = Math.max(1, Math.ceil(tickets / 4));
  const start = new Date(now.getTime() - options.days * DAY_MS);
  const stepMs = (options.days * DAY_MS) / tickets;
  const nowSql = sql`${now.toISOString()}::timestamptz`;
  const progress = options.onProgress ?? (() => {});

  const agentIds = await db.withTenant(tenantId, async (tx) => {
    const rows = await tx
      .insert(users)
      .values(
        Array.from({ length: options.agents }, (_, i) => ({
          tenantId,
          email: `agent-${i + 1}@bench.example`,
          name: `Agent ${String(i + 1).padStart(2, '0')}`,
          role: 'agent' as const,
          passwordHash: randomBytes(16).toString('hex'),
          mustChangePassword: false,
          availability: 'available' as const,
          // Capacity is not what the benchmark measures: every agent can take every new ticket.
          maxOpenTickets: 1_000_000,
        })),
      )
      .returning({ id: users.id });
    await executeRows(
      tx,
      sql`insert into contacts (tenant_id, name, phone_e164, created_at)
          select ${tenantId}, 'Client ' || g, '+2376' || lpad(g::text, 8, '0'), ${start.toISOString()}::timestamptz
          from generate_series(0, ${contacts - 1}) g`,
    );
    return rows.map((row) => row.id);
  });
  progress(`${options.agents} agents, ${contacts} contacts`);

  const agentsArray = sql`${`{${agentIds.join(',')}}`}::uuid[]`;
  const TICKET_CHUNK = 50_000;
  for (let first = 1; first <= tickets; first += TICKET_CHUNK) {
    const last = Math.min(tickets, first + TICKET_CHUNK - 1);
    await db.withTenant(tenantId, async (tx) => {
      await executeRows(tx, sql`select setseed(${first / (tickets + 1)})`);
      await executeRows(
        tx,
        sql`with base as (
              select g as n, ${start.toISOString()}::timestamptz + (g - 1) * ${`${stepMs} milliseconds`}::interval as created_at,
                random() as u_status, random() as u_priority, random() as u_agent, random() as u_reply, random() as u_resolve,
                random() as u_sla, random() as u_unassigned
              from generate_series(${first}::int, ${last}::int) g
            ), shaped as (
              select b.*,
                case when u_priority < 0.1 then 'urgent' when u_priority < 0.3 then 'high' when u_priority < 0.8 then 'medium' else 'low' end as priority,
                case when b.created_at > ${nowSql} - interval '2 days'
                  then case when u_status < 0.35 then 'open' when u_status < 0.5 then 'pending' when u_status < 0.85 then 'resolved' else 'closed' end
                  else case when u_status < 0.01 then 'open' when u_status < 0.015 then 'pending' when u_status < 0.55 then 'resolved' else 'closed' end
                end as status,
                b.created_at + interval '1 minute' * (1 + 600 * u_reply ^ 3) as replied_at,
                b.created_at + interval '1 minute' * (20 + 4320 * u_resolve ^ 2) as done_at
              from base b
            ), timed as (
              select s.*,
                s.status in ('open', 'pending') as still_open,
                case s.priority when 'urgent' then 30 when 'high' then 60 when 'medium' then 240 else 480 end as first_response_minutes
              from shaped s
            ), dated as (
              select t.*,
                case when t.still_open and (t.u_reply > 0.6 or t.replied_at >= ${nowSql}) then null else least(t.replied_at, ${nowSql} - interval '1 second') end as first_responded_at,
                case when t.still_open then null else least(greatest(t.done_at, t.replied_at + interval '1 minute'), ${nowSql} - interval '1 second') end as resolved_at,
                case when t.u_sla < 0.9 then t.created_at + interval '1 minute' * t.first_response_minutes end as first_response_due_at,
                case when t.u_sla < 0.9 then t.created_at + interval '8 minutes' * t.first_response_minutes end as resolution_due_at,
                case when t.still_open and t.u_unassigned < 0.3 then null else (${agentsArray})[1 + floor(t.u_agent * ${agentIds.length})::int] end as assignee_id
              from timed t
            )
            insert into tickets (tenant_id, number, contact_id, assignee_id, subject, status, priority, created_at, updated_at,
              first_response_due_at, resolution_due_at, first_responded_at, resolved_at, closed_at, sla_paused_at,
              first_response_breached_at, resolution_breached_at, last_message_at)
            select ${tenantId}, d.n, c.id, d.assignee_id, 'Ticket ' || d.n || ' : le WiFi ne se connecte pas', d.status, d.priority, d.created_at,
              coalesce(d.resolved_at, d.first_responded_at, d.created_at),
              d.first_response_due_at, d.resolution_due_at, d.first_responded_at, d.resolved_at,
              case when d.status = 'closed' then d.resolved_at end,
              case when d.status = 'pending' then least(d.created_at + interval '5 minutes', ${nowSql}) end,
              case when d.first_response_due_at < coalesce(d.first_responded_at, d.resolved_at, ${nowSql}) then d.first_response_due_at end,
              case when d.resolution_due_at < coalesce(d.resolved_at, ${nowSql}) then d.resolution_due_at end,
              coalesce(d.resolved_at, d.first_responded_at, d.created_at)
            from dated d
            join contacts c on c.tenant_id = ${tenantId} and c.phone_e164 = '+2376' || lpad((d.n % ${contacts})::text, 8, '0')
            order by d.n`,
      );
    });
    progress(`tickets ${last}/${tickets}`);
  }

  const MESSAGE_CHUNK = Math.max(1, Math.floor(200_000 / options.messagesPerTicket));
  for (let first = 1; first <= tickets; first += MESSAGE_CHUNK) {
    const last = Math.min(tickets, first + MESSAGE_CHUNK - 1);
    // Spread from creation to the last message; the customer speaks first, agents (once they have replied) every other message.
    await db.withTenant(tenantId, (tx) =>
      executeRows(
        tx,
        sql`insert into ticket_messages (tenant_id, ticket_id, author_kind, author_user_id, body, created_at)
            select t.tenant_id, t.id,
              case when k % 2 = 0 and t.first_responded_at is not null then 'agent' else 'customer' end,
              case when k % 2 = 0 and t.first_responded_at is not null then t.assignee_id end,
              'Message ' || k || ' du ticket ' || t.number || ' : mon forfait WiFi ne se connecte pas depuis ce matin.',
              t.created_at + (t.last_message_at - t.created_at) * ((k - 1)::float / ${options.messagesPerTicket})
            from tickets t cross join generate_series(1, ${options.messagesPerTicket}::int) k
            where t.tenant_id = ${tenantId} and t.number between ${first} and ${last}`,
      ),
    );
    if (Math.floor(last / (tickets / 10)) !== Math.floor((first - 1) / (tickets / 10)) || last === tickets) progress(`messages of tickets ${last}/${tickets}`);
  }

  const [counts] = await db.withTenant(tenantId, async (tx) => {
    await executeRows(tx, sql`select setseed(0.5)`);
    await executeRows(
      tx,
      sql`insert into csat_responses (tenant_id, ticket_id, contact_id, agent_id, rating, created_at)
          select t.tenant_id, t.id, t.contact_id, t.assignee_id,
            case when t.u < 0.5 then 5 when t.u < 0.75 then 4 when t.u < 0.85 then 3 when t.u < 0.93 then 2 else 1 end,
            least(t.resolved_at + interval '15 minutes', ${nowSql})
          from (select t.*, random() as u, random() as pick from tickets t where t.tenant_id = ${tenantId} and t.resolved_at is not null and t.assignee_id is not null) t
          where t.pick < 0.25`,
    );
    // createTicket numbers new tickets after the seeded ones.
    await executeRows(tx, sql`insert into tenant_counters (tenant_id, name, value) values (${tenantId}, 'ticket', ${tickets})`);
    return executeRows(
      tx,
      sql`select (select count(*) from ticket_messages where tenant_id = ${tenantId}) as messages,
                 (select count(*) from csat_responses where tenant_id = ${tenantId}) as csat,
                 (select count(*) from tickets where tenant_id = ${tenantId} and status in ('open', 'pending')) as open`,
    );
  });
  return {
    agentIds,
    contacts,
    tickets,
    messages: Number(counts!.messages),
    csat: Number(counts!.csat),
    openOrPending: Number(counts!.open),
  };
}
