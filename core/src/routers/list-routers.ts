import { and, asc, eq } from 'drizzle-orm';
import { mikrotikRouters, type Database } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { routerSummaryColumns, type RouterSummary } from './add-router.js';

export async function listRouters(deps: { db: Database }, options: { tenantId: string }): Promise<RouterSummary[]> {
  return deps.db.withTenant(options.tenantId, (tx) =>
    tx.select(routerSummaryColumns).from(mikrotikRouters).where(eq(mikrotikRouters.tenantId, options.tenantId)).orderBy(asc(mikrotikRouters.name)),
  );
}

/** A router by its name within the tenant (how the CLI names routers). */
export async function findRouterByName(deps: { db: Database }, options: { tenantId: string; name: string }): Promise<RouterSummary> {
  const [router] = await deps.db.withTenant(options.tenantId, (tx) =>
    tx
      .select(routerSummaryColumns)
      .from(mikrotikRouters)
      .where(and(eq(mikrotikRouters.tenantId, options.tenantId), eq(mikrotikRouters.name, options.name))),
  );
  if (!router) throw new AppError('NOT_FOUND', `no router named "${options.name}" (see the tenant's routers)`);
  return router;
}
