import { and, asc, eq, isNull, lte, ne, or } from 'drizzle-orm';
import { mikrotikRouters, tenants, type Database } from '@relais/db';
import { syncRouter, type RouterSyncDeps, type RouterSyncResult } from './sync-router.js';

/** Routers synced at once: each waits on the network, not on our CPU. */
const DEFAULT_CONCURRENCY = 8;

export interface SyncRoutersOptions {
  /** Only this tenant's routers. */
  tenantId?: string;
  /** Sync routers that are not due yet, circuit open included (an operator asked for it). */
  force?: boolean;
  concurrency?: number;
  /** Called as each router finishes (progress on the CLI). */
  onResult?: (result: RouterSyncResult) => void;
}

/**
 * Syncs every due router of every active tenant (or all of them with `force`), several at a
 * time: a router that hangs or fails holds only its own slot until its timeouts fire, never
 * the others. Results come back in the order routers finished.
 */
export async function syncRouters(deps: RouterSyncDeps, options: SyncRoutersOptions = {}): Promise<RouterSyncResult[]> {
  const routers = await dueRouters(deps.db, deps.clock.now(), options);
  const results: RouterSyncResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < routers.length) {
      const router = routers[next++]!;
      const result = await syncRouter(deps, { ...router, force: options.force });
      results.push(result);
      options.onResult?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, routers.length) }, worker));
  return results;
}

async function dueRouters(db: Database, now: Date, options: SyncRoutersOptions): Promise<{ tenantId: string; routerId: string }[]> {
  const tenantIds = await db.withPlatform((tx) =>
    tx
      .select({ id: tenants.id })
      .from(tenants)
      .where(and(ne(tenants.status, 'closed'), options.tenantId ? eq(tenants.id, options.tenantId) : undefined))
      .orderBy(asc(tenants.createdAt)),
  );
  const due: { tenantId: string; routerId: string }[] = [];
  for (const { id: tenantId } of tenantIds) {
    const rows = await db.withTenant(tenantId, (tx) =>
      tx
        .select({ id: mikrotikRouters.id })
        .from(mikrotikRouters)
        .where(
          and(
            eq(mikrotikRouters.tenantId, tenantId),
            options.force ? undefined : or(isNull(mikrotikRouters.nextSyncAt), lte(mikrotikRouters.nextSyncAt, now)),
          ),
        )
        .orderBy(asc(mikrotikRouters.nextSyncAt)),
    );
    for (const row of rows) due.push({ tenantId, routerId: row.id });
  }
  return due;
}
