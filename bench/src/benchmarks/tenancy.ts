/**
 * What row-level security costs: a primary-key read of a tenant table inside withTenant()
 * (transaction + set_config + RLS policy) against the baseline of a bare platform transaction
 * reading a central table by primary key, same driver, same run.
 */
import { and, eq } from 'drizzle-orm';
import { contacts, openDatabase, plans, tenants, type DatabaseConfig } from '@relais/db';
import { machine, measure, publish } from '../report.js';

const TENANTS = 20;
const CONTACTS_PER_TENANT = 2_000;
const ITERATIONS = 4_000;
const CONCURRENCY = 8;

export async function run(): Promise<void> {
  const config: DatabaseConfig = process.env.DATABASE_URL
    ? { driver: 'postgres', url: process.env.DATABASE_URL, ownerUrl: process.env.DATABASE_OWNER_URL }
    : { driver: 'pglite', dataDir: 'memory://' };
  const db = await openDatabase(config, { migrate: Boolean(process.env.DATABASE_OWNER_URL) });
  try {
    const stamp = Date.now().toString(36);
    const seeded: { tenantId: string; contactIds: string[] }[] = [];
    for (let t = 0; t < TENANTS; t += 1) {
      const [tenant] = await db.withPlatform((tx) =>
        tx.insert(tenants).values({ slug: `bench-${stamp}-${t}`, name: `Bench ${t}`, email: `bench-${stamp}-${t}@example.test`, billingMode: 'commission' }).returning(),
      );
      const rows = await db.withTenant(tenant!.id, (tx) =>
        tx.insert(contacts).values(Array.from({ length: CONTACTS_PER_TENANT }, (_, i) => ({ tenantId: tenant!.id, phoneE164: `+2376${String(t).padStart(2, '0')}${String(i).padStart(6, '0')}` }))).returning({ id: contacts.id }),
      );
      seeded.push({ tenantId: tenant!.id, contactIds: rows.map((r) => r.id) });
    }
    const pick = () => {
      const tenant = seeded[Math.floor(Math.random() * seeded.length)]!;
      return { tenantId: tenant.tenantId, contactId: tenant.contactIds[Math.floor(Math.random() * tenant.contactIds.length)]! };
    };

    // Warm up both paths (connections, plans, JIT).
    for (let i = 0; i < 200; i += 1) {
      const { tenantId, contactId } = pick();
      await db.withTenant(tenantId, (tx) => tx.select().from(contacts).where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, contactId))));
      await db.withPlatform((tx) => tx.select().from(plans).where(eq(plans.id, 'starter')));
    }
    const baseline = await measure(() => db.withPlatform((tx) => tx.select().from(plans).where(eq(plans.id, 'starter'))), ITERATIONS, CONCURRENCY);
    const tenant = await measure(() => {
      const { tenantId, contactId } = pick();
      return db.withTenant(tenantId, async (tx) => {
        const [row] = await tx.select().from(contacts).where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, contactId)));
        if (!row) throw new Error('row-level security hid a row of the tenant itself');
      });
    }, ITERATIONS, CONCURRENCY);

    publish('tenancy', {
      figures: {
        baseline_platform_tx_ops_per_s: baseline.opsPerSecond,
        baseline_platform_tx_p50_ms: baseline.p50Ms,
        baseline_platform_tx_p95_ms: baseline.p95Ms,
        tenant_tx_ops_per_s: tenant.opsPerSecond,
        tenant_tx_p50_ms: tenant.p50Ms,
        tenant_tx_p95_ms: tenant.p95Ms,
        tenant_to_baseline_throughput_ratio: tenant.opsPerSecond / baseline.opsPerSecond,
      },
      targets: {},
      machine: machine({ driver: db.driver, tenants: TENANTS, rowsPerTenant: CONTACTS_PER_TENANT, iterations: ITERATIONS, concurrency: CONCURRENCY }),
    });
  } finally {
    await db.close();
  }
}
