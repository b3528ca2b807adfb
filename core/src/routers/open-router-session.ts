import { and, eq } from 'drizzle-orm';
import { mikrotikRouters, type Database } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import type { RouterClient, RouterSession } from '../shared/ports/router-client.js';
import type { SecretBox } from '../shared/secret-box.js';

/** Connect and per-command limit: a router that hangs must not hold a sync for long. */
export const ROUTER_TIMEOUT_MS = 10_000;

export interface RouterConnectionDeps {
  db: Database;
  secrets: SecretBox;
  routerClient: RouterClient;
  /** Overrides ROUTER_TIMEOUT_MS (tests of hanging routers). */
  routerTimeoutMs?: number;
}

export type StoredRouter = typeof mikrotikRouters.$inferSelect;

export async function loadRouter(db: Database, tenantId: string, routerId: string): Promise<StoredRouter> {
  const [router] = await db.withTenant(tenantId, (tx) =>
    tx
      .select()
      .from(mikrotikRouters)
      .where(and(eq(mikrotikRouters.tenantId, tenantId), eq(mikrotikRouters.id, routerId))),
  );
  if (!router) throw new AppError('NOT_FOUND', 'no such router');
  return router;
}

/** Logs in to a stored router with its decrypted password (which goes no further than the client). */
export async function openRouterSession(
  deps: Omit<RouterConnectionDeps, 'db'>,
  router: StoredRouter,
): Promise<RouterSession> {
  return deps.routerClient.connect({
    host: router.host,
    port: router.port,
    tls: router.useTls,
    username: router.username,
    password: deps.secrets.open(router.passwordEnc, router.tenantId),
    timeoutMs: deps.routerTimeoutMs ?? ROUTER_TIMEOUT_MS,
  });
}

/** Runs `work` on a logged-in session and always closes it. */
export async function withRouterSession<T>(
  deps: Omit<RouterConnectionDeps, 'db'>,
  router: StoredRouter,
  work: (session: RouterSession) => Promise<T>,
): Promise<T> {
  const session = await openRouterSession(deps, router);
  try {
    return await work(session);
  } finally {
    await session.close().catch(() => {});
  }
}
