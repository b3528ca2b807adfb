import { sql } from 'drizzle-orm';
import { executeRows, type Tx } from '@relais/db';

/**
 * Picks the agent who gets a new ticket, round-robin by load: active agents marked available,
 * in `teamId` when given, with fewer open or pending tickets than their capacity; the least
 * loaded first, then the one assigned longest ago (never assigned first), then by id. Marks the
 * winner's `last_assigned_at`. Returns undefined when nobody can take it (the ticket waits in the
 * queue).
 *
 * Fair under concurrency: a tenant's picks are serialised by a transaction lock held until
 * commit, so each one sees the tickets the previous ones assigned.
 */
export async function pickAssignee(tx: Tx, options: { tenantId: string; teamId?: string | null; now: Date }): Promise<string | undefined> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`ticket-assignment:${options.tenantId}`}, 0))`);
  const [winner] = (await executeRows(
    tx,
    sql`with candidates as (
          select u.id, u.last_assigned_at, u.max_open_tickets,
            (select count(*) from tickets t
              where t.tenant_id = u.tenant_id and t.assignee_id = u.id and t.status in ('open', 'pending')) as load
          from users u
          where u.tenant_id = ${options.tenantId} and u.role = 'agent' and u.disabled_at is null and u.availability = 'available'
            and (${options.teamId ?? null}::uuid is null or exists (
              select 1 from team_members m where m.tenant_id = u.tenant_id and m.team_id = ${options.teamId ?? null}::uuid and m.user_id = u.id))
        )
        select id from candidates
        where load < max_open_tickets
        order by load, last_assigned_at nulls first, id
        limit 1`,
  )) as { id: string }[];
  if (!winner) return undefined;
  await tx.execute(sql`update users set last_assigned_at = ${options.now.toISOString()}::timestamptz where tenant_id = ${options.tenantId} and id = ${winner.id}`);
  return winner.id;
}
