/**
 * Payment confirmations end to end: the CamPay simulator sends a signed SUCCESSFUL callback over
 * HTTP to the real fastify app (/webhooks/campay/platform), which stores the event and queues
 * 'payments.confirm'; the job re-reads the transaction from the simulator over HTTP and commits
 * payment, ledger lines and outbox message in one transaction (shared with the confirmations
 * waiting at the same time, docs/decisions/009). Measured against a bare fastify
 * route doing one INSERT on the same database, same concurrency, same run.
 *
 * Closed loop: CONCURRENCY payments are in flight at any time, a payment being in flight from the
 * simulator sending its callback until its fulfilment has committed (the confirm job's processor
 * returned). Latency is from the webhook request reaching the app (fastify onRequest) to that
 * commit; throughput is N over the time from the first callback sent to the last commit.
 *
 * The simulator runs in a process of its own (bench/src/campay-sim-process.ts), as CamPay is
 * elsewhere in production, and the baseline's HTTP client in a thread of its own: neither shares
 * the app's event loop, and both still share the machine's two cores.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { and, count, eq, inArray, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { deleteRedisKeys } from '../../../tests/support/redis-keys.js';
import pg from 'pg';
import pino from 'pino';
import {
  createGatewayDirectory,
  createLocalDiskFileStore,
  createRouterOsClient,
  createSecretBox,
  createTenant,
  ledgerTrialBalance,
  PAYMENT_JOBS,
  startTicketPayment,
  systemClock,
} from '@relais/core';
import { categories, outbox, payments, type Database } from '@relais/db';
import { signHs256Jwt } from '@relais/sim';
import { buildJobDefinitions, createJobRunner, type JobDefinition, type JobRunner } from '@relais/workers';
import { build } from '../../../server/src/app.js';
import { loadConfig } from '../../../server/src/config.js';
import type { Services } from '../../../server/src/services.js';
import { startBaselineServer } from '../baseline-insert.js';
import { postgresGroup, profiled, startCpuMeter, type ProcessGroup } from '../cpu.js';
import { runHttpLoad } from '../http-closed-loop.js';
import { closedLoop, openLoop, summarize } from '../latency.js';
import { machine, publish } from '../report.js';
import { createScratchDatabase, ownerStatements } from '../scratch-database.js';
import { countSqlRoundTrips } from '../sql-round-trips.js';
import { positiveInteger } from '../env.js';
import { insertContactsWithTickets, shuffle } from '../seed-tickets.js';


/** Confirmations measured (each a distinct pending payment, seeded beforehand). */
const PAYMENTS = positiveInteger('BENCH_PAYMENTS', 3_000);
/**
 * Confirmations run first, unmeasured: connections, JIT, query plans. Measured on this machine
 * (docs/benchmarks.md): CPU per confirmation kept falling until about 2 500 of them (500: 2.3 ms
 * of host CPU; 1 500: 1.7; 2 500: 1.4; 4 000: 1.3), so the measured run starts after 3 000, as
 * a server that has been running would. The baseline gets as many warm-up requests.
 */
const WARMUP = positiveInteger('BENCH_WARMUP', 3_000);
/** Payments (or baseline requests) in flight at once. */
const CONCURRENCY = positiveInteger('BENCH_CONCURRENCY', 32);
/** Runtime pool, as DATABASE_POOL_SIZE configures the server (default 10 there too). */
const POOL_SIZE = positiveInteger('DATABASE_POOL_SIZE', 10);
/** Override of the confirm job's own concurrency, for experiments; unset = the definition's. */
const CONFIRM_CONCURRENCY = process.env.BENCH_CONFIRM_CONCURRENCY ? positiveInteger('BENCH_CONFIRM_CONCURRENCY', 1) : undefined;
/** Writes a V8 CPU profile of the measured confirmations there (open it in Chrome DevTools). */
const CPU_PROFILE = process.env.BENCH_CPU_PROFILE || undefined;
/** A directory: the simulator's process writes its whole-life V8 CPU profile there when it exits (node --cpu-prof). */
const SIM_CPU_PROFILE_DIR = process.env.BENCH_SIM_CPU_PROF || undefined;
const BASELINE_REQUESTS = 5_000;
const TENANTS = 10;
const PRICE_XAF = 500;
const PAYER_PHONE = '+237 6 70 00 00 01';
const CONFIRMATION_TIMEOUT_MS = 60_000;

const TARGETS = { confirmations_per_s: 500, p99_ms: 50, ratio: 0.3 };
/** Callbacks of past payments, settled long ago, already in the table when the run starts. */
const HISTORICAL_EVENTS = positiveInteger('BENCH_HISTORICAL_EVENTS', 50_000);
const HISTORICAL_WEBHOOK_EVENTS = `INSERT INTO payment_webhook_events (gateway_app_id, event_key, gateway_reference, reported_status, payload, received_at, processed_at, outcome)
SELECT 'platform', 'platform:history-' || n || ':SUCCESSFUL', 'history-' || n, 'SUCCESSFUL', jsonb_build_object('reference', 'history-' || n, 'status', 'SUCCESSFUL'),
  now() - n * interval '1 minute', now() - n * interval '1 minute', 'fulfilled'
FROM generate_series(1, ${HISTORICAL_EVENTS}) AS n`;
/** Offered rate of the open-loop run (callbacks per second): the throughput target, at which its p99 target is judged. */
const OFFERED_RATE = positiveInteger('BENCH_OFFERED_RATE', TARGETS.confirmations_per_s);
/** Confirmations of the open-loop run (each a distinct pending payment). */
const OFFERED_PAYMENTS = positiveInteger('BENCH_OFFERED_PAYMENTS', PAYMENTS);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Runs `work` over `items`, `concurrency` at a time (seeding only). */
async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next]!;
        next += 1;
        await work(item);
      }
    }),
  );
}

/** Tells a waiting load generator when the confirmation of a gateway reference has committed. */
function confirmationSignals() {
  const waiting = new Map<string, (committedMs: number) => void>();
  return {
    wait(reference: string): Promise<number> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(reference);
          reject(new Error(`no confirmation committed for ${reference} within ${CONFIRMATION_TIMEOUT_MS} ms`));
        }, CONFIRMATION_TIMEOUT_MS);
        waiting.set(reference, (committedMs) => {
          clearTimeout(timer);
          waiting.delete(reference);
          resolve(committedMs);
        });
      });
    },
    committed(reference: string | undefined, committedMs: number): void {
      if (reference) waiting.get(reference)?.(committedMs);
    },
  };
}

/**
 * The server's job definitions, with the confirm job's processor wrapped to signal each commit:
 * confirmPayment has returned, so its transaction has committed.
 */
function instrumentedDefinitions(definitions: JobDefinition<any>[], onCommitted: (reference: string | undefined, atMs: number) => void) {
  return definitions.map((definition): JobDefinition<any> => {
    if (definition.name !== PAYMENT_JOBS.confirm) return definition;
    return {
      ...definition,
      concurrency: CONFIRM_CONCURRENCY ?? definition.concurrency,
      async process(payload: { gatewayReference?: string }, context) {
        await definition.process(payload, context);
        onCommitted(payload.gatewayReference, performance.now());
      },
    };
  });
}

/** Tenants, one priced ticket per payment (batch inserts), then one pending payment each, through startTicketPayment. */
async function seedPendingPayments(db: Database, gateways: Services['gateways'], total: number) {
  const stamp = randomBytes(3).toString('hex');
  const tenantTickets: { tenantId: string; ticketId: string }[] = [];
  for (let t = 0; t < TENANTS; t += 1) {
    const { tenant } = await createTenant({ db, clock: systemClock }, { name: `Bench Zone ${t}`, slug: `bench-${stamp}-${t}`, email: `bench-${stamp}-${t}@example.test`, mode: 'commission' });
    const share = Math.floor(total / TENANTS) + (t < total % TENANTS ? 1 : 0);
    await db.withTenant(tenant.id, async (tx) => {
      const [category] = await tx.insert(categories).values({ tenantId: tenant.id, nameFr: 'Forfait WiFi', nameEn: 'WiFi package', priceXaf: PRICE_XAF }).returning();
      const ticketIds = await insertContactsWithTickets(tx, { tenantId: tenant.id, tenantIndex: t, categoryId: category!.id, count: share });
      tenantTickets.push(...ticketIds.map((ticketId) => ({ tenantId: tenant.id, ticketId })));
    });
  }
  shuffle(tenantTickets);
  const paymentIds: string[] = [];
  await inParallel(tenantTickets, 16, async ({ tenantId, ticketId }) => {
    const started = await startTicketPayment({ db, gateways, clock: systemClock }, { tenantId, ticketId, payerPhone: PAYER_PHONE });
    if (started.gatewayDelayed) throw new Error('the simulator did not answer a collect request while seeding');
    paymentIds.push(started.paymentId);
  });
  const rows = await db.withPlatform((tx) =>
    tx.select({ id: payments.id, reference: payments.gatewayReference }).from(payments).where(eq(payments.status, 'pending')),
  );
  const referenceOf = new Map(rows.map((row) => [row.id, row.reference!]));
  return { references: paymentIds.map((id) => referenceOf.get(id)!), tenantIds: [...new Set(tenantTickets.map((t) => t.tenantId))] };
}

/** The CamPay simulator's process (bench/src/campay-sim-process.ts). */
interface SimulatorProcess {
  url: string;
  username: string;
  password: string;
  webhookKey: string;
  /** The transaction turns SUCCESSFUL; the simulator sends its signed callback. */
  approve(reference: string): void;
  /** Once no callback is under way: how many were sent, and how many were not answered 200. */
  settled(): Promise<{ callbacks: number; bad: number }>;
  /** What the simulator reported failing (an approve it could not do). */
  errors: string[];
  close(): void;
}

async function startSimulatorProcess(callbackUrl: string): Promise<SimulatorProcess> {
  const script = fileURLToPath(new URL('../campay-sim-process.ts', import.meta.url));
  const child = spawn(process.execPath, [...(SIM_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${SIM_CPU_PROFILE_DIR}`] : []), '--import', 'tsx', script, callbackUrl], { stdio: ['pipe', 'pipe', 'inherit'] });
  const errors: string[] = [];
  const answers: ((line: Record<string, unknown>) => void)[] = [];
  let started: ((line: Record<string, unknown>) => void) | undefined;
  const first = new Promise<Record<string, unknown>>((resolve) => (started = resolve));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    if (started) {
      started(line);
      started = undefined;
    } else if (typeof line.error === 'string') errors.push(line.error);
    else answers.shift()?.(line);
  });
  const exited = new Promise<never>((_resolve, reject) => child.once('exit', (code) => reject(new Error(`the CamPay simulator process exited with ${code}`))));
  exited.catch(() => {});
  const hello = (await Promise.race([first, exited])) as { url: string; username: string; password: string; webhookKey: string };
  return {
    ...hello,
    approve: (reference) => void child.stdin!.write(`approve ${reference}\n`),
    settled: () =>
      Promise.race([
        new Promise<{ callbacks: number; bad: number }>((resolve) => {
          answers.push((line) => resolve(line as { callbacks: number; bad: number }));
          child.stdin!.write('settled\n');
        }),
        exited,
      ]),
    errors,
    close: () => child.stdin!.end(),
  };
}

/** Closed loop over the baseline route with a callback-shaped query string, from a thread of its own. */
async function measureBaseline(url: string, requests: number, groups: readonly ProcessGroup[]) {
  const key = randomBytes(24).toString('base64url');
  const call = (i: number) => {
    const claims = { reference: `baseline-${i}`, external_reference: `ext-${i}`, status: 'SUCCESSFUL', amount: String(PRICE_XAF), currency: 'XAF', iat: Math.floor(Date.now() / 1000) };
    const query = new URLSearchParams({ status: 'SUCCESSFUL', reference: claims.reference, amount: claims.amount, currency: 'XAF', operator: 'MTN', code: 'CP0123456789', operator_reference: 'MP0123456789', signature: signHs256Jwt(claims, key), external_reference: claims.external_reference, endpoint: 'collect' }).toString();
    // Each request its own key: they may all be in flight together.
    return { key: `baseline-${i}`, url: `${url}?${query}` };
  };
  await runHttpLoad(Array.from({ length: WARMUP }, (_, i) => call(i)), CONCURRENCY); // warm-up, as long as the confirmations'
  const calls = Array.from({ length: requests }, (_, i) => call(WARMUP + i));
  const cpu = startCpuMeter(groups);
  const result = await runHttpLoad(calls, CONCURRENCY);
  return { ...result, cpu: cpu() };
}

async function postgresSettings(ownerUrl: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'shared_buffers', 'max_connections')",
    );
    return Object.fromEntries(rows.map((row) => [row.name, row.setting]));
  } finally {
    await client.end();
  }
}

export async function run(): Promise<void> {
  const scratch = await createScratchDatabase({ poolSize: POOL_SIZE });
  const { db } = scratch;
  const problems: string[] = [];
  // warn and above only: anything logged is a failed job or a 5xx, and is reported.
  const logger = pino({ level: 'warn' }, { write: (line: string) => void problems.push(line) });
  const redisUrl = process.env.REDIS_URL || undefined;
  const queuePrefix = `bench-${randomBytes(4).toString('hex')}`;
  const signals = confirmationSignals();
  const received = new Map<string, number>();
  let sim: SimulatorProcess | undefined;
  let jobs: JobRunner | undefined;
  let app: FastifyInstance | undefined;
  const filesDir = await mkdtemp(join(tmpdir(), 'relais-bench-files-'));
  try {
    const port = await freePort();
    sim = await startSimulatorProcess(`http://127.0.0.1:${port}/webhooks/campay/platform`);
    const secrets = createSecretBox(randomBytes(32));
    const gateways = createGatewayDirectory({
      db,
      secrets,
      platform: { baseUrl: sim.url, credentials: { kind: 'login', username: sim.username, password: sim.password }, webhookKey: sim.webhookKey },
    });
    const fileStore = createLocalDiskFileStore(filesDir);
    const routerClient = createRouterOsClient();
    const definitions = instrumentedDefinitions(buildJobDefinitions({ db, gateways, clock: systemClock, fileStore, secrets, routerClient, senderFor: () => undefined, logger }), signals.committed);
    jobs = createJobRunner({ definitions, logger, redisUrl, queuePrefix });
    const services: Services = {
      config: loadConfig({ FILES_DIR: filesDir }),
      logger,
      clock: systemClock,
      db,
      jobs,
      secrets,
      routerClient,
      gateways,
      fileStore,
      close: async () => {},
    };
    app = await build(services, { adminWebBuildDirectory: false });
    // "Webhook received": the request has reached the app (CamPay's GET callback names the reference in its query string).
    app.addHook('onRequest', async (request) => {
      const reference = (request.query as { reference?: unknown }).reference;
      if (typeof reference === 'string' && !received.has(reference)) received.set(reference, performance.now());
    });
    await app.listen({ host: '127.0.0.1', port });
    await jobs.start();

    console.log(`payments: seeding ${WARMUP + PAYMENTS + OFFERED_PAYMENTS} pending payments (${TENANTS} tenants) on ${scratch.server}, jobs: ${jobs.driver}...`);
    const seeded = await seedPendingPayments(db, gateways, WARMUP + PAYMENTS + OFFERED_PAYMENTS);
    // A deployment's history of callbacks (a settled one per payment of past months): the
    // settlement marks events by reference, and its plan is made for a table of that size.
    if (scratch.ownerUrl) await ownerStatements(scratch.ownerUrl, [HISTORICAL_WEBHOOK_EVENTS]);
    const warmupReferences = seeded.references.slice(0, WARMUP);
    const measuredReferences = seeded.references.slice(WARMUP, WARMUP + PAYMENTS);
    const offeredReferences = seeded.references.slice(WARMUP + PAYMENTS);

    // Our PostgreSQL backends (and the server's background processes); Redis is counted whole.
    const cpuGroups: ProcessGroup[] = [
      ...(scratch.name ? [postgresGroup(scratch.name)] : []),
      ...(redisUrl ? [{ label: 'redis', comm: 'redis-server' }] : []),
      { label: 'campay_simulator', comm: 'node', accept: (cmdline: string) => cmdline.includes('campay-sim-process') },
    ];
    const baseline = await startBaselineServer({ ownerUrl: scratch.ownerUrl, poolSize: POOL_SIZE });
    let baselineBefore: Awaited<ReturnType<typeof measureBaseline>>;
    let baselineAfter: Awaited<ReturnType<typeof measureBaseline>>;
    let confirmations: Awaited<ReturnType<typeof closedLoop>>;
    let confirmationsCpu: ReturnType<ReturnType<typeof startCpuMeter>>;
    let sqlRoundTrips: number;
    let atRate: Awaited<ReturnType<typeof openLoop>>;
    const sentLatencies: number[] = [];
    try {
      console.log(`payments: baseline (${BASELINE_REQUESTS} inserts, ${CONCURRENCY} in flight)...`);
      baselineBefore = await measureBaseline(baseline.url, BASELINE_REQUESTS, cpuGroups);

      const confirmOne = async (reference: string) => {
        const committed = signals.wait(reference);
        const sentMs = performance.now();
        sim!.approve(reference); // the simulator's dispatcher sends the signed callback
        const committedMs = await committed;
        const receivedMs = received.get(reference);
        if (receivedMs === undefined) throw new Error(`callback for ${reference} was confirmed but never seen by the app`);
        sentLatencies.push(committedMs - sentMs);
        return { startMs: sentMs, endMs: committedMs, latencyMs: committedMs - receivedMs };
      };
      console.log(`payments: ${WARMUP} warm-up confirmations, then ${PAYMENTS} measured, ${CONCURRENCY} in flight...`);
      await closedLoop(warmupReferences, CONCURRENCY, confirmOne);
      sentLatencies.length = 0;
      // Statistics, as autovacuum keeps them on tables in use: with payments and attempts already
      // settled (all pending, the planner would think no attempt is ever successful).
      if (scratch.ownerUrl) await ownerStatements(scratch.ownerUrl, ['analyze']);
      const cpu = startCpuMeter(cpuGroups);
      const stopCounting = countSqlRoundTrips();
      try {
        confirmations = await profiled(CPU_PROFILE, () => closedLoop(measuredReferences, CONCURRENCY, confirmOne));
      } finally {
        sqlRoundTrips = stopCounting();
      }
      confirmationsCpu = cpu();

      console.log(`payments: ${OFFERED_PAYMENTS} callbacks offered at ${OFFERED_RATE}/s (open loop)...`);
      const sentSoFar = sentLatencies.length;
      atRate = await openLoop(offeredReferences, OFFERED_RATE, confirmOne);
      sentLatencies.length = sentSoFar;

      console.log('payments: baseline again...');
      baselineAfter = await measureBaseline(baseline.url, BASELINE_REQUESTS, cpuGroups);
    } finally {
      await baseline.close();
    }
    const delivered = await sim.settled();

    // Every payment fulfilled exactly once, the books balanced, nothing failed on the way.
    const [verified] = await db.withPlatform((tx) =>
      tx.select({ n: count() }).from(payments).where(and(inArray(payments.gatewayReference, seeded.references), eq(payments.status, 'successful'), sql`${payments.completedAt} is not null`)),
    );
    let ticketPaid = 0;
    for (const tenantId of seeded.tenantIds) {
      const [row] = await db.withTenant(tenantId, (tx) => tx.select({ n: count() }).from(outbox).where(eq(outbox.topic, 'ticket.paid')));
      ticketPaid += row!.n;
    }
    const trialBalance = await db.withPlatform((tx) => ledgerTrialBalance(tx));
    const badDeliveries = delivered.bad + sim.errors.length;
    const total = seeded.references.length;
    if (verified!.n !== total || ticketPaid !== total || trialBalance !== 0 || badDeliveries > 0) {
      throw new Error(`inconsistent end state: ${verified!.n}/${total} payments successful, ${ticketPaid} ticket.paid messages, trial balance ${trialBalance}, ${badDeliveries} bad callback deliveries`);
    }
    if (problems.length > 0) console.warn(`payments: ${problems.length} warnings/errors were logged, first: ${problems[0]}`);

    const baselinePerSecond = (baselineBefore.perSecond + baselineAfter.perSecond) / 2;
    const sent = summarize(sentLatencies);
    const figures = {
      // Closed loop (CONCURRENCY in flight): the most this machine confirms, and the latency of
      // the queue that load builds.
      confirmations_per_s: confirmations.perSecond,
      closed_loop_p50_ms: confirmations.p50Ms,
      closed_loop_p99_ms: confirmations.p99Ms,
      closed_loop_max_ms: confirmations.maxMs,
      // Open loop: callbacks arriving at the offered rate, the latency of each.
      offered_per_s: atRate.offeredPerSecond,
      achieved_per_s_at_offered_rate: atRate.perSecond,
      late_starts_at_offered_rate: atRate.lateStarts,
      p50_ms_at_offered_rate: atRate.p50Ms,
      p99_ms_at_offered_rate: atRate.p99Ms,
      max_ms_at_offered_rate: atRate.maxMs,
      sent_to_committed_p50_ms: sent.p50Ms,
      sent_to_committed_p99_ms: sent.p99Ms,
      baseline_inserts_per_s: baselinePerSecond,
      baseline_inserts_per_s_before: baselineBefore.perSecond,
      baseline_inserts_per_s_after: baselineAfter.perSecond,
      baseline_p50_ms: (baselineBefore.p50Ms + baselineAfter.p50Ms) / 2,
      baseline_p99_ms: (baselineBefore.p99Ms + baselineAfter.p99Ms) / 2,
      ratio: confirmations.perSecond / baselinePerSecond,
      ...(db.driver === 'postgres' ? { sql_round_trips_per_confirmation: sqlRoundTrips / PAYMENTS } : {}),
      // Where the time goes, per operation: CPU of this Node process (app and jobs; for the
      // baseline, the bare app and its client's thread), of our PostgreSQL backends, of Redis, of
      // the CamPay simulator's process, and of the whole host.
      node_cpu_ms_per_confirmation: confirmationsCpu.processMs / PAYMENTS,
      ...('postgres' in confirmationsCpu.groupsMs ? { postgres_cpu_ms_per_confirmation: confirmationsCpu.groupsMs.postgres! / PAYMENTS } : {}),
      ...('redis' in confirmationsCpu.groupsMs ? { redis_cpu_ms_per_confirmation: confirmationsCpu.groupsMs.redis! / PAYMENTS } : {}),
      ...('campay_simulator' in confirmationsCpu.groupsMs ? { simulator_cpu_ms_per_confirmation: confirmationsCpu.groupsMs.campay_simulator! / PAYMENTS } : {}),
      host_cpu_ms_per_confirmation: confirmationsCpu.hostBusyMs / PAYMENTS,
      host_cpu_busy_percent_confirmations: confirmationsCpu.hostBusyPercent,
      node_cpu_ms_per_baseline_insert: (baselineBefore.cpu.processMs + baselineAfter.cpu.processMs) / (2 * BASELINE_REQUESTS),
      ...('postgres' in baselineBefore.cpu.groupsMs
        ? { postgres_cpu_ms_per_baseline_insert: (baselineBefore.cpu.groupsMs.postgres! + baselineAfter.cpu.groupsMs.postgres!) / (2 * BASELINE_REQUESTS) }
        : {}),
      host_cpu_ms_per_baseline_insert: (baselineBefore.cpu.hostBusyMs + baselineAfter.cpu.hostBusyMs) / (2 * BASELINE_REQUESTS),
      host_cpu_busy_percent_baseline: (baselineBefore.cpu.hostBusyPercent + baselineAfter.cpu.hostBusyPercent) / 2,
      logged_problems: problems.length,
    };
    publish('payments', {
      figures,
      targets: {
        confirmations_per_s: { target: TARGETS.confirmations_per_s, met: figures.confirmations_per_s >= TARGETS.confirmations_per_s },
        // At the target rate, and only if that rate was really served.
        p99_ms_at_offered_rate: {
          target: TARGETS.p99_ms,
          met: figures.p99_ms_at_offered_rate < TARGETS.p99_ms && OFFERED_RATE >= TARGETS.confirmations_per_s && figures.achieved_per_s_at_offered_rate >= 0.95 * OFFERED_RATE,
        },
        ratio: { target: TARGETS.ratio, met: figures.ratio >= TARGETS.ratio },
      },
      machine: machine({
        driver: db.driver,
        database: scratch.server,
        ...(scratch.ownerUrl ? { postgres: await postgresSettings(scratch.ownerUrl) } : {}),
        jobRunner: jobs.driver,
        poolSize: db.driver === 'postgres' ? POOL_SIZE : 1,
        confirmJobConcurrency: definitions.find((d) => d.name === PAYMENT_JOBS.confirm)?.concurrency,
        payments: PAYMENTS,
        warmup: WARMUP,
        offeredPayments: OFFERED_PAYMENTS,
        concurrency: CONCURRENCY,
        tenants: TENANTS,
        baselineRequests: BASELINE_REQUESTS,
        callbackMethod: 'GET',
        topology: 'one Node process: app and job worker; the CamPay simulator (callbacks, status re-reads) in a process of its own; the baseline client in a worker thread; PostgreSQL/Redis on the same host',
      }),
    });
  } finally {
    await app?.close();
    await jobs?.close();
    sim?.close();
    await scratch.drop();
    await rm(filesDir, { recursive: true, force: true });
    if (redisUrl) await deleteRedisKeys(redisUrl, `${queuePrefix}:`);
  }
}
