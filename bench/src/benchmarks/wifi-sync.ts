/**
 * bench/wifi-sync: one sync cycle of ROUTERS simulated routers x SESSIONS active sessions each,
 * through the real adapter (node-routeros over TCP) into the real database.
 *
 * The simulators run in a child process (bench/src/routeros-fleet.ts), so this process's CPU is
 * ours: adapter, parsing, sync logic and database client. Between cycles each router sees 5 %
 * of its sessions end and as many new ones start. Baseline, same run, same concurrency: the
 * router I/O alone (log in, identity, print active sessions, print users) with no database work.
 *
 * Targets (issue 4): whole cycle <= 60 s; < 1 s of our own processing per router (Node CPU of
 * this process + PostgreSQL CPU of the bench database, per router); memory flat across cycles.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { and, eq, gte } from 'drizzle-orm';
import { addRouter, createRouterOsClient, createSecretBox, createTenant, syncRouters, systemClock, type RouterSyncDeps } from '@relais/core';
import { mikrotikSyncLogs, wifiPackages, wifiVouchers } from '@relais/db';
import { postgresGroup, startCpuMeter } from '../cpu.js';
import { machine, publish, type BenchmarkReport } from '../report.js';
import { positiveInteger } from '../env.js';
import { createScratchDatabase } from '../scratch-database.js';

const ROUTERS = positiveInteger('BENCH_ROUTERS', 50);
const SESSIONS = positiveInteger('BENCH_SESSIONS', 2000);
const CYCLES = Math.max(2, positiveInteger('BENCH_CYCLES', 5)); // memory is compared from the second cycle on
const ROUTERS_PER_TENANT = 5;
const CONCURRENCY = 8;
const CHURN = Math.round(SESSIONS * 0.05);

interface Fleet {
  ports: number[];
  username: string;
  password: string;
  churn(): Promise<void>;
  close(): void;
}

async function startFleet(): Promise<Fleet> {
  const script = fileURLToPath(new URL('../routeros-fleet.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(ROUTERS), String(SESSIONS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('the RouterOS simulator fleet exited before starting');
  const started = JSON.parse(first.value) as { ports: number[]; username: string; password: string };
  return {
    ...started,
    async churn() {
      child.stdin!.write(`churn ${CHURN}\n`);
      await lines.next();
    },
    close: () => child.stdin!.end(),
  };
}

/** Heap after a full collection, in MiB (the flag is set at run time: `npm run bench` passes no node options). */
function settledHeapMiB(): number {
  setFlagsFromString('--expose_gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function concurrently<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export async function runWifiSyncBenchmark(): Promise<BenchmarkReport> {
  const scratch = await createScratchDatabase({ poolSize: 10 });
  const fleet = await startFleet();
  try {
    const secrets = createSecretBox(randomBytes(32));
    const routerClient = createRouterOsClient();
    const deps: RouterSyncDeps = { db: scratch.db, secrets, routerClient, clock: systemClock };

    // Seeding (not measured): tenants of 5 routers; each tenant holds a sold voucher for every
    // seeded user name, so the first cycle activates them.
    const tenantIds: string[] = [];
    for (let t = 0; t < Math.ceil(ROUTERS / ROUTERS_PER_TENANT); t += 1) {
      const { tenant } = await createTenant({ db: scratch.db, clock: systemClock }, { name: `Bench WiFi ${t + 1}`, email: `bench-wifi-${t + 1}@example.cm` });
      tenantIds.push(tenant.id);
      await scratch.db.withTenant(tenant.id, async (tx) => {
        const [pkg] = await tx.insert(wifiPackages).values({ tenantId: tenant.id, nameFr: '1 jour', nameEn: '1 day', priceXaf: 500, validityMinutes: 24 * 60 }).returning();
        const names = Array.from({ length: SESSIONS }, (_, i) => `seed-${String(i + 1).padStart(5, '0')}`);
        for (let start = 0; start < names.length; start += 1000) {
          await tx.insert(wifiVouchers).values(
            names.slice(start, start + 1000).map((username) => ({ tenantId: tenant.id, packageId: pkg!.id, username, password: username, status: 'sold' as const, source: 'import' as const })),
          );
        }
      });
    }
    for (const [i, port] of fleet.ports.entries()) {
      await addRouter(deps, { tenantId: tenantIds[Math.floor(i / ROUTERS_PER_TENANT)]!, name: `router-${i + 1}`, host: '127.0.0.1', port, username: fleet.username, password: fleet.password });
    }

    const cpuGroups = scratch.name ? [postgresGroup(scratch.name)] : [];
    const cycles: { wallMs: number; nodeCpuMs: number; postgresCpuMs: number; maxRouterMs: number; heapMiB: number; failed: number; activated: number }[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      if (cycle > 0) await fleet.churn();
      const cycleStart = new Date();
      const cpu = startCpuMeter(cpuGroups);
      const t0 = performance.now();
      const results = await syncRouters(deps, { force: true, concurrency: CONCURRENCY });
      const wallMs = performance.now() - t0;
      const used = cpu();
      const logs = await Promise.all(
        tenantIds.map((tenantId) =>
          scratch.db.withTenant(tenantId, (tx) => tx.select().from(mikrotikSyncLogs).where(and(eq(mikrotikSyncLogs.tenantId, tenantId), gte(mikrotikSyncLogs.startedAt, cycleStart)))),
        ),
      );
      const routerMs = logs.flat().map((log) => log.finishedAt!.getTime() - log.startedAt.getTime());
      cycles.push({
        wallMs,
        nodeCpuMs: used.processMs,
        postgresCpuMs: used.groupsMs.postgres ?? 0,
        maxRouterMs: Math.max(...routerMs),
        heapMiB: settledHeapMiB(),
        failed: results.filter((result) => result.status !== 'succeeded').length,
        activated: results.reduce((sum, result) => sum + result.vouchersActivated, 0),
      });
      const last = cycles.at(-1)!;
      console.log(
        `cycle ${cycle + 1}: ${(wallMs / 1000).toFixed(1)} s, ${results.length} routers (${last.failed} failed), ${last.activated} vouchers activated, ` +
          `Node ${(used.processMs / ROUTERS).toFixed(0)} ms + PostgreSQL ${((used.groupsMs.postgres ?? 0) / ROUTERS).toFixed(0)} ms CPU per router, heap ${last.heapMiB.toFixed(1)} MiB`,
      );
      if (last.failed > 0) throw new Error(`${last.failed} router sync(s) failed: ${JSON.stringify(results.filter((r) => r.status !== 'succeeded').slice(0, 3))}`);
    }

    // Baseline: the same routers' I/O through the same adapter, same concurrency, no database.
    const baselineCpu = startCpuMeter();
    const b0 = performance.now();
    await concurrently(fleet.ports, CONCURRENCY, async (port) => {
      const session = await routerClient.connect({ host: '127.0.0.1', port, tls: false, username: fleet.username, password: fleet.password, timeoutMs: 10_000 });
      try {
        await session.identity();
        await session.listActiveSessions();
        await session.listHotspotUsers();
      } finally {
        await session.close();
      }
    });
    const baselineMs = performance.now() - b0;
    const baselineNodeCpuMs = baselineCpu().processMs;

    // Steady state: the first cycle creates every row; later ones update and churn.
    const steady = cycles.slice(1);
    const mean = (pick: (c: (typeof cycles)[number]) => number) => steady.reduce((sum, c) => sum + pick(c), 0) / steady.length;
    const cycleSeconds = Math.max(...cycles.map((c) => c.wallMs)) / 1000;
    const ownMsPerRouter = Math.max(...cycles.map((c) => (c.nodeCpuMs + c.postgresCpuMs) / ROUTERS));
    const heapGrowthMiB = cycles.at(-1)!.heapMiB - cycles[1]!.heapMiB;
    const figures = {
      routers: ROUTERS,
      sessions_per_router: SESSIONS,
      cycles: CYCLES,
      first_cycle_s: cycles[0]!.wallMs / 1000,
      steady_cycle_s: mean((c) => c.wallMs) / 1000,
      worst_cycle_s: cycleSeconds,
      worst_router_sync_ms: Math.max(...cycles.map((c) => c.maxRouterMs)),
      own_processing_ms_per_router_worst_cycle: ownMsPerRouter,
      node_cpu_ms_per_router_steady: mean((c) => c.nodeCpuMs) / ROUTERS,
      postgres_cpu_ms_per_router_steady: mean((c) => c.postgresCpuMs) / ROUTERS,
      heap_mib_after_cycle_2: cycles[1]!.heapMiB,
      heap_mib_after_last_cycle: cycles.at(-1)!.heapMiB,
      heap_growth_mib: heapGrowthMiB,
      baseline_router_io_only_s: baselineMs / 1000,
      baseline_node_cpu_ms_per_router: baselineNodeCpuMs / ROUTERS,
      ratio_baseline_to_steady_cycle: baselineMs / mean((c) => c.wallMs),
    };
    return {
      figures,
      targets: {
        worst_cycle_s: { target: 60, met: cycleSeconds <= 60 },
        own_processing_ms_per_router_worst_cycle: { target: 1000, met: ownMsPerRouter < 1000 },
        // "Flat": less than 5 % of the heap after the second cycle gained over the later cycles.
        heap_growth_mib: { target: cycles[1]!.heapMiB * 0.05, met: heapGrowthMiB < cycles[1]!.heapMiB * 0.05 },
      },
      machine: machine({ database: scratch.server, concurrency: CONCURRENCY }),
    };
  } finally {
    fleet.close();
    await scratch.drop();
  }
}

/** `npm run bench -- wifi-sync`: this section alone. */
export async function run(): Promise<void> {
  publish('wifi-sync', await runWifiSyncBenchmark());
}
