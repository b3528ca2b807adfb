import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  addRouter,
  createRouterOsClient,
  createSecretBox,
  createTenant,
  getVoucherUsage,
  routerProblemText,
  syncRouter,
  syncRouters,
  testRouterConnection,
  updateRouter,
  type RouterSyncDeps,
} from '@relais/core';
import { mikrotikActiveSessions, mikrotikRouters, mikrotikSyncLogs, wifiSessions, wifiVouchers } from '@relais/db';
import { startRouterOsSimulator, type RouterOsSimulator, type RouterOsSimulatorOptions } from '@relais/sim';
import { steppedClock } from '../support/stepped-clock.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { insertWifiPackage } from '../support/wifi-fixtures.js';

// Real adapter (node-routeros) over TCP to the RouterOS simulator, real database (PostgreSQL when
// configured). The simulator's clock is manual and moved in step with ours.

const API_PASSWORD = 'sync-test-Pässword';
const MINUTE_MS = 60_000;

let test: TestDatabase;
let tenantId: string;
let packageId: string;
const clock = steppedClock();
const secrets = createSecretBox(randomBytes(32));
const sims: RouterOsSimulator[] = [];

function deps(): RouterSyncDeps {
  // Short timeouts: the hanging router must give up quickly in tests.
  return { db: test.db, secrets, routerClient: createRouterOsClient(), clock, routerTimeoutMs: 1_500 };
}

async function simulator(options: RouterOsSimulatorOptions = {}): Promise<RouterOsSimulator> {
  const sim = await startRouterOsSimulator({ clock: 'manual', username: 'relais', password: API_PASSWORD, ...options });
  sims.push(sim);
  return sim;
}

async function routerFor(sim: RouterOsSimulator, name: string, password = API_PASSWORD): Promise<string> {
  const router = await addRouter(deps(), { tenantId, name, host: sim.host, port: sim.port, username: 'relais', password });
  return router.id;
}

async function insertVouchers(usernames: string[], status: 'available' | 'sold' = 'sold'): Promise<void> {
  await test.db.withTenant(tenantId, (tx) =>
    tx.insert(wifiVouchers).values(usernames.map((username) => ({ tenantId, packageId, username, password: username, status, source: 'import' as const }))),
  );
}

async function voucher(username: string) {
  return test.db.withTenant(tenantId, async (tx) => (await tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.username, username))))[0]!);
}

async function rowsOf<T>(read: (tx: Parameters<Parameters<TestDatabase['db']['withTenant']>[1]>[0]) => Promise<T>): Promise<T> {
  return test.db.withTenant(tenantId, read);
}

/** Time passes on the routers and for us alike. */
function advance(ms: number): void {
  clock.advance(ms);
  for (const sim of sims) sim.advanceTime(ms);
}

beforeAll(async () => {
  test = await createTestDatabase();
});

// A tenant per test: routers of one test are never due in another.
let tenantCount = 0;
beforeEach(async () => {
  tenantCount += 1;
  const created = await createTenant({ db: test.db, clock }, { name: `Wifi Zone Sync ${tenantCount}`, email: `sync${tenantCount}@example.cm` });
  tenantId = created.tenant.id;
  packageId = (await insertWifiPackage(test.db, tenantId, { validityMinutes: 60 })).id;
});

afterEach(async () => {
  while (sims.length > 0) await sims.pop()!.close();
});

afterAll(async () => {
  await test.drop();
});

describe('router sync', () => {
  it('records active sessions, activates vouchers on first use, closes ended sessions and enforces expiry', async () => {
    const sim = await simulator();
    const routerId = await routerFor(sim, 'akwa');
    await insertVouchers(['akwa-1', 'akwa-2', 'akwa-3']);
    for (const name of ['akwa-1', 'akwa-2', 'akwa-3']) sim.addUser({ name, password: name, profile: 'default' });
    sim.login('akwa-1', { macAddress: 'AA:00:00:00:00:01', startedSecondsAgo: 120 });
    sim.login('akwa-2', { macAddress: 'AA:00:00:00:00:02' });

    const first = await syncRouter(deps(), { tenantId, routerId });
    expect(first).toMatchObject({ status: 'succeeded', sessionsSeen: 2, sessionsClosed: 0, vouchersActivated: 2, vouchersExpired: 0 });
    const activated = await voucher('akwa-1');
    expect(activated.status).toBe('active');
    // Dated back to the first login (2 minutes of uptime), expiring one validity (60 min) later.
    expect(Math.abs(activated.activatedAt!.getTime() - (clock.now().getTime() - 120_000))).toBeLessThan(5_000);
    expect(activated.expiresAt!.getTime() - activated.activatedAt!.getTime()).toBe(60 * MINUTE_MS);
    expect((await voucher('akwa-3')).status).toBe('sold');
    expect(await rowsOf((tx) => tx.select().from(mikrotikActiveSessions))).toHaveLength(2);

    // akwa-2 logs out; 10 minutes later the next sync closes its session with its traffic.
    advance(10 * MINUTE_MS);
    expect(sim.endSessions({ user: 'akwa-2' })).toBe(1);
    const second = await syncRouter(deps(), { tenantId, routerId, force: true });
    expect(second).toMatchObject({ status: 'succeeded', sessionsSeen: 1, sessionsClosed: 1 });
    const [closed] = await rowsOf((tx) => tx.select().from(wifiSessions).where(eq(wifiSessions.username, 'akwa-2')));
    expect(closed).toMatchObject({ endReason: 'disappeared', macAddress: 'AA:00:00:00:00:02', voucherId: (await voucher('akwa-2')).id });
    const [stillOn] = await rowsOf((tx) => tx.select().from(mikrotikActiveSessions));
    expect(stillOn!.username).toBe('akwa-1');
    expect(stillOn!.uptimeSeconds).toBeGreaterThanOrEqual(12 * 60);
    expect(stillOn!.bytesIn + stillOn!.bytesOut).toBeGreaterThan(0);

    const usage = await getVoucherUsage({ db: test.db, clock }, { tenantId, code: 'akwa-1' });
    expect(usage.onlineNow).toHaveLength(1);
    expect(usage.timeLeftSeconds).toBeGreaterThan(40 * 60);
    expect(usage.timeLeftSeconds).toBeLessThanOrEqual(48 * 60);
    expect(usage.dataUsedBytes).toBe(stillOn!.bytesIn + stillOn!.bytesOut);
    const afterLogout = await getVoucherUsage({ db: test.db, clock }, { tenantId, code: 'akwa-2' });
    expect(afterLogout.onlineNow).toEqual([]);
    expect(afterLogout.recentDisconnections).toHaveLength(1);

    // Past akwa-1's expiry: kicked, cookie removed, user removed from the router, voucher expired.
    advance(60 * MINUTE_MS);
    const third = await syncRouter(deps(), { tenantId, routerId, force: true });
    expect(third).toMatchObject({ status: 'succeeded', sessionsSeen: 0, vouchersExpired: 2 });
    expect((await voucher('akwa-1')).status).toBe('expired');
    expect((await voucher('akwa-2')).status).toBe('expired');
    expect(sim.findUser('akwa-1')).toBeUndefined();
    expect(sim.cookies().filter((cookie) => cookie.user === 'akwa-1')).toEqual([]);
    expect(sim.deviceReturns('AA:00:00:00:00:01')).toBeUndefined();
    expect(sim.findUser('akwa-3')).toBeDefined(); // never used: untouched
    const [expiredSession] = await rowsOf((tx) => tx.select().from(wifiSessions).where(eq(wifiSessions.username, 'akwa-1')));
    expect(expiredSession!.endReason).toBe('expired');
    expect((await getVoucherUsage({ db: test.db, clock }, { tenantId, code: 'akwa-1' })).timeLeftSeconds).toBe(0);

    const logs = await rowsOf((tx) => tx.select().from(mikrotikSyncLogs).where(eq(mikrotikSyncLogs.routerId, routerId)));
    expect(logs.map((log) => log.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('a hanging router and one with a wrong password fail alone while a RouterOS 7.18 router with no sessions syncs', async () => {
    const healthy = await simulator({ version: '7.18.2' });
    const hanging = await simulator();
    const locked = await simulator();
    const healthyId = await routerFor(healthy, 'healthy');
    const hangingId = await routerFor(hanging, 'hanging');
    const lockedId = await routerFor(locked, 'locked', 'not-the-password');
    await hanging.setFaults({ hang: true });

    const finished: string[] = [];
    const results = await syncRouters(deps(), { tenantId, onResult: (result) => finished.push(result.routerName) });
    const byName = Object.fromEntries(results.map((result) => [result.routerName, result]));
    // RouterOS 7.18 answers the empty prints with !empty: no crash, nothing recorded.
    expect(byName.healthy).toMatchObject({ status: 'succeeded', sessionsSeen: 0 });
    expect(byName.hanging).toMatchObject({ status: 'failed', error: { code: 'ROUTER_UNREACHABLE' } });
    expect(byName.locked).toMatchObject({ status: 'failed', error: { code: 'ROUTER_AUTH_FAILED' } });
    // The healthy router did not wait for the hanging one's timeout.
    expect(finished.indexOf('healthy')).toBeLessThan(finished.indexOf('hanging'));
    expect(JSON.stringify(results)).not.toContain('not-the-password');

    const routers = await rowsOf((tx) => tx.select().from(mikrotikRouters));
    const row = (id: string) => routers.find((router) => router.id === id)!;
    expect(row(healthyId)).toMatchObject({ status: 'online', consecutiveFailures: 0, routerOsVersion: '7.18.2 (stable)' });
    expect(row(hangingId)).toMatchObject({ status: 'unreachable', consecutiveFailures: 1 });
    expect(row(lockedId)).toMatchObject({ status: 'auth_failed', consecutiveFailures: 1 });
    // Circuit breaker: the failed routers wait 5 minutes before the next try, the healthy one its turn.
    expect(row(hangingId).nextSyncAt!.getTime() - clock.now().getTime()).toBeGreaterThan(4 * MINUTE_MS);

    // One minute later nothing is due; after 6 minutes the failures try again and fail again, backing off further.
    advance(MINUTE_MS);
    expect(await syncRouters(deps(), { tenantId })).toEqual([]);
    advance(5 * MINUTE_MS);
    const retried = await syncRouters(deps(), { tenantId });
    expect(retried.map((result) => result.routerName).sort()).toEqual(['hanging', 'healthy', 'locked']);
    const locked2 = (await rowsOf((tx) => tx.select().from(mikrotikRouters).where(eq(mikrotikRouters.id, lockedId))))[0]!;
    expect(locked2.consecutiveFailures).toBe(2);
    expect(locked2.nextSyncAt!.getTime() - clock.now().getTime()).toBeGreaterThan(9 * MINUTE_MS);

    // Fixing the password closes the circuit at once.
    await updateRouter(deps(), { tenantId, routerId: lockedId, password: API_PASSWORD, dnsName: undefined, hotspotServer: undefined });
    const fixed = await syncRouters(deps(), { tenantId });
    expect(fixed.find((result) => result.routerId === lockedId)).toMatchObject({ status: 'succeeded' });

    const logs = await rowsOf((tx) => tx.select().from(mikrotikSyncLogs).where(eq(mikrotikSyncLogs.routerId, hangingId)));
    expect(logs.map((log) => log.status)).toEqual(['failed', 'failed']);
    expect(logs[0]!.error).toMatch(/^ROUTER_UNREACHABLE/);
  });

  it('runs at most one sync per router at a time', async () => {
    const sim = await simulator();
    sim.seedSessions(50);
    await sim.setFaults({ latencyMs: 50 });
    const routerId = await routerFor(sim, 'busy');
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => syncRouter(deps(), { tenantId, routerId, force: true })));
    expect(outcomes.filter((outcome) => outcome.status === 'succeeded')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.status === 'skipped')).toHaveLength(4);
    const logs = await rowsOf((tx) => tx.select().from(mikrotikSyncLogs).where(eq(mikrotikSyncLogs.routerId, routerId)));
    expect(logs).toHaveLength(1);
    expect(await rowsOf((tx) => tx.select().from(mikrotikActiveSessions).where(eq(mikrotikActiveSessions.routerId, routerId)))).toHaveLength(50);
  });

  it('a router that answers garbage or drops mid-reply fails its sync without crashing anything', async () => {
    const sim = await simulator();
    sim.seedSessions(20);
    const routerId = await routerFor(sim, 'flaky');
    await sim.setFaults({ dropMidReply: true });
    expect(await syncRouter(deps(), { tenantId, routerId, force: true })).toMatchObject({ status: 'failed', error: { code: 'ROUTER_UNREACHABLE' } });
    await sim.setFaults({ dropMidReply: false, garbage: true });
    expect((await syncRouter(deps(), { tenantId, routerId, force: true })).status).toBe('failed');
    await sim.setFaults({ garbage: false });
    expect(await syncRouter(deps(), { tenantId, routerId, force: true })).toMatchObject({ status: 'succeeded', sessionsSeen: 20 });
  });
});

describe('router connection test', () => {
  it('reports identity, hotspot servers and profiles, with warnings in French and English', async () => {
    const sim = await simulator({ identity: 'Bepanda-GW', hotspotServers: [{ name: 'hotspot1' }], userProfiles: [{ name: '1jour', rateLimit: '2M/5M' }] });
    const routerId = await routerFor(sim, 'bepanda');
    const result = await testRouterConnection(deps(), { tenantId, routerId });
    expect(result).toMatchObject({ ok: true, identity: 'Bepanda-GW', hotspotServers: [{ name: 'hotspot1' }] });
    if (!result.ok) throw new Error('unreachable');
    expect(result.profiles.map((profile) => profile.name)).toContain('1jour');
    expect(result.warnings.map((warning) => warning.en).join(' ')).toMatch(/No hotspot DNS name/);
    expect(result.warnings.map((warning) => warning.fr).join(' ')).toMatch(/Pas de nom DNS hotspot/);
  });

  it('says what to check when the password is wrong or the router is down, and records the status', async () => {
    const sim = await simulator();
    const routerId = await routerFor(sim, 'wrong-pass', 'nope');
    const result = await testRouterConnection(deps(), { tenantId, routerId });
    expect(result).toMatchObject({ ok: false, code: 'ROUTER_AUTH_FAILED' });
    if (result.ok) throw new Error('unreachable');
    expect(result.problem.fr).toMatch(/mot de passe/);
    expect(result.problem.en).toMatch(/password/);
    await sim.setFaults({ refuseConnections: true });
    const down = await testRouterConnection(deps(), { tenantId, routerId });
    expect(down).toMatchObject({ ok: false, code: 'ROUTER_UNREACHABLE' });
    const [row] = await rowsOf((tx) => tx.select().from(mikrotikRouters).where(eq(mikrotikRouters.id, routerId)));
    expect(row!.status).toBe('unreachable');
    expect(row!.passwordEnc).not.toContain('nope');
  });

  it('gives the reseller a specific message, in French and English, for each router problem', async () => {
    const sim = await simulator({ userProfiles: [{ name: '1jour' }] });
    const session = await createRouterOsClient().connect({ host: sim.host, port: sim.port, tls: false, username: 'relais', password: API_PASSWORD, timeoutMs: 2_000 });
    try {
      await session.addHotspotUser({ name: 'abc123', password: 'abc123', profile: '1jour' });
      const duplicate = await session.addHotspotUser({ name: 'abc123', password: 'x', profile: '1jour' }).catch((error: unknown) => error);
      expect(routerProblemText(duplicate)).toEqual({ fr: 'Ce code existe déjà sur le routeur.', en: 'This code already exists on the router.' });
      const unknownProfile = await session.addHotspotUser({ name: 'zz9', password: 'x', profile: 'no-such-profile' }).catch((error: unknown) => error);
      expect(routerProblemText(unknownProfile).fr).toMatch(/profil hotspot du forfait n'existe pas/);
      expect(routerProblemText(unknownProfile).en).toMatch(/hotspot profile does not exist on the router/);
    } finally {
      await session.close();
    }
    await sim.setFaults({ refuseConnections: true });
    const down = await createRouterOsClient()
      .connect({ host: sim.host, port: sim.port, tls: false, username: 'relais', password: API_PASSWORD, timeoutMs: 2_000 })
      .catch((error: unknown) => error);
    expect(routerProblemText(down).en).toMatch(/does not answer.*8728/);
    expect(routerProblemText(down).fr).toMatch(/ne répond pas/);
  });

  it('refuses bad input with a clear message and duplicate names', async () => {
    const base = { tenantId, name: 'dup', host: '10.0.0.1', username: 'api', password: 'x' };
    await addRouter(deps(), base);
    await expect(addRouter(deps(), base)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(addRouter(deps(), { ...base, name: 'other', host: 'not a host!' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: /host/ });
    await expect(addRouter(deps(), { ...base, name: 'other', port: 70_000 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: /port/ });
  });
});
