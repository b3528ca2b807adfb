import { executeStatement, type RawStatement, type Tx } from '@relais/db';
import { lockTicketCounter } from '../ticket-counter.js';

/**
 * Picks the agent who gets a ticket, round-robin by load, and marks them (see `RoundRobin`).
 * Returns undefined when nobody can take it (the ticket waits in the queue).
 *
 * Fair under concurrency: a tenant's picks and ticket openings are serialised by its ticket
 * counter row, locked until commit, so each pick sees the tickets the previous ones assigned
 * (the candidates are read by a statement after the lock: a statement's snapshot is taken
 * before it waits).
 */
export async function pickAssignee(tx: Tx, options: { tenantId: string; teamId?: string | null; now: Date }): Promise<string | undefined> {
  await lockTicketCounter(tx, options.tenantId);
  const roundRobin = await loadRoundRobin(tx, options.tenantId, options.teamId ? [options.teamId] : []);
  const winner = roundRobin.pick(options.teamId ?? null, options.now);
  if (winner) await roundRobin.save(tx, options.tenantId);
  return winner ?? undefined;
}

const CANDIDATES: RawStatement = {
  name: 'tickets.assignment_candidates',
  text: `select u.id, u.open_tickets, u.max_open_tickets,
      (extract(epoch from u.last_assigned_at) * 1000000)::bigint::text as last_assigned_us,
      (select coalesce(jsonb_agg(m.team_id), '[]'::jsonb) from team_members m
        where m.tenant_id = u.tenant_id and m.user_id = u.id and m.team_id in (select jsonb_array_elements_text($2::jsonb)::uuid)) as teams
    from users u
    where u.tenant_id = $1 and u.role = 'agent' and u.disabled_at is null and u.availability = 'available'`,
};

const SAVE_PICKS: RawStatement = {
  name: 'tickets.assignment_save',
  text: `update users u set last_assigned_at = p.at
    from jsonb_to_recordset($2::jsonb) as p(id uuid, at timestamptz)
    where u.tenant_id = $1 and u.id = p.id`,
};

interface Candidate {
  id: string;
  open: number;
  max: number;
  /** last_assigned_at in microseconds since the epoch (exact, as PostgreSQL orders it); null: never assigned. */
  lastUs: bigint | null;
  teams: string[];
}

/**
 * The round-robin rule, applied in memory to the agents read after the tenant's ticket lock,
 * one ticket after another (a batch of openings picks as the same openings one at a time
 * would): among active agents marked available (in the ticket's team when it has one) with
 * fewer open or pending tickets than their capacity (users.open_tickets, kept by a trigger), the
 * least loaded, then the one assigned longest ago (never assigned first), then by id.
 */
export interface RoundRobin {
  /** The agent who gets the next ticket (their load and last assignment updated here), or null. */
  pick(teamId: string | null, now: Date): string | null;
  /** A ticket given by hand to `userId`: their load counts it for the next picks. */
  given(userId: string): void;
  /** Writes the picked agents' `last_assigned_at` (the load column follows the tickets by trigger). */
  save(tx: Tx, tenantId: string): Promise<void>;
  /** What `save` would write, for a statement that does more: (id, at) rows. */
  picked(): { id: string; at: string }[];
}

/** Reads the tenant's candidates (the caller holds the ticket lock); `teamIds`: the teams the tickets to assign belong to. */
export async function loadRoundRobin(tx: Tx, tenantId: string, teamIds: string[]): Promise<RoundRobin> {
  const rows = await executeStatement<{ id: string; open_tickets: number; max_open_tickets: number; last_assigned_us: string | null; teams: string[] }>(tx, CANDIDATES, [
    tenantId,
    JSON.stringify([...new Set(teamIds)]),
  ]);
  const candidates: Candidate[] = rows.map((row) => ({
    id: row.id,
    open: row.open_tickets,
    max: row.max_open_tickets,
    lastUs: row.last_assigned_us === null ? null : BigInt(row.last_assigned_us),
    teams: row.teams,
  }));
  const picked = new Map<string, Date>();
  const pickedRows = () => [...picked].map(([id, at]) => ({ id, at: at.toISOString() }));
  return {
    pick(teamId, now) {
      let best: Candidate | undefined;
      for (const candidate of candidates) {
        if (candidate.open >= candidate.max || (teamId !== null && !candidate.teams.includes(teamId))) continue;
        if (!best || before(candidate, best)) best = candidate;
      }
      if (!best) return null;
      best.open += 1;
      best.lastUs = BigInt(now.getTime()) * 1000n;
      picked.set(best.id, now);
      return best.id;
    },
    given(userId) {
      const candidate = candidates.find((c) => c.id === userId);
      if (candidate) candidate.open += 1;
    },
    picked: pickedRows,
    async save(saveTx, saveTenantId) {
      if (picked.size > 0) await executeStatement(saveTx, SAVE_PICKS, [saveTenantId, JSON.stringify(pickedRows())]);
    },
  };
}

/** `order by open_tickets, last_assigned_at nulls first, id` (uuids order as their lower-case text). */
function before(a: Candidate, b: Candidate): boolean {
  if (a.open !== b.open) return a.open < b.open;
  if (a.lastUs !== b.lastUs) {
    if (a.lastUs === null) return true;
    if (b.lastUs === null) return false;
    return a.lastUs < b.lastUs;
  }
  return a.id < b.id;
}
