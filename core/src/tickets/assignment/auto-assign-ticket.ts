import { sql } from 'drizzle-orm';
import { executeRows, type Tx } from '@relais/db';

/**
 * Picks the agent who gets a new ticket, round-robin by load: active agents marked available,
 * in `teamId` when given, with fewer open or pending tickets than their capacity; the least
 * loaded first, then the one assigned longest ago (never assigned first), then by id. Marks the
 * winner's `last_assigned_at` in the same statement. Returns undefined when nobody can take it
 * (the ticket waits in the queue).
 *
 * Fair under concurrency: a tenant's picks are serialised by a transaction lock held until
 * commit, so each one sees the tickets the previous ones assigned (the lock is its own statement:
 * a statement's snapshot is taken before it waits).
 */
export async function pickAssignee(tx: Tx, options: { tenantId: string; teamId?: string | null; now: Date }): Promise<string | undefined> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`ticket-assignment:${options.tenantId}`}, 0))`);
  const teamId = options.teamId ?? null;
  const [winner] = (await executeRows(
    tx,
    sql`with candidates as (
          select u.id, u.last_assigned_at, u.max_open_tickets,
            (select count(*) from tickets t
              where t.tenant_id = u.tenant_id and t.assignee_id = u.id and t.status in ('open', 'pending')) as load
          from users u
          where u.tenant_id = ${options.tenantId} and u.role = 'agent' and u.disabled_at is null and u.availability = 'available'
            and (${teamId}::uuid is null or exists (
              select 1 from team_members m where m.tenant_id = u.tenant_id and m.team_id = ${teamId}::uuid and m.user_id = u.id))
        ),
        winner as (
          select id from candidates
          where load < max_open_tickets
          order by load, last_assigned_at nulls first, id
          limit 1
        )
        update users set last_assigned_at = ${options.now.toISOString()}::timestamptz
        from winner
        where users.tenant_id = ${options.tenantId} and users.id = winner.id
        returning users.id`,
  )) as { id: string }[];
  return winner?.id;
}
