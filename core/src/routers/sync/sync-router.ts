import { and, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import { executeRows, mikrotikActiveSessions, mikrotikRouters, mikrotikSyncLogs, wifiPackages, wifiSessions, wifiVouchers, type Database, type Tx } from '@relais/db';
import { isAppError } from '../../shared/app-error.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { HotspotActiveSession, HotspotUser, RouterSession } from '../../shared/ports/router-client.js';
import { withRouterSession, type RouterConnectionDeps, type StoredRouter } from '../open-router-session.js';

/** Each router is synced this often when healthy. */
export const ROUTER_SYNC_INTERVAL_MS = 5 * 60_000;
/** Longer than any sync can take (every router command has its own timeout), short enough to recover from a crash. */
const SYNC_LEASE_MS = 3 * 60_000;
/** Circuit breaker: an unreachable router is retried after 5, 10, 20, 40 minutes, then hourly. */
const BACKOFF_BASE_MS = 5 * 60_000;
const BACKOFF_MAX_MS = 60 * 60_000;
/** Rows per multi-row statement: well under PostgreSQL's 65 535 parameters. */
const BATCH_ROWS = 500;

export function routerBackoffMs(consecutiveFailures: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, consecutiveFailures - 1), BACKOFF_MAX_MS);
}

export interface RouterSyncDeps extends RouterConnectionDeps {
  clock: Clock;
}

export interface RouterSyncResult {
  tenantId: string;
  routerId: string;
  routerName: string;
  /** skipped: another sync holds the router, or it is not due (circuit open) and not forced. */
  status: 'succeeded' | 'failed' | 'skipped';
  sessionsSeen: number;
  sessionsClosed: number;
  vouchersActivated: number;
  vouchersExpired: number;
  error?: { code: string; message: string };
}

type ActiveRow = typeof mikrotikActiveSessions.$inferSelect;
type EndReason = NonNullable<typeof wifiSessions.$inferInsert.endReason>;

interface KnownVoucher {
  id: string;
  username: string;
  status: (typeof wifiVouchers.$inferSelect)['status'];
  activatedAt: Date | null;
  expiresAt: Date | null;
  validityMinutes: number;
}

/**
 * One sync of one router: active sessions into mikrotik_active_sessions, ended ones closed into
 * wifi_sessions, vouchers activated on first use (expiry = activation + package validity) and,
 * once expired, removed from the router with their sessions and cookies — we enforce expiry
 * ourselves so router date formats never matter. At most one sync per router runs (a lease);
 * failures back off (circuit breaker) and are recorded, never thrown: one router's trouble is
 * its own. One mikrotik_sync_logs row per run that got the lease.
 */
export async function syncRouter(deps: RouterSyncDeps, options: { tenantId: string; routerId: string; force?: boolean }): Promise<RouterSyncResult> {
  const { tenantId, routerId } = options;
  const startedAt = deps.clock.now();
  const router = await takeLease(deps.db, tenantId, routerId, startedAt, options.force ?? false);
  const result: RouterSyncResult = { tenantId, routerId, routerName: router?.name ?? '', status: 'skipped', sessionsSeen: 0, sessionsClosed: 0, vouchersActivated: 0, vouchersExpired: 0 };
  if (!router) return result;

  const [log] = await deps.db.withTenant(tenantId, (tx) =>
    tx.insert(mikrotikSyncLogs).values({ tenantId, routerId, status: 'running', startedAt }).returning({ id: mikrotikSyncLogs.id }),
  );
  try {
    const outcome = await withRouterSession(deps, router, (session) => syncWithSession(deps, router, session));
    Object.assign(result, outcome.counts, { status: 'succeeded' });
    const finishedAt = deps.clock.now();
    await deps.db.withTenant(tenantId, async (tx) => {
      await tx
        .update(mikrotikRouters)
        .set({
          status: 'online',
          routerOsVersion: outcome.version,
          lastSyncAt: finishedAt,
          lastError: null,
          consecutiveFailures: 0,
          nextSyncAt: new Date(startedAt.getTime() + ROUTER_SYNC_INTERVAL_MS),
          syncLeaseUntil: null,
          updatedAt: finishedAt,
        })
        .where(routerKey(tenantId, routerId));
      await tx
        .update(mikrotikSyncLogs)
        .set({ status: 'succeeded', ...outcome.counts, finishedAt })
        .where(and(eq(mikrotikSyncLogs.tenantId, tenantId), eq(mikrotikSyncLogs.id, log!.id)));
    });
  } catch (error) {
    const failure = describeFailure(error);
    Object.assign(result, { status: 'failed', error: failure });
    const finishedAt = deps.clock.now();
    const failures = router.consecutiveFailures + 1;
    await deps.db.withTenant(tenantId, async (tx) => {
      await tx
        .update(mikrotikRouters)
        .set({
          status: failure.code === 'ROUTER_AUTH_FAILED' ? 'auth_failed' : failure.code === 'ROUTER_UNREACHABLE' ? 'unreachable' : router.status,
          lastError: failure.message,
          consecutiveFailures: failures,
          nextSyncAt: new Date(finishedAt.getTime() + routerBackoffMs(failures)),
          syncLeaseUntil: null,
          updatedAt: finishedAt,
        })
        .where(routerKey(tenantId, routerId));
      await tx
        .update(mikrotikSyncLogs)
        .set({ status: 'failed', error: `${failure.code}: ${failure.message}`, finishedAt })
        .where(and(eq(mikrotikSyncLogs.tenantId, tenantId), eq(mikrotikSyncLogs.id, log!.id)));
    });
  }
  return result;
}

function routerKey(tenantId: string, routerId: string) {
  return and(eq(mikrotikRouters.tenantId, tenantId), eq(mikrotikRouters.id, routerId));
}

function describeFailure(error: unknown): { code: string; message: string } {
  if (isAppError(error)) return { code: error.code, message: error.message };
  // Not a router answer we understood (a bug or a database problem): no internals in the log row.
  return { code: 'INTERNAL', message: error instanceof Error ? error.name : 'unexpected error' };
}

async function takeLease(db: Database, tenantId: string, routerId: string, now: Date, force: boolean): Promise<StoredRouter | undefined> {
  const [router] = await db.withTenant(tenantId, (tx) =>
    tx
      .update(mikrotikRouters)
      .set({ syncLeaseUntil: new Date(now.getTime() + SYNC_LEASE_MS) })
      .where(
        and(
          routerKey(tenantId, routerId),
          or(isNull(mikrotikRouters.syncLeaseUntil), lte(mikrotikRouters.syncLeaseUntil, now)),
          force ? undefined : or(isNull(mikrotikRouters.nextSyncAt), lte(mikrotikRouters.nextSyncAt, now)),
        ),
      )
      .returning(),
  );
  return router;
}

async function syncWithSession(deps: RouterSyncDeps, router: StoredRouter, session: RouterSession) {
  const { tenantId } = router;
  const identity = await session.identity();
  const sessions = await session.listActiveSessions();
  const users = await session.listHotspotUsers();
  const now = deps.clock.now();

  const names = [...new Set([...sessions.map((s) => s.user), ...users.map((u) => u.name)])];
  const vouchers = await deps.db.withTenant(tenantId, (tx) => knownVouchers(tx, tenantId, names));
  const activations = vouchersToActivate(vouchers, sessions, users, now);
  const activationById = new Map(activations.map((activation) => [activation.id, activation]));
  // A voucher first seen long after its first login may be expired on the spot.
  const expiring = vouchers.filter((voucher) => {
    const activation = activationById.get(voucher.id);
    const expiresAt = activation ? activation.expiresAt : voucher.status === 'active' || voucher.status === 'expired' ? voucher.expiresAt : null;
    return expiresAt !== null && expiresAt <= now;
  });

  // Router side first: a voucher is recorded expired only once the router no longer lets it in.
  const kickedEntryIds = new Set<string>();
  const expiredIds: string[] = [];
  for (const voucher of expiring) {
    for (const active of sessions.filter((s) => s.user === voucher.username)) {
      await session.removeActiveSession(active.id).catch(ignoreMissing);
      kickedEntryIds.add(active.id);
    }
    await session.removeCookiesOfUser(voucher.username);
    for (const user of users.filter((u) => u.name === voucher.username)) await session.removeHotspotUser(user.id).catch(ignoreMissing);
    expiredIds.push(voucher.id);
  }

  const stillActive = sessions.filter((s) => !kickedEntryIds.has(s.id));
  const voucherIdByName = new Map(vouchers.map((voucher) => [voucher.username, voucher.id]));
  const counts = await deps.db.withTenant(tenantId, async (tx) => {
    // Another router of the tenant may have seen the same first use in a concurrent sync: count what this one changed.
    const vouchersActivated = await activateVouchers(tx, tenantId, activations);
    if (expiredIds.length > 0) {
      await tx
        .update(wifiVouchers)
        .set({ status: 'expired' })
        .where(and(eq(wifiVouchers.tenantId, tenantId), inArray(wifiVouchers.id, expiredIds)));
    }
    const sessionCounts = await recordSessions(tx, router, stillActive, { kickedEntryIds, voucherIdByName, now });
    return { ...sessionCounts, vouchersActivated, vouchersExpired: expiring.filter((v) => v.status !== 'expired').length };
  });
  return { version: identity.version, counts };
}

/**
 * One statement for all first uses of this sync (up to thousands on a busy router's first sync):
 * the values travel as three text parameters split into arrays, which both drivers accept.
 */
async function activateVouchers(tx: Tx, tenantId: string, activations: { id: string; activatedAt: Date; expiresAt: Date }[]): Promise<number> {
  let activated = 0;
  for (let start = 0; start < activations.length; start += BATCH_ROWS * 10) {
    const batch = activations.slice(start, start + BATCH_ROWS * 10);
    const rows = await executeRows(
      tx,
      sql`UPDATE wifi_vouchers v
          SET status = 'active', activated_at = a.activated_at, expires_at = a.expires_at
          FROM unnest(
            string_to_array(${batch.map((a) => a.id).join(',')}, ',')::uuid[],
            string_to_array(${batch.map((a) => a.activatedAt.toISOString()).join(',')}, ',')::timestamptz[],
            string_to_array(${batch.map((a) => a.expiresAt.toISOString()).join(',')}, ',')::timestamptz[]
          ) AS a(id, activated_at, expires_at)
          WHERE v.tenant_id = ${tenantId} AND v.id = a.id AND v.status IN ('available', 'sold')
          RETURNING v.id`,
    );
    activated += rows.length;
  }
  return activated;
}

function ignoreMissing(error: unknown): void {
  // Gone already (the session ended, the user was removed by hand): the goal is reached.
  if (isAppError(error) && error.details?.reason === 'no_such_item') return;
  throw error;
}

async function knownVouchers(tx: Tx, tenantId: string, names: string[]): Promise<KnownVoucher[]> {
  if (names.length === 0) return [];
  return tx
    .select({
      id: wifiVouchers.id,
      username: wifiVouchers.username,
      status: wifiVouchers.status,
      activatedAt: wifiVouchers.activatedAt,
      expiresAt: wifiVouchers.expiresAt,
      validityMinutes: wifiPackages.validityMinutes,
    })
    .from(wifiVouchers)
    .innerJoin(wifiPackages, and(eq(wifiPackages.tenantId, wifiVouchers.tenantId), eq(wifiPackages.id, wifiVouchers.packageId)))
    .where(and(eq(wifiVouchers.tenantId, tenantId), inArray(wifiVouchers.username, names)));
}

/**
 * First use: a voucher seen in a session, or whose user has uptime, that we had not yet seen
 * used. Activation is dated `now - uptime`, never earlier than the real first login, so the
 * customer never loses time to our 5-minute polling.
 */
function vouchersToActivate(vouchers: KnownVoucher[], sessions: HotspotActiveSession[], users: HotspotUser[], now: Date) {
  const usedSeconds = new Map<string, number>();
  const use = (name: string, seconds: number) => usedSeconds.set(name, Math.max(usedSeconds.get(name) ?? 0, seconds));
  for (const active of sessions) use(active.user, active.uptimeSeconds);
  for (const user of users) if (user.uptimeSeconds > 0) use(user.name, user.uptimeSeconds);
  return vouchers
    .filter((voucher) => (voucher.status === 'available' || voucher.status === 'sold') && usedSeconds.has(voucher.username))
    .map((voucher) => {
      const activatedAt = new Date(now.getTime() - usedSeconds.get(voucher.username)! * 1000);
      return { id: voucher.id, activatedAt, expiresAt: new Date(activatedAt.getTime() + voucher.validityMinutes * 60_000) };
    });
}

/**
 * Upserts the sessions the router shows and closes the ones it no longer shows into
 * wifi_sessions. An entry id that comes back with another user or a smaller uptime is a new
 * session (RouterOS reuses ids after a reboot): the old one is closed first.
 */
async function recordSessions(
  tx: Tx,
  router: StoredRouter,
  seen: HotspotActiveSession[],
  context: { kickedEntryIds: Set<string>; voucherIdByName: Map<string, string>; now: Date },
): Promise<{ sessionsSeen: number; sessionsClosed: number }> {
  const { tenantId, id: routerId } = router;
  const { now } = context;
  const existing = await tx
    .select()
    .from(mikrotikActiveSessions)
    .where(and(eq(mikrotikActiveSessions.tenantId, tenantId), eq(mikrotikActiveSessions.routerId, routerId)));
  const existingByEntry = new Map(existing.map((row) => [row.routerEntryId, row]));
  const seenEntryIds = new Set(seen.map((s) => s.id));

  const ended: { row: ActiveRow; reason: EndReason }[] = [];
  for (const row of existing) {
    if (!seenEntryIds.has(row.routerEntryId)) ended.push({ row, reason: context.kickedEntryIds.has(row.routerEntryId) ? 'expired' : endReasonOf(row, now) });
  }
  for (const active of seen) {
    const row = existingByEntry.get(active.id);
    if (row && (row.username !== active.user || active.uptimeSeconds < row.uptimeSeconds)) ended.push({ row, reason: 'disappeared' });
  }

  for (let start = 0; start < ended.length; start += BATCH_ROWS) {
    const batch = ended.slice(start, start + BATCH_ROWS);
    await tx.insert(wifiSessions).values(
      batch.map(({ row, reason }) => ({
        tenantId,
        routerId,
        routerEntryId: row.routerEntryId,
        voucherId: context.voucherIdByName.get(row.username) ?? null,
        username: row.username,
        macAddress: row.macAddress,
        ipAddress: row.address,
        startedAt: new Date(row.lastSeenAt.getTime() - row.uptimeSeconds * 1000),
        endedAt: reason === 'expired' ? now : row.lastSeenAt,
        uptimeSeconds: row.uptimeSeconds,
        bytesIn: row.bytesIn,
        bytesOut: row.bytesOut,
        endReason: reason,
      })),
    );
    await tx.delete(mikrotikActiveSessions).where(
      and(
        eq(mikrotikActiveSessions.tenantId, tenantId),
        inArray(
          mikrotikActiveSessions.id,
          batch.map(({ row }) => row.id),
        ),
      ),
    );
  }

  for (let start = 0; start < seen.length; start += BATCH_ROWS) {
    const batch = seen.slice(start, start + BATCH_ROWS);
    await tx
      .insert(mikrotikActiveSessions)
      .values(
        batch.map((active) => ({
          tenantId,
          routerId,
          routerEntryId: active.id,
          username: active.user,
          address: active.address ?? null,
          macAddress: active.macAddress ?? null,
          uptimeSeconds: active.uptimeSeconds,
          sessionTimeLeftSeconds: active.sessionTimeLeftSeconds ?? null,
          bytesIn: active.bytesIn,
          bytesOut: active.bytesOut,
          firstSeenAt: now,
          lastSeenAt: now,
        })),
      )
      .onConflictDoUpdate({
        target: [mikrotikActiveSessions.tenantId, mikrotikActiveSessions.routerId, mikrotikActiveSessions.routerEntryId],
        set: {
          username: sql`excluded.username`,
          address: sql`excluded.address`,
          macAddress: sql`excluded.mac_address`,
          uptimeSeconds: sql`excluded.uptime_seconds`,
          sessionTimeLeftSeconds: sql`excluded.session_time_left_seconds`,
          bytesIn: sql`excluded.bytes_in`,
          bytesOut: sql`excluded.bytes_out`,
          lastSeenAt: sql`excluded.last_seen_at`,
        },
      });
  }
  return { sessionsSeen: seen.length, sessionsClosed: ended.length };
}

/** A session that vanished with its time used up ended by its limit; otherwise we cannot tell why. */
function endReasonOf(row: ActiveRow, now: Date): EndReason {
  const secondsSinceSeen = (now.getTime() - row.lastSeenAt.getTime()) / 1000;
  return row.sessionTimeLeftSeconds !== null && row.sessionTimeLeftSeconds <= secondsSinceSeen ? 'expired' : 'disappeared';
}
