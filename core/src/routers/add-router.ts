import { and, eq } from 'drizzle-orm';
import { mikrotikRouters, type Database } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import type { SecretBox } from '../shared/secret-box.js';
import { addRouterInput, ROUTEROS_API_PORT, ROUTEROS_API_TLS_PORT, type AddRouterInput } from './router-input.js';

export interface RouterSummary {
  id: string;
  name: string;
  host: string;
  port: number;
  tls: boolean;
  username: string;
  dnsName: string | null;
  hotspotServer: string | null;
  status: 'unknown' | 'online' | 'unreachable' | 'auth_failed';
  routerOsVersion: string | null;
  lastSyncAt: Date | null;
  lastError: string | null;
}

export const routerSummaryColumns = {
  id: mikrotikRouters.id,
  name: mikrotikRouters.name,
  host: mikrotikRouters.host,
  port: mikrotikRouters.port,
  tls: mikrotikRouters.useTls,
  username: mikrotikRouters.username,
  dnsName: mikrotikRouters.dnsName,
  hotspotServer: mikrotikRouters.hotspotServer,
  status: mikrotikRouters.status,
  routerOsVersion: mikrotikRouters.routerOsVersion,
  lastSyncAt: mikrotikRouters.lastSyncAt,
  lastError: mikrotikRouters.lastError,
};

/**
 * Registers a reseller's MikroTik router. The API password is sealed with APP_KEY, bound to the
 * tenant, before it reaches the database; names are unique per tenant (the CLI refers to them).
 */
export async function addRouter(deps: { db: Database; secrets: SecretBox }, options: AddRouterInput): Promise<RouterSummary> {
  const input = parseInput(addRouterInput, options);
  const passwordEnc = deps.secrets.seal(input.password, input.tenantId);
  return deps.db.withTenant(input.tenantId, async (tx) => {
    const [clash] = await tx
      .select({ id: mikrotikRouters.id })
      .from(mikrotikRouters)
      .where(and(eq(mikrotikRouters.tenantId, input.tenantId), eq(mikrotikRouters.name, input.name)));
    if (clash) throw new AppError('CONFLICT', `a router named "${input.name}" already exists`, { details: { field: 'name' } });
    const [router] = await tx
      .insert(mikrotikRouters)
      .values({
        tenantId: input.tenantId,
        name: input.name,
        host: input.host,
        port: input.port ?? (input.tls ? ROUTEROS_API_TLS_PORT : ROUTEROS_API_PORT),
        useTls: input.tls,
        username: input.username,
        passwordEnc,
        dnsName: input.dnsName || null,
        hotspotServer: input.hotspotServer || null,
      })
      .returning(routerSummaryColumns);
    return router!;
  });
}
