import {
  addRouter,
  createPackage,
  createTenant,
  findTenantBySlug,
  generateVouchers,
  isAppError,
  listPackages,
  listRouters,
  updateRouter,
  type Clock,
  type SecretBox,
  type TenantRef,
} from '@relais/core';
import type { Database } from '@relais/db';
import type { DemoRouterAccess } from './start-demo-mode.js';

const DEMO_ROUTER_NAME = 'Routeur démo';
/** Vouchers kept in stock per package: topped up at each start, so the demo never runs dry. */
const DEMO_STOCK = 20;

const DEMO_PACKAGES = [
  { nameFr: '1 heure', nameEn: '1 hour', priceXaf: 100, validityMinutes: 60, timeLimitSeconds: 3_600, mikrotikProfile: '1-heure' },
  { nameFr: '1 jour', nameEn: '1 day', priceXaf: 500, validityMinutes: 24 * 60, mikrotikProfile: '1-jour' },
] as const;

export interface SeededDemo {
  tenant: TenantRef;
  /** Whether this start created the tenant (false: found from an earlier start). */
  created: boolean;
  vouchersGenerated: number;
}

async function findOrCreateDemoTenant(deps: { db: Database; clock: Clock }, slug: string): Promise<{ tenant: TenantRef; created: boolean }> {
  try {
    return { tenant: await findTenantBySlug(deps, slug), created: false };
  } catch (error) {
    if (!isAppError(error) || error.code !== 'NOT_FOUND') throw error;
  }
  await createTenant(deps, { name: 'Relais Démo', email: `${slug}@relais-demo.example`, slug, mode: 'commission', locale: 'fr' });
  return { tenant: await findTenantBySlug(deps, slug), created: true };
}

/**
 * Makes sure the demo tenant exists with its router, two packages and vouchers in stock, through
 * the same use cases the CLI uses. Every step looks before it creates, so restarts (or a start
 * that died half-way) never duplicate anything; the router row follows the simulator, which
 * listens on a new port with a new password at each start.
 */
export async function seedDemoTenant(
  deps: { db: Database; clock: Clock; secrets: SecretBox },
  options: { slug: string; router: DemoRouterAccess },
): Promise<SeededDemo> {
  const { tenant, created } = await findOrCreateDemoTenant(deps, options.slug);
  const tenantId = tenant.id;
  const access = { host: options.router.host, port: options.router.port, username: options.router.username, password: options.router.password, hotspotServer: options.router.hotspotServer };

  const existingRouter = (await listRouters(deps, { tenantId })).find((router) => router.name === DEMO_ROUTER_NAME);
  const router = existingRouter
    ? await updateRouter(deps, { tenantId, routerId: existingRouter.id, ...access, dnsName: null })
    : await addRouter(deps, { tenantId, name: DEMO_ROUTER_NAME, ...access });

  let packages = await listPackages(deps, { tenantId });
  for (const spec of DEMO_PACKAGES) {
    if (!packages.some((pkg) => pkg.name.fr === spec.nameFr)) await createPackage(deps, { tenantId, ...spec, routerIds: [router.id] });
  }
  packages = await listPackages(deps, { tenantId });

  let vouchersGenerated = 0;
  for (const spec of DEMO_PACKAGES) {
    const pkg = packages.find((candidate) => candidate.name.fr === spec.nameFr)!;
    const missing = DEMO_STOCK - pkg.stock.available;
    if (missing <= 0) continue;
    // Stored for the router; the outbox asks the jobs to push them to the simulated router.
    await generateVouchers(deps, { tenantId, packageId: pkg.id, count: missing, comment: 'demo' });
    vouchersGenerated += missing;
  }
  return { tenant, created, vouchersGenerated };
}
