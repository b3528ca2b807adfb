import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { gatewayApps, type Database } from '@relais/db';
import type { SecretBox } from '../shared/secret-box.js';
import { createCampayClient, type CampayCredentials } from './campay/campay-client.js';
import { PLATFORM_GATEWAY_APP_ID, type GatewayApp, type GatewayDirectory } from './gateway-directory.js';

export interface PlatformCampayApp {
  baseUrl: string;
  credentials: CampayCredentials;
  webhookKey: string;
}

const sealedCredentials = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('token'), token: z.string().min(1) }),
  z.object({ kind: z.literal('login'), username: z.string().min(1), password: z.string().min(1) }),
]);

/**
 * Gateway clients by app id: the platform's CamPay app from configuration, resellers' own apps
 * from `gateway_apps` (secrets sealed with the owning tenant's id). One client per app for the
 * life of the process, so its token cache is shared by every caller.
 */
export function createGatewayDirectory(deps: { db: Database; secrets: SecretBox; platform?: PlatformCampayApp; timeoutMs?: number }): GatewayDirectory {
  const cache = new Map<string, Promise<GatewayApp | undefined>>();

  const load = async (appId: string): Promise<GatewayApp | undefined> => {
    if (appId === PLATFORM_GATEWAY_APP_ID) {
      if (!deps.platform) return undefined;
      const { baseUrl, credentials, webhookKey } = deps.platform;
      return { id: appId, webhookKey, gateway: createCampayClient({ baseUrl, credentials, timeoutMs: deps.timeoutMs }) };
    }
    const [row] = await deps.db.withPlatform((tx) => tx.select().from(gatewayApps).where(eq(gatewayApps.id, appId)));
    if (!row) return undefined;
    const owner = row.tenantId ?? PLATFORM_GATEWAY_APP_ID;
    const credentials = sealedCredentials.parse(JSON.parse(deps.secrets.open(row.credentialsEnc, owner)));
    return {
      id: row.id,
      webhookKey: deps.secrets.open(row.webhookKeyEnc, owner),
      gateway: createCampayClient({ baseUrl: row.baseUrl, credentials, timeoutMs: deps.timeoutMs }),
    };
  };

  return {
    get(appId) {
      let app = cache.get(appId);
      if (!app) {
        app = load(appId);
        cache.set(appId, app);
        // Unknown apps and load failures are not cached: the row may be added or fixed later.
        app.then((found) => found ?? cache.delete(appId), () => cache.delete(appId));
      }
      return app;
    },
  };
}
