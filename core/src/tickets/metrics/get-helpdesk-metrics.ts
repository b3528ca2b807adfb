import { eq, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { executeRows, tenants } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import type { TicketDeps } from '../ticket-deps.js';
import {
  csatAggregates,
  csatIn,
  figuresFrom,
  metricsPeriodFields,
  openedAggregates,
  openNowAggregates,
  openNowOf,
  periodChecked,
  sumRows,
  resolvedAggregates,
  type TicketFigures,
  withoutParallelWorkers,
} from './ticket-figures.js';

export const METRICS_BUCKETS = ['day', 'week', 'month'] as const;
export type MetricsBucket = (typeof METRICS_BUCKETS)[number];

const getHelpdeskMetricsInput = periodChecked(z.object({ ...metricsPeriodFields, bucket: z.enum(METRICS_BUCKETS) }));

export interface MetricsBucketFigures {
  /** The bucket's first day on the tenant's calendar (yyyy-mm-dd; weeks start on Monday). */
  start: string;
  /** That day's 00:00 in the tenant's timezone. */
  startsAt: Date;
  /** Tickets created in the bucket and in the period. */
  opened: number;
  /** Tickets resolved in the bucket and in the period. */
  resolved: number;
}

export interface HelpdeskMetrics extends TicketFigures {
  timezone: string;
  /** Open or pending tickets without an assignee now. */
  unassignedNow: number;
  /** Every bucket that overlaps the period, in order, empty ones included; the first and last may be cut by it. */
  buckets: MetricsBucketFigures[];
}

/**
 * The tenant's figures over [from, to) (definitions in ticket-figures.ts), with tickets opened
 * and resolved per day, week or month on the tenant's calendar (`tenants.timezone`).
 */
export async function getHelpdeskMetrics(deps: TicketDeps, options: z.input<typeof getHelpdeskMetricsInput>): Promise<HelpdeskMetrics> {
  const input = parseInput(getHelpdeskMetricsInput, options);
  const { tenantId, from, to, bucket } = input;
  const now = deps.clock.now();
  return deps.db.withTenant(tenantId, async (tx) => {
    const [tenant] = await tx.select({ timezone: tenants.timezone }).from(tenants).where(eq(tenants.id, tenantId));
    if (!tenant) throw new AppError('NOT_FOUND', 'tenant not found');
    await withoutParallelWorkers(tx);
    const zone = tenant.timezone;
    const buckets = bucketsOf(from, to, bucket, zone);
    // Each bucket is a range of instants cut by the period: the counts need no time zone
    // arithmetic per ticket, and each range is one scan of an index on the timestamp.
    const starts = sql`${`{${buckets.map((b) => b.from.toISOString()).join(',')}}`}::timestamptz[]`;
    const ends = sql`${`{${buckets.map((b) => b.to.toISOString()).join(',')}}`}::timestamptz[]`;
    const opened = await executeRows(
      tx,
      sql`select b.i, ${openedAggregates(now)}
          from unnest(${starts}, ${ends}) with ordinality as b(starts_at, ends_at, i)
          join tickets t on t.tenant_id = ${tenantId} and t.created_at >= b.starts_at and t.created_at < b.ends_at and t.merged_into_id is null
          group by b.i`,
    );
    const resolved = await executeRows(
      tx,
      sql`select b.i, ${resolvedAggregates}
          from unnest(${starts}, ${ends}) with ordinality as b(starts_at, ends_at, i)
          join tickets t on t.tenant_id = ${tenantId} and t.resolved_at >= b.starts_at and t.resolved_at < b.ends_at and t.merged_into_id is null
          group by b.i`,
    );
    const [current] = await executeRows(
      tx,
      sql`select n.*, c.*
          from (select ${openNowAggregates(now)} from tickets t where ${openNowOf(tenantId)}) n,
               (select ${csatAggregates} from csat_responses r where ${csatIn(tenantId, from, to)}) c`,
    );
    const byBucket = (rows: Record<string, unknown>[], column: string) => new Map(rows.map((row) => [Number(row.i), Number(row[column])]));
    const openedByBucket = byBucket(opened, 'opened');
    const resolvedByBucket = byBucket(resolved, 'resolved');
    return {
      ...figuresFrom({ ...sumRows([...opened, ...resolved]), ...current }),
      timezone: zone,
      unassignedNow: Number(current?.unassigned_now ?? 0),
      buckets: buckets.map((b, index) => ({
        start: b.start.toISODate()!,
        startsAt: b.start.toJSDate(),
        opened: openedByBucket.get(index + 1) ?? 0,
        resolved: resolvedByBucket.get(index + 1) ?? 0,
      })),
    };
  });
}

/**
 * The buckets overlapping [from, to) on the tenant's calendar (ISO weeks, from Monday): each
 * one's local start, and its range of instants cut by the period.
 */
function bucketsOf(from: Date, to: Date, bucket: MetricsBucket, zone: string): { start: DateTime; from: Date; to: Date }[] {
  const end = DateTime.fromJSDate(to, { zone });
  const step = { day: { days: 1 }, week: { weeks: 1 }, month: { months: 1 } }[bucket];
  const buckets: { start: DateTime; from: Date; to: Date }[] = [];
  for (let start = DateTime.fromJSDate(from, { zone }).startOf(bucket); start < end; ) {
    const next = start.plus(step).startOf(bucket);
    buckets.push({ start, from: new Date(Math.max(start.toMillis(), from.getTime())), to: new Date(Math.min(next.toMillis(), to.getTime())) });
    start = next;
  }
  return buckets;
}
