/**
 * bench/tickets (issue 6): the helpdesk on a big tenant — 200 000 tickets over 90 days and
 * 2 000 000 messages, seeded server side (bench/src/tickets-seed.ts) then ANALYZEd.
 *
 * Queries (target: p95 under 100 ms each), one at a time, through the use cases the dashboards
 * call: getAgentMetrics and getHelpdeskMetrics (by day) over the last 30 days, listTicketQueue
 * (unassigned and one agent's, first page; all open tickets page 5 and unassigned page 3, by
 * cursor). Baseline, same run: a primary-key read of one ticket through withTenant.
 *
 * Creation (target: at least 500 tickets/s): createTicket with a description and auto-assignment
 * to the least loaded of the available agents, in a closed loop (BENCH_CONCURRENCY at once), on
 * that same big tenant. Baseline, same run, same concurrency: one INSERT of a ticket-like row
 * through withTenant. Then, to show where the time goes, creations one at a time under an SQL
 * trace: statements per ticket, time per statement, and how long the tenant's ticket-number
 * counter row stays locked (all of one tenant's creations queue on it, so that window bounds a
 * tenant's creation rate whatever the concurrency).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { createSlaPolicy, createTenant, createTicket, getAgentMetrics, getHelpdeskMetrics, listTicketQueue, systemClock } from '@relais/core';
import { executeRows, tickets } from '@relais/db';
import { postgresGroup, profiled, startCpuMeter, type ProcessGroup } from '../cpu.js';
import { positiveInteger } from '../env.js';
import { closedLoop, percentile } from '../latency.js';
import { machine, publish } from '../report.js';
import { createScratchDatabase, ownerStatements } from '../scratch-database.js';
import { countSqlRoundTrips } from '../sql-round-trips.js';
import { seedHelpdesk } from '../tickets-seed.js';
import { explainReads, statementLabel, traceSqlStatements, type TracedStatement } from '../tickets-sql-trace.js';

const TICKETS = positiveInteger('BENCH_TICKETS', 200_000);
const MESSAGES_PER_TICKET = positiveInteger('BENCH_MESSAGES_PER_TICKET', 10);
const DAYS = positiveInteger('BENCH_DAYS', 90);
const AGENTS = positiveInteger('BENCH_AGENTS', 8);
/** Runs of each query measured (after 20 unmeasured). */
const QUERY_RUNS = positiveInteger('BENCH_QUERY_RUNS', 200);
const CREATIONS = positiveInteger('BENCH_CREATIONS', 3_000);
const CREATION_WARMUP = Math.min(300, Math.ceil(CREATIONS / 10));
/** Creations traced one at a time, for the profile. */
const PROFILED_CREATIONS = positiveInteger('BENCH_PROFILED_CREATIONS', 200);
const BASELINE_INSERTS = positiveInteger('BENCH_BASELINE_INSERTS', 3_000);
const CONCURRENCY = positiveInteger('BENCH_CONCURRENCY', 16);
const POOL_SIZE = positiveInteger('DATABASE_POOL_SIZE', 10);
/** 0: measure without the metrics' indexes of migration 0013 (to see what they buy). */
const METRIC_INDEXES = process.env.BENCH_METRIC_INDEXES !== '0';
const CPU_PROFILE = process.env.BENCH_CPU_PROFILE || undefined;
const QUEUE_PAGE = 50;
const DAY_MS = 24 * 60 * 60 * 1000;

const TARGETS = { queryP95Ms: 100, creationsPerSecond: 500 };

/**
 * Undoes migration 0013's metric indexes (the three period scans — tickets opened, resolved, CSAT
 * answers in a period — read only these: index-only scans), to measure what they buy.
 */
const WITHOUT_METRIC_INDEXES = [
  'drop index if exists tickets_created_idx',
  'create index tickets_created_idx on tickets (tenant_id, created_at)',
  'drop index if exists tickets_resolved_idx',
  'drop index if exists csat_responses_created_idx',
];

const RESULTS_DIRECTORY = fileURLToPath(new URL('../../results', import.meta.url));

interface QuerySummary {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

async function timeSequentially(runs: number, work: () => Promise<unknown>): Promise<QuerySummary> {
  for (let i = 0; i < 20; i += 1) await work();
  const latencies: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await work();
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  return { p50Ms: percentile(latencies, 0.5), p95Ms: percentile(latencies, 0.95), p99Ms: percentile(latencies, 0.99) };
}

/** What one creation does, from a trace of creations run one at a time. */
function creationProfile(traced: TracedStatement[], creations: number) {
  const byLabel = new Map<string, { count: number; totalMs: number }>();
  let lockedMs = 0;
  let lockedFrom: number | undefined;
  for (const statement of traced) {
    const label = statementLabel(statement.text);
    const entry = byLabel.get(label) ?? { count: 0, totalMs: 0 };
    entry.count += 1;
    entry.totalMs += statement.endMs - statement.startMs;
    byLabel.set(label, entry);
    // The counter row is locked from its upsert until the transaction ends.
    if (/tenant_counters/.test(statement.text) && lockedFrom === undefined) lockedFrom = statement.startMs;
    if (/^\s*(commit|rollback)\b/i.test(statement.text) && lockedFrom !== undefined) {
      lockedMs += statement.endMs - lockedFrom;
      lockedFrom = undefined;
    }
  }
  const statements = [...byLabel.entries()]
    .map(([label, { count, totalMs }]) => ({ statement: label, per_ticket: Number((count / creations).toFixed(2)), mean_ms: Number((totalMs / count).toFixed(3)), ms_per_ticket: Number((totalMs / creations).toFixed(3)) }))
    .sort((a, b) => b.ms_per_ticket - a.ms_per_ticket);
  return {
    statements,
    sqlMsPerTicket: traced.reduce((sum, statement) => sum + statement.endMs - statement.startMs, 0) / creations,
    counterLockedMsPerTicket: lockedMs / creations,
  };
}

export async function run(): Promise<void> {
  const scratch = await createScratchDatabase({ poolSize: POOL_SIZE });
  const { db } = scratch;
  const deps = { db, clock: systemClock };
  try {
    const stamp = randomBytes(3).toString('hex');
    const { tenant, admin } = await createTenant(deps, { name: 'Bench Helpdesk', slug: `bench-helpdesk-${stamp}`, email: `helpdesk-${stamp}@bench.example`, plan: 'enterprise' });
    const tenantId = tenant.id;
    await createSlaPolicy(deps, {
      tenantId,
      name: 'Standard',
      isDefault: true,
      targets: {
        urgent: { firstResponseMinutes: 30, resolutionMinutes: 240 },
        high: { firstResponseMinutes: 60, resolutionMinutes: 480 },
        medium: { firstResponseMinutes: 240, resolutionMinutes: 1_920 },
        low: { firstResponseMinutes: 480, resolutionMinutes: 3_840 },
      },
    });

    console.log(`tickets: seeding ${TICKETS} tickets x ${MESSAGES_PER_TICKET} messages over ${DAYS} days on ${scratch.server}...`);
    const seedStarted = performance.now();
    const now = new Date();
    const seed = await seedHelpdesk(db, { tenantId, now, days: DAYS, tickets: TICKETS, messagesPerTicket: MESSAGES_PER_TICKET, agents: AGENTS, onProgress: (line) => console.log(`  ${line}`) });
    if (scratch.ownerUrl) {
      await ownerStatements(scratch.ownerUrl, [
        ...(METRIC_INDEXES ? [] : WITHOUT_METRIC_INDEXES),
        // As autovacuum would have left a table this old: statistics and the visibility map.
        'vacuum analyze tickets, ticket_messages, csat_responses, contacts, users',
      ]);
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    console.log(`tickets: seeded in ${seedSeconds.toFixed(0)} s: ${seed.tickets} tickets (${seed.openOrPending} open or pending), ${seed.messages} messages, ${seed.csat} CSAT answers`);

    // Queries, one at a time.
    const period = { from: new Date(Date.now() - 30 * DAY_MS), to: new Date() };
    const agentId = seed.agentIds[0]!;
    /** The cursor of page `page` of a queue view, or of its last page when it has fewer (small seeds). */
    const pageCursor = async (view: 'all_open' | 'unassigned', page: number) => {
      let cursor: string | undefined;
      let reached = 1;
      while (reached < page) {
        const next = (await listTicketQueue(deps, { tenantId, userId: admin.id, view, limit: QUEUE_PAGE, cursor })).nextCursor;
        if (!next) break;
        cursor = next;
        reached += 1;
      }
      return { cursor, page: reached };
    };
    const allOpenLater = await pageCursor('all_open', 5);
    const unassignedLater = await pageCursor('unassigned', 3);
    const [someTicket] = await db.withTenant(tenantId, (tx) => executeRows(tx, sql`select id from tickets where tenant_id = ${tenantId} and number = ${Math.ceil(TICKETS / 2)}`));
    const queries: Record<string, () => Promise<unknown>> = {
      baseline_pk_read: () => db.withTenant(tenantId, (tx) => executeRows(tx, sql`select * from tickets where tenant_id = ${tenantId} and id = ${someTicket!.id}`)),
      agent_metrics_30d: () => getAgentMetrics(deps, { tenantId, ...period }),
      helpdesk_metrics_30d_by_day: () => getHelpdeskMetrics(deps, { tenantId, ...period, bucket: 'day' }),
      queue_unassigned_page1: () => listTicketQueue(deps, { tenantId, userId: admin.id, view: 'unassigned', limit: QUEUE_PAGE }),
      queue_mine_page1: () => listTicketQueue(deps, { tenantId, userId: agentId, view: 'mine', limit: QUEUE_PAGE }),
    };
    // Later pages, as far as the seed has them (a small seed may have one page only).
    if (allOpenLater.page > 1) {
      queries[`queue_all_open_page${allOpenLater.page}`] = () => listTicketQueue(deps, { tenantId, userId: admin.id, view: 'all_open', limit: QUEUE_PAGE, cursor: allOpenLater.cursor });
    }
    if (unassignedLater.page > 1) {
      queries[`queue_unassigned_page${unassignedLater.page}`] = () => listTicketQueue(deps, { tenantId, userId: admin.id, view: 'unassigned', limit: QUEUE_PAGE, cursor: unassignedLater.cursor });
    }
    const queryFigures: Record<string, number> = {};
    const queryTargets: Record<string, { target: number; met: boolean }> = {};
    let baselineP95 = Number.NaN;
    for (const [name, work] of Object.entries(queries)) {
      console.log(`tickets: ${name}, ${QUERY_RUNS} runs one at a time...`);
      const summary = await timeSequentially(QUERY_RUNS, work);
      queryFigures[`${name}_p50_ms`] = summary.p50Ms;
      queryFigures[`${name}_p95_ms`] = summary.p95Ms;
      queryFigures[`${name}_p99_ms`] = summary.p99Ms;
      if (name === 'baseline_pk_read') baselineP95 = summary.p95Ms;
      else {
        queryFigures[`${name}_p95_over_baseline`] = summary.p95Ms / baselineP95;
        queryTargets[`${name}_p95_ms`] = { target: TARGETS.queryP95Ms, met: summary.p95Ms < TARGETS.queryP95Ms };
      }
    }
    if (db.driver === 'postgres') {
      const plans: string[] = [];
      for (const [name, work] of Object.entries(queries)) plans.push(`==== ${name}\n${await explainReads(db, tenantId, work)}`);
      mkdirSync(RESULTS_DIRECTORY, { recursive: true });
      writeFileSync(`${RESULTS_DIRECTORY}/tickets-plans.txt`, `${plans.join('\n\n')}\n`);
      console.log(`wrote ${RESULTS_DIRECTORY}/tickets-plans.txt`);
    }

    // Creation with auto-assignment, against a bare tenant INSERT.
    const contactRows = await db.withTenant(tenantId, (tx) => executeRows(tx, sql`select id from contacts where tenant_id = ${tenantId} order by phone_e164 limit 5000`));
    const contactIds = contactRows.map((row) => String(row.id));
    const contactOf = (i: number) => contactIds[i % contactIds.length]!;
    const priorities = ['low', 'medium', 'medium', 'high', 'urgent'] as const;
    let created = 0;
    const createOne = async (i: number) => {
      const startMs = performance.now();
      const opened = await createTicket(deps, {
        tenantId,
        userId: admin.id,
        contactId: contactOf(i),
        subject: 'Le WiFi ne se connecte pas',
        description: 'Bonjour, mon forfait est payé mais le WiFi ne se connecte pas depuis ce matin.',
        priority: priorities[i % priorities.length],
      });
      if (!opened.assigneeId) throw new Error(`ticket #${opened.ticketNumber} was not auto-assigned`);
      created += 1;
      const endMs = performance.now();
      return { startMs, endMs, latencyMs: endMs - startMs };
    };
    let baselineNumber = 1_000_000_000;
    const insertOne = async (i: number) => {
      const startMs = performance.now();
      baselineNumber += 1;
      const number = baselineNumber;
      // Dated long ago and closed: out of every period, queue and quota the app reads.
      await db.withTenant(tenantId, (tx) =>
        tx.insert(tickets).values({ tenantId, number, contactId: contactOf(i), subject: 'Le WiFi ne se connecte pas', status: 'closed', createdAt: new Date('2000-01-01T00:00:00Z') }),
      );
      const endMs = performance.now();
      return { startMs, endMs, latencyMs: endMs - startMs };
    };
    const cpuGroups: ProcessGroup[] = scratch.name ? [postgresGroup(scratch.name)] : [];
    const sequence = (count: number, offset = 0) => Array.from({ length: count }, (_, i) => offset + i);

    console.log(`tickets: ${CREATION_WARMUP} warm-up creations, then baseline (${BASELINE_INSERTS} inserts, ${CONCURRENCY} at once)...`);
    await closedLoop(sequence(CREATION_WARMUP), CONCURRENCY, createOne);
    await closedLoop(sequence(300), CONCURRENCY, insertOne);
    const baselineBefore = await closedLoop(sequence(BASELINE_INSERTS), CONCURRENCY, insertOne);

    console.log(`tickets: ${CREATIONS} creations, ${CONCURRENCY} at once...`);
    const cpu = startCpuMeter(cpuGroups);
    const stopCounting = countSqlRoundTrips();
    let creations: Awaited<ReturnType<typeof closedLoop>>;
    let roundTrips: number;
    try {
      creations = await profiled(CPU_PROFILE, () => closedLoop(sequence(CREATIONS, CREATION_WARMUP), CONCURRENCY, createOne));
    } finally {
      roundTrips = stopCounting();
    }
    const creationCpu = cpu();

    console.log('tickets: baseline again...');
    const baselineAfter = await closedLoop(sequence(BASELINE_INSERTS), CONCURRENCY, insertOne);

    console.log(`tickets: ${PROFILED_CREATIONS} creations one at a time, traced...`);
    const alone: number[] = [];
    const stopTrace = traceSqlStatements();
    let traced: TracedStatement[];
    try {
      for (const i of sequence(PROFILED_CREATIONS, CREATION_WARMUP + CREATIONS)) alone.push((await createOne(i)).latencyMs);
    } finally {
      traced = stopTrace();
    }
    alone.sort((a, b) => a - b);
    const profile = creationProfile(traced, PROFILED_CREATIONS);

    // Every ticket assigned; the least loaded agent won each time, so open loads end up level.
    const [check] = await db.withTenant(tenantId, (tx) =>
      executeRows(
        tx,
        sql`select (select count(*) from tickets where tenant_id = ${tenantId} and number > ${TICKETS} and number < 1000000000 and assignee_id is not null) as assigned,
                   (select max(n) - min(n) from (select count(*) as n from tickets where tenant_id = ${tenantId} and assignee_id is not null and status in ('open', 'pending') group by assignee_id) loads) as spread`,
      ),
    );
    if (Number(check!.assigned) !== created) throw new Error(`${created} tickets created, ${Number(check!.assigned)} found assigned`);

    const baselinePerSecond = (baselineBefore.perSecond + baselineAfter.perSecond) / 2;
    const figures: Record<string, number> = {
      seed_tickets: seed.tickets,
      seed_messages: seed.messages,
      seed_open_or_pending: seed.openOrPending,
      seed_seconds: seedSeconds,
      ...queryFigures,
      creations_per_s: creations.perSecond,
      creation_p50_ms: creations.p50Ms,
      creation_p99_ms: creations.p99Ms,
      baseline_inserts_per_s: baselinePerSecond,
      baseline_inserts_per_s_before: baselineBefore.perSecond,
      baseline_inserts_per_s_after: baselineAfter.perSecond,
      baseline_insert_p50_ms: (baselineBefore.p50Ms + baselineAfter.p50Ms) / 2,
      baseline_insert_p99_ms: (baselineBefore.p99Ms + baselineAfter.p99Ms) / 2,
      creation_ratio: creations.perSecond / baselinePerSecond,
      ...(db.driver === 'postgres'
        ? {
            sql_round_trips_per_creation: roundTrips / CREATIONS,
            alone_creation_p50_ms: percentile(alone, 0.5),
            alone_sql_ms_per_creation: profile.sqlMsPerTicket,
            alone_counter_locked_ms_per_creation: profile.counterLockedMsPerTicket,
            // One tenant's openings queue on its counter row: opened one per transaction, this would
            // be their ceiling; createTicket opens those that wait together, one lock per batch.
            one_per_transaction_ceiling_per_s: 1000 / profile.counterLockedMsPerTicket,
          }
        : {}),
      node_cpu_ms_per_creation: creationCpu.processMs / CREATIONS,
      ...('postgres' in creationCpu.groupsMs ? { postgres_cpu_ms_per_creation: creationCpu.groupsMs.postgres! / CREATIONS } : {}),
      host_cpu_busy_percent_creations: creationCpu.hostBusyPercent,
      open_load_spread_max_minus_min: Number(check!.spread),
    };
    if (db.driver === 'postgres') {
      console.log('Creation, one at a time: statements per ticket (slowest first)');
      console.table(profile.statements.slice(0, 25));
    }
    publish('tickets', {
      figures,
      targets: {
        ...queryTargets,
        creations_per_s: { target: TARGETS.creationsPerSecond, met: creations.perSecond >= TARGETS.creationsPerSecond },
      },
      machine: machine({
        driver: db.driver,
        database: scratch.server,
        poolSize: db.driver === 'postgres' ? POOL_SIZE : 1,
        concurrency: CONCURRENCY,
        agents: AGENTS,
        days: DAYS,
        metricIndexes: METRIC_INDEXES,
        queryRuns: QUERY_RUNS,
        creations: CREATIONS,
        baselineInserts: BASELINE_INSERTS,
      }),
    });
  } finally {
    await scratch.drop();
  }
}
