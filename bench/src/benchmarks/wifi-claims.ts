/**
 * Voucher claims: paid tickets taking vouchers through claimVoucherForTicket (withTenant, ticket
 * row lock, FOR UPDATE SKIP LOCKED on the package's oldest available voucher, low-stock count),
 * CONCURRENCY at once, against a baseline measured in the same run at the same concurrency: a
 * bare single-row `UPDATE ... RETURNING` by primary key, autocommit, on a pool of the same size.
 *
 * Seeding (not measured): TENANTS commission tenants, each with one package whose stock equals
 * its tickets (generateVouchers) and as many paid tickets (batch inserts: ticket in a category
 * selling the package, successful payment attempt). The end state is checked: every ticket has
 * exactly one voucher, no voucher went to two tickets, none is left over.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { claimVoucherForTicket, createPackage, createTenant, generateVouchers, systemClock } from '@relais/core';
import { categories, executeRows, paymentAttempts, type Database } from '@relais/db';
import { closedLoop } from '../latency.js';
import { machine, publish, type BenchmarkReport } from '../report.js';
import { createScratchDatabase } from '../scratch-database.js';
import { countSqlRoundTrips } from '../sql-round-trips.js';
import { positiveInteger } from '../env.js';
import { insertContactsWithTickets, shuffle } from '../seed-tickets.js';


const CLAIMS = positiveInteger('BENCH_CLAIMS', 8_000);
const WARMUP = Math.min(1_000, Math.ceil(CLAIMS / 5));
const CONCURRENCY = positiveInteger('BENCH_CONCURRENCY', 32);
/** One connection per claimer: a claim holds its connection for its whole transaction. */
const POOL_SIZE = positiveInteger('DATABASE_POOL_SIZE', CONCURRENCY);
const TENANTS = 4;
const BASELINE_ROWS = 10_000;
const BASELINE_UPDATES = 20_000;
const TARGETS = { claims_per_s: 2_000, duplicates: 0 };
/**
 * Experiment: a partial index in the claim's order, so taking the oldest available voucher is a
 * top-1 index scan instead of sorting the package's whole stock. Not part of the schema yet.
 */
const STOCK_ORDER_INDEX = process.env.BENCH_STOCK_ORDER_INDEX === '1';

async function createStockOrderIndex(ownerUrl: string | undefined): Promise<void> {
  if (!ownerUrl) throw new Error('BENCH_STOCK_ORDER_INDEX needs PostgreSQL (the index is created by the owner)');
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query("CREATE INDEX wifi_vouchers_available_order_idx ON wifi_vouchers (tenant_id, package_id, created_at, id) WHERE status = 'available'");
  } finally {
    await client.end();
  }
}

interface SeededTicket {
  tenantId: string;
  ticketId: string;
}

async function seed(db: Database, total: number): Promise<SeededTicket[]> {
  const stamp = randomUUID().slice(0, 6);
  const seeded: SeededTicket[] = [];
  for (let t = 0; t < TENANTS; t += 1) {
    const { tenant } = await createTenant({ db, clock: systemClock }, { name: `Bench WiFi ${t}`, slug: `bench-wifi-${stamp}-${t}`, email: `bench-wifi-${stamp}-${t}@example.test`, mode: 'commission' });
    const share = Math.floor(total / TENANTS) + (t < total % TENANTS ? 1 : 0);
    const pkg = await createPackage({ db }, { tenantId: tenant.id, nameFr: '1 jour', nameEn: '1 day', priceXaf: 500, validityMinutes: 1_440 });
    for (let left = share; left > 0; left -= 10_000) await generateVouchers({ db }, { tenantId: tenant.id, packageId: pkg.id, count: Math.min(left, 10_000), length: 10 });
    await db.withTenant(tenant.id, async (tx) => {
      const [category] = await tx.insert(categories).values({ tenantId: tenant.id, nameFr: 'Forfait WiFi', nameEn: 'WiFi package', priceXaf: 500, wifiPackageId: pkg.id }).returning();
      const ticketIds = await insertContactsWithTickets(tx, {
        tenantId: tenant.id,
        tenantIndex: t,
        categoryId: category!.id,
        count: share,
        onBatch: async (batch) => {
          await tx.insert(paymentAttempts).values(
            batch.map((ticketId) => ({
              tenantId: tenant.id,
              ticketId,
              amountXaf: 500,
              payerMsisdn: '+237670000001',
              externalReference: randomUUID(),
              status: 'successful' as const,
              expiresAt: new Date(Date.now() + 300_000),
              completedAt: new Date(),
            })),
          );
        },
      });
      seeded.push(...ticketIds.map((ticketId) => ({ tenantId: tenant.id, ticketId })));
    });
  }
  shuffle(seeded);
  return seeded;
}

/** The bare UPDATE ... RETURNING by primary key, on a scratch table of the owner's, same pool size; run before and after the claims. */
async function measureBaseline(ownerUrl: string) {
  const pool = new pg.Pool({ connectionString: ownerUrl, max: POOL_SIZE });
  try {
    await pool.query('CREATE TABLE IF NOT EXISTS bench_claim_baseline (id integer PRIMARY KEY, claimed_by uuid, claimed_at timestamptz)');
    await pool.query('INSERT INTO bench_claim_baseline (id) SELECT generate_series(1, $1) ON CONFLICT DO NOTHING', [BASELINE_ROWS]);
    const update = async (i: number) => {
      const startMs = performance.now();
      const { rows } = await pool.query({
        name: 'bench-claim-baseline',
        text: 'UPDATE bench_claim_baseline SET claimed_by = $2, claimed_at = now() WHERE id = $1 RETURNING id',
        values: [(i % BASELINE_ROWS) + 1, randomUUID()],
      });
      if (rows.length !== 1) throw new Error('baseline update found no row');
      const endMs = performance.now();
      return { startMs, endMs, latencyMs: endMs - startMs };
    };
    await closedLoop(Array.from({ length: 1_000 }, (_, i) => i), CONCURRENCY, update);
    return await closedLoop(Array.from({ length: BASELINE_UPDATES }, (_, i) => i), CONCURRENCY, update);
  } finally {
    await pool.end();
  }
}

export async function runWifiClaimsBenchmark(): Promise<BenchmarkReport> {
  const scratch = await createScratchDatabase({ poolSize: POOL_SIZE });
  const { db } = scratch;
  try {
    if (!scratch.ownerUrl) console.warn('wifi-claims: on PGlite (one connection, no parallelism) and without the SQL baseline; set DATABASE_URL and DATABASE_OWNER_URL for figures that mean something.');
    if (STOCK_ORDER_INDEX) await createStockOrderIndex(scratch.ownerUrl);
    console.log(`wifi-claims: seeding ${WARMUP + CLAIMS} paid tickets and vouchers (${TENANTS} tenants) on ${scratch.server}...`);
    const seeded = await seed(db, WARMUP + CLAIMS);
    const claimedBy = new Map<string, string>();
    const claim = async ({ tenantId, ticketId }: SeededTicket) => {
      const startMs = performance.now();
      const voucher = await claimVoucherForTicket({ db, clock: systemClock }, { tenantId, ticketId });
      const endMs = performance.now();
      claimedBy.set(ticketId, voucher.voucherId);
      return { startMs, endMs, latencyMs: endMs - startMs };
    };
    const baselineBefore = scratch.ownerUrl ? await measureBaseline(scratch.ownerUrl) : undefined;

    console.log(`wifi-claims: ${WARMUP} warm-up claims, then ${CLAIMS} measured, ${CONCURRENCY} at once...`);
    await closedLoop(seeded.slice(0, WARMUP), CONCURRENCY, claim);
    const stopCounting = countSqlRoundTrips();
    let claims: Awaited<ReturnType<typeof closedLoop>>;
    let roundTrips: number;
    try {
      claims = await closedLoop(seeded.slice(WARMUP), CONCURRENCY, claim);
    } finally {
      roundTrips = stopCounting();
    }

    // Exactly once: one voucher per ticket, no voucher twice, in memory and in the database.
    const handedOut = [...claimedBy.values()];
    const duplicates = handedOut.length - new Set(handedOut).size;
    let soldRows = 0;
    let distinctTickets = 0;
    for (const tenantId of new Set(seeded.map((s) => s.tenantId))) {
      const [row] = await db.withTenant(tenantId, (tx) =>
        executeRows(tx, sql`select count(*) as sold, count(distinct ticket_id) as tickets from wifi_vouchers where tenant_id = ${tenantId} and status = 'sold'`),
      );
      soldRows += Number(row!.sold);
      distinctTickets += Number(row!.tickets);
    }
    if (claimedBy.size !== seeded.length || soldRows !== seeded.length || distinctTickets !== seeded.length || duplicates !== 0) {
      throw new Error(`inconsistent end state: ${claimedBy.size} claims for ${seeded.length} tickets, ${soldRows} vouchers sold to ${distinctTickets} tickets, ${duplicates} duplicates`);
    }
    const baselineAfter = scratch.ownerUrl ? await measureBaseline(scratch.ownerUrl) : undefined;
    const baselines = [baselineBefore, baselineAfter].filter((b) => b !== undefined);
    const baselinePerSecond = baselines.length > 0 ? baselines.reduce((sum, b) => sum + b.perSecond, 0) / baselines.length : Number.NaN;

    const figures: Record<string, number> = {
      claims_per_s: claims.perSecond,
      p50_ms: claims.p50Ms,
      p99_ms: claims.p99Ms,
      max_ms: claims.maxMs,
      duplicates,
      ...(db.driver === 'postgres' ? { sql_round_trips_per_claim: roundTrips / CLAIMS } : {}),
      ...(baselines.length > 0
        ? {
            baseline_updates_per_s: baselinePerSecond,
            baseline_p50_ms: baselines.reduce((sum, b) => sum + b.p50Ms, 0) / baselines.length,
            baseline_p99_ms: baselines.reduce((sum, b) => sum + b.p99Ms, 0) / baselines.length,
            ratio: claims.perSecond / baselinePerSecond,
          }
        : {}),
    };
    return {
      figures,
      targets: {
        claims_per_s: { target: TARGETS.claims_per_s, met: figures.claims_per_s! >= TARGETS.claims_per_s },
        duplicates: { target: TARGETS.duplicates, met: duplicates === TARGETS.duplicates },
      },
      machine: machine({ driver: db.driver, database: scratch.server, concurrency: CONCURRENCY, poolSize: POOL_SIZE, claims: CLAIMS, tenants: TENANTS, stockOrderIndex: STOCK_ORDER_INDEX }),
    };
  } finally {
    await scratch.drop();
  }
}

export async function run(): Promise<void> {
  publish('wifi-claims', await runWifiClaimsBenchmark());
}
