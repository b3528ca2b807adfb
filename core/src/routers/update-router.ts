import { and, eq, ne } from 'drizzle-orm';
import { mikrotikRouters, type Database } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import type { SecretBox } from '../shared/secret-box.js';
import { routerSummaryColumns, type RouterSummary } from './add-router.js';
import { updateRouterInput, type UpdateRouterInput } from './router-input.js';

/** Changes a router's connection details; a changed address or credential resets its health. */
export async function updateRouter(deps: { db: Database; secrets: SecretBox }, options: UpdateRouterInput): Promise<RouterSummary> {
  const input = parseInput(updateRouterInput, options);
  return deps.db.withTenant(input.tenantId, async (tx) => {
    const where = and(eq(mikrotikRouters.tenantId, input.tenantId), eq(mikrotikRouters.id, input.routerId));
    if (input.name !== undefined) {
      const [clash] = await tx
        .select({ id: mikrotikRouters.id })
        .from(mikrotikRouters)
        .where(and(eq(mikrotikRouters.tenantId, input.tenantId), eq(mikrotikRouters.name, input.name), ne(mikrotikRouters.id, input.routerId)));
      if (clash) throw new AppError('CONFLICT', `a router named "${input.name}" already exists`, { details: { field: 'name' } });
    }
    const connectionChanged = [input.host, input.port, input.tls, input.username, input.password].some((value) => value !== undefined);
    const [router] = await tx
      .update(mikrotikRouters)
      .set({
        name: input.name,
        host: input.host,
        port: input.port,
        useTls: input.tls,
        username: input.username,
        passwordEnc: input.password === undefined ? undefined : deps.secrets.seal(input.password, input.tenantId),
        dnsName: input.dnsName === undefined ? undefined : input.dnsName || null,
        hotspotServer: input.hotspotServer === undefined ? undefined : input.hotspotServer || null,
        // New details deserve a sync now, not after the old address's backoff.
        ...(connectionChanged ? { status: 'unknown' as const, consecutiveFailures: 0, nextSyncAt: null, lastError: null } : {}),
        updatedAt: new Date(),
      })
      .where(where)
      .returning(routerSummaryColumns);
    if (!router) throw new AppError('NOT_FOUND', 'no such router');
    return router;
  });
}
