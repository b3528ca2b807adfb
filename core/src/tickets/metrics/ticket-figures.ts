import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Tx } from '@relais/db';

/**
 * What the dashboards read, and exactly which tickets each figure counts. A period is the
 * half-open interval [from, to); "now" is the clock of the call. Merged duplicates
 * (`merged_into_id` set) never count: their work is counted on the ticket they were merged into.
 *
 * - `opened`: tickets created in the period.
 * - First response, cohort = the tickets opened in the period:
 *   - `firstResponses`, `averageFirstResponseSeconds`: those with an agent reply
 *     (`first_responded_at`), and the mean wall-clock seconds from creation to it.
 *   - `firstResponseSla`: those with a first-response target whose outcome is known: a reply or a
 *     resolution stopped the clock (resolution stops both clocks, decision 014), or the due time
 *     has passed without either (a miss, so that an unanswered ticket is never left out). Met when
 *     the clock stopped at or before `first_response_due_at`. Still running = not counted yet.
 *     "Now" of a ticket whose SLA is paused (pending) is the moment it was paused.
 * - Resolution, cohort = the tickets resolved in the period (`resolved_at` in it; a reopened
 *   ticket counts when it is resolved again, from its creation):
 *   - `resolved`, `averageResolutionSeconds`: their number and the mean wall-clock seconds from
 *     creation to resolution.
 *   - `resolutionSla`: those of them with a resolution target; met when resolved at or before
 *     `resolution_due_at`.
 * - `csat`: satisfaction answers received in the period (`csat_responses.created_at`), mean rating.
 * - `openNow`, `overdueNow`: tickets open or pending now, and those of them past a due time still
 *   running (no reply by `first_response_due_at`, or not resolved by `resolution_due_at`).
 *
 * Per agent, a ticket counts for its assignee now (`assignee_id`), an answer for the agent it
 * names (`csat_responses.agent_id`: the assignee when the ticket was resolved).
 */
/**
 * Dashboard figures are read without parallel workers (for the rest of the caller's
 * transaction): their scans take tens of milliseconds, less than starting workers costs on a
 * busy host, and workers would take cores from the chat and payment traffic (bench/tickets: agent
 * metrics p95 130 ms with two workers per scan, 48 ms without; docs/benchmarks.md).
 */
export async function withoutParallelWorkers(tx: Tx): Promise<void> {
  await tx.execute(sql`set local max_parallel_workers_per_gather = 0`);
}

export interface TicketFigures {
  opened: number;
  firstResponses: number;
  /** Rounded to the second; null when there is none. */
  averageFirstResponseSeconds: number | null;
  firstResponseSla: SlaFigure;
  resolved: number;
  /** Rounded to the second; null when there is none. */
  averageResolutionSeconds: number | null;
  resolutionSla: SlaFigure;
  csat: { count: number; /** 1-5, two decimals; null without answers. */ average: number | null };
  openNow: number;
  overdueNow: number;
}

export interface SlaFigure {
  /** Tickets judged against a target. */
  counted: number;
  met: number;
  /** 0-100, one decimal; null when nothing was counted. */
  metPercent: number | null;
}

/** Longest period a dashboard may ask for: a year and a day of margin (leap years, time zones). */
const MAX_PERIOD_MS = 367 * 24 * 60 * 60 * 1000;

/** The input fields every metrics query has; check them with `periodChecked`. */
export const metricsPeriodFields = {
  tenantId: z.uuid(),
  from: z.coerce.date(),
  to: z.coerce.date(),
};

/** A period runs forward and lasts at most a year. */
export function periodChecked<S extends z.ZodType<{ from: Date; to: Date }>>(schema: S): S {
  return schema
    .refine((period) => period.from.getTime() < period.to.getTime(), { message: 'must be after from', path: ['to'] })
    .refine((period) => period.to.getTime() - period.from.getTime() <= MAX_PERIOD_MS, { message: 'a period is at most a year long', path: ['to'] });
}

const timestamp = (value: Date) => sql`${value.toISOString()}::timestamptz`;

/** `t` (tickets) opened in [from, to). */
export const openedIn = (tenantId: string, from: Date, to: Date): SQL =>
  sql`t.tenant_id = ${tenantId} and t.created_at >= ${timestamp(from)} and t.created_at < ${timestamp(to)} and t.merged_into_id is null`;

/** `t` (tickets) resolved in [from, to). */
export const resolvedIn = (tenantId: string, from: Date, to: Date): SQL =>
  sql`t.tenant_id = ${tenantId} and t.resolved_at >= ${timestamp(from)} and t.resolved_at < ${timestamp(to)} and t.merged_into_id is null`;

/** `t` (tickets) open or pending now. */
export const openNowOf = (tenantId: string): SQL => sql`t.tenant_id = ${tenantId} and t.status in ('open', 'pending')`;

/** A ticket's SLA clock reading: frozen while pending (paused), else now. */
const slaNow = (now: Date) => sql`coalesce(t.sla_paused_at, ${timestamp(now)})`;
/** What stops the first-response clock: an agent's reply, or the resolution. */
const firstResponseStop = sql`coalesce(t.first_responded_at, t.resolved_at)`;

// date_part (double precision), not extract (numeric since PostgreSQL 14): several times cheaper per row.

/**
 * Aggregates over the `openedIn` cohort (columns opened, first_responses, first_response_s,
 * fr_counted, fr_met). Sums rather than averages, so that rows of parts (buckets) add up.
 */
export const openedAggregates = (now: Date): SQL => sql`
  count(*) as opened,
  count(t.first_responded_at) as first_responses,
  sum(date_part('epoch', t.first_responded_at - t.created_at)) as first_response_s,
  count(*) filter (where t.first_response_due_at is not null and (${firstResponseStop} is not null or t.first_response_due_at <= ${slaNow(now)})) as fr_counted,
  count(*) filter (where ${firstResponseStop} <= t.first_response_due_at) as fr_met`;

/** Aggregates over the `resolvedIn` cohort (columns resolved, resolution_s, res_counted, res_met), summable like the above. */
export const resolvedAggregates = sql`
  count(*) as resolved,
  sum(date_part('epoch', t.resolved_at - t.created_at)) as resolution_s,
  count(t.resolution_due_at) as res_counted,
  count(*) filter (where t.resolved_at <= t.resolution_due_at) as res_met`;

/** Aggregates over the `openNowOf` tickets (columns open_now, overdue_now, unassigned_now). */
export const openNowAggregates = (now: Date): SQL => sql`
  count(*) as open_now,
  count(*) filter (where (t.first_responded_at is null and t.first_response_due_at <= ${slaNow(now)}) or t.resolution_due_at <= ${slaNow(now)}) as overdue_now,
  count(*) filter (where t.assignee_id is null) as unassigned_now`;

/** Aggregates over csat_responses `r` (columns csat_count, csat_sum). */
export const csatAggregates = sql`count(*) as csat_count, sum(r.rating) as csat_sum`;

/** csat_responses `r` received in [from, to). */
export const csatIn = (tenantId: string, from: Date, to: Date): SQL =>
  sql`r.tenant_id = ${tenantId} and r.created_at >= ${timestamp(from)} and r.created_at < ${timestamp(to)}`;

/** Counts and averages come back as strings (bigint, numeric) from node-postgres, numbers from PGlite. */
const numberOf = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
const rounded = (value: number, decimals: number): number => Math.round(value * 10 ** decimals) / 10 ** decimals;

function slaFigure(counted: unknown, met: unknown): SlaFigure {
  const total = numberOf(counted);
  const ok = numberOf(met);
  return { counted: total, met: ok, metPercent: total === 0 ? null : rounded((ok * 100) / total, 1) };
}

/** Summable columns of the aggregates above. */
export const SUMMABLE_COLUMNS = ['opened', 'first_responses', 'first_response_s', 'fr_counted', 'fr_met', 'resolved', 'resolution_s', 'res_counted', 'res_met'] as const;

/** Adds up rows of parts (buckets) into one row of the summable columns. */
export function sumRows(rows: readonly Record<string, unknown>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const column of SUMMABLE_COLUMNS) total[column] = rows.reduce((sum, row) => sum + numberOf(row[column]), 0);
  return total;
}

const average = (sum: unknown, count: unknown, decimals: number): number | null => {
  const n = numberOf(count);
  return n === 0 ? null : rounded(numberOf(sum) / n, decimals);
};

/** The figures from a row holding the columns of the aggregates above (missing = none). */
export function figuresFrom(row: Record<string, unknown>): TicketFigures {
  return {
    opened: numberOf(row.opened),
    firstResponses: numberOf(row.first_responses),
    averageFirstResponseSeconds: average(row.first_response_s, row.first_responses, 0),
    firstResponseSla: slaFigure(row.fr_counted, row.fr_met),
    resolved: numberOf(row.resolved),
    averageResolutionSeconds: average(row.resolution_s, row.resolved, 0),
    resolutionSla: slaFigure(row.res_counted, row.res_met),
    csat: { count: numberOf(row.csat_count), average: average(row.csat_sum, row.csat_count, 2) },
    openNow: numberOf(row.open_now),
    overdueNow: numberOf(row.overdue_now),
  };
}
