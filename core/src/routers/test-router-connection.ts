import { and, eq } from 'drizzle-orm';
import { mikrotikRouters } from '@relais/db';
import { isAppError } from '../shared/app-error.js';
import type { BilingualText } from '../shared/bilingual-text.js';
import type { Clock } from '../shared/ports/clock.js';
import type { HotspotServer, HotspotUserProfile } from '../shared/ports/router-client.js';
import { loadRouter, withRouterSession, type RouterConnectionDeps } from './open-router-session.js';
import { routerProblemText } from './router-messages.js';

export type RouterConnectionTest =
  | {
      ok: true;
      identity: string;
      version: string;
      hotspotServers: HotspotServer[];
      profiles: HotspotUserProfile[];
      /** Things worth fixing that do not stop the router from working. */
      warnings: BilingualText[];
    }
  | { ok: false; code: string; problem: BilingualText };

/**
 * "Test connection": logs in, reads identity, hotspot servers and user profiles, and records the
 * router's status so the admin list shows it. Never throws for a router-side problem: the result
 * says what is wrong in the reseller's language.
 */
export async function testRouterConnection(
  deps: RouterConnectionDeps & { clock: Clock },
  options: { tenantId: string; routerId: string },
): Promise<RouterConnectionTest> {
  const router = await loadRouter(deps.db, options.tenantId, options.routerId);
  const record = (values: Partial<typeof mikrotikRouters.$inferInsert>) =>
    deps.db.withTenant(options.tenantId, (tx) =>
      tx
        .update(mikrotikRouters)
        .set({ ...values, updatedAt: deps.clock.now() })
        .where(and(eq(mikrotikRouters.tenantId, options.tenantId), eq(mikrotikRouters.id, options.routerId))),
    );
  try {
    const found = await withRouterSession(deps, router, async (session) => ({
      identity: await session.identity(),
      hotspotServers: await session.listHotspotServers(),
      profiles: await session.listUserProfiles(),
    }));
    const warnings: BilingualText[] = [];
    if (found.hotspotServers.length === 0) {
      warnings.push({ fr: "Aucun serveur hotspot n'est configuré sur ce routeur.", en: 'No hotspot server is set up on this router.' });
    }
    if (router.hotspotServer && !found.hotspotServers.some((server) => server.name === router.hotspotServer)) {
      warnings.push({
        fr: `Le serveur hotspot « ${router.hotspotServer} » n'existe pas sur ce routeur.`,
        en: `The hotspot server "${router.hotspotServer}" does not exist on this router.`,
      });
    }
    if (!router.dnsName && !found.hotspotServers.some((server) => server.dnsName)) {
      warnings.push({
        fr: 'Pas de nom DNS hotspot : les QR codes contiendront seulement le code, sans lien de connexion.',
        en: 'No hotspot DNS name: QR codes will hold the code only, without a login link.',
      });
    }
    await record({ status: 'online', routerOsVersion: found.identity.version, lastError: null });
    return { ok: true, identity: found.identity.name, version: found.identity.version, hotspotServers: found.hotspotServers, profiles: found.profiles, warnings };
  } catch (error) {
    if (!isAppError(error) || !error.code.startsWith('ROUTER_')) throw error;
    await record({ status: error.code === 'ROUTER_AUTH_FAILED' ? 'auth_failed' : 'unreachable', lastError: error.message });
    return { ok: false, code: error.code, problem: routerProblemText(error) };
  }
}
