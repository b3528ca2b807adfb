import { sql, type SQL } from 'drizzle-orm';
import { executeRows, type Tx } from '@relais/db';
import { lockTicketCounter } from '../ticket-counter.js';

/**
 * Picks the agent who gets a ticket, round-robin by load, and marks them: see `assigneePickCte`.
 * Returns undefined when nobody can take it (the ticket waits in the queue).
 *
 * Fair under concurrency: a tenant's picks and ticket openings are serialised by its ticket
 * counter row, locked until commit, so each pick sees the tickets the previous ones assigned
 * (the lock is its own statement: a statement's snapshot is taken before it waits).
 */
export async function pickAssignee(tx: Tx, options: { tenantId: string; teamId?: string | null; now: Date }): Promise<string | undefined> {
  await lockTicketCounter(tx, options.tenantId);
  const [winner] = (await executeRows(tx, sql`with ${assigneePickCte(options)} select id from assignee_pick`)) as { id: string }[];
  return winner?.id;
}

/**
 * The CTE item `assignee_pick` (id): among active agents marked available (in `teamId` when
 * given) with fewer open or pending tickets than their capacity (users.open_tickets, kept by a
 * trigger), the least loaded, then the one assigned longest ago (never assigned first), then by
 * id; its `last_assigned_at` set to `now`. Empty when nobody can take a ticket. The caller holds
 * the tenant's ticket counter lock.
 */
export function assigneePickCte(options: { tenantId: string; teamId?: string | null; now: Date }): SQL {
  const teamId = options.teamId ?? null;
  return sql`assignee_pick as (
      update users set last_assigned_at = ${options.now.toISOString()}::timestamptz
      from (
        select u.id from users u
        where u.tenant_id = ${options.tenantId} and u.role = 'agent' and u.disabled_at is null and u.availability = 'available'
          and u.open_tickets < u.max_open_tickets
          and (${teamId}::uuid is null or exists (
            select 1 from team_members m where m.tenant_id = u.tenant_id and m.team_id = ${teamId}::uuid and m.user_id = u.id))
        order by u.open_tickets, u.last_assigned_at nulls first, u.id
        limit 1
      ) chosen
      where users.tenant_id = ${options.tenantId} and users.id = chosen.id
      returning users.id
    )`;
}
