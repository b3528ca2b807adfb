import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startRouterOsSimulator, type RouterOsSimulator, type RouterOsSimulatorOptions } from '@relais/sim';
import { AppError } from '../src/shared/app-error.js';
import type { RouterConnectionOptions, RouterSession } from '../src/shared/ports/router-client.js';
import { createRouterOsClient } from '../src/routers/routeros/routeros-router-client.js';
import { errorOf } from '../../tests/support/app-error-of.js';

// Every test goes through the real adapter and the real node-routeros over TCP to the RouterOS
// simulator: nothing of ours is stubbed.

const API_PASSWORD = 'r0uter-Pässword=never-shown';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function simulator(options: RouterOsSimulatorOptions = {}): Promise<RouterOsSimulator> {
  const sim = await startRouterOsSimulator({ clock: 'manual', username: 'relais-api', password: API_PASSWORD, ...options });
  cleanups.push(() => sim.close());
  return sim;
}

function connectionTo(sim: RouterOsSimulator, overrides: Partial<RouterConnectionOptions> = {}): RouterConnectionOptions {
  return { host: sim.host, port: sim.port, tls: false, username: 'relais-api', password: API_PASSWORD, timeoutMs: 5_000, ...overrides };
}

async function connect(sim: RouterOsSimulator, overrides: Partial<RouterConnectionOptions> = {}): Promise<RouterSession> {
  const session = await createRouterOsClient().connect(connectionTo(sim, overrides));
  cleanups.push(() => session.close());
  return session;
}

/** The AppError, checked to carry the router password nowhere. */
async function routerError(promise: Promise<unknown>): Promise<AppError> {
  const error = await errorOf(promise);
  const everything = `${error.message} ${JSON.stringify(error)} ${JSON.stringify(error.details)} ${String(error.cause)} ${error.stack}`;
  expect(everything).not.toContain(API_PASSWORD);
  return error;
}

describe('RouterOS adapter: login', () => {
  it('logs in and reads the identity and version', async () => {
    const sim = await simulator({ identity: 'Bonamoussadi-GW', version: '7.18.2' });
    const session = await connect(sim);
    expect(await session.identity()).toEqual({ name: 'Bonamoussadi-GW', version: '7.18.2 (stable)' });
  });

  it('maps a wrong password to ROUTER_AUTH_FAILED, without the password anywhere', async () => {
    const sim = await simulator();
    const error = await routerError(createRouterOsClient().connect(connectionTo(sim, { password: `${API_PASSWORD}-typo` })));
    expect(error.code).toBe('ROUTER_AUTH_FAILED');
    expect(error.message).toMatch(/refused the API login of user "relais-api"/);
    expect(error.retryable).toBe(false);

    await sim.setFaults({ badLogin: true });
    expect((await routerError(createRouterOsClient().connect(connectionTo(sim)))).code).toBe('ROUTER_AUTH_FAILED');
  });
});

describe('RouterOS adapter: hotspot users', () => {
  it('adds, lists (all or by name) and removes hotspot users', async () => {
    const sim = await simulator();
    const session = await connect(sim);
    const { id } = await session.addHotspotUser({ name: 'VCH-7K2P', password: '7K2P', profile: 'wifi-1d', limitUptimeSeconds: 86_400, limitBytesTotal: 2 * 1024 ** 3, comment: 'pack 1 jour' });
    await session.addHotspotUser({ name: 'VCH-9QXZ', password: '9QXZ', profile: 'default', server: 'hotspot1' });
    expect(id).toMatch(/^\*[0-9A-F]+$/);
    expect(sim.findUser('VCH-7K2P')).toMatchObject({ password: '7K2P', profile: 'wifi-1d', limitUptimeSeconds: 86_400, limitBytesTotal: 2_147_483_648, comment: 'pack 1 jour' });

    expect(await session.listHotspotUsers({ names: ['VCH-7K2P', 'VCH-9QXZ', 'VCH-NONE'] })).toEqual([
      { id, name: 'VCH-7K2P', profile: 'wifi-1d', uptimeSeconds: 0, bytesIn: 0, bytesOut: 0, disabled: false, comment: 'pack 1 jour' },
      { id: expect.any(String), name: 'VCH-9QXZ', profile: 'default', uptimeSeconds: 0, bytesIn: 0, bytesOut: 0, disabled: false },
    ]);
    expect((await session.listHotspotUsers()).map((user) => user.name)).toEqual(['VCH-7K2P', 'VCH-9QXZ']);

    await session.removeHotspotUser(id);
    expect(sim.findUser('VCH-7K2P')).toBeUndefined();
    const again = await routerError(session.removeHotspotUser(id));
    expect(again).toMatchObject({ code: 'ROUTER_COMMAND_FAILED', details: { reason: 'no_such_item' } });
  });

  it('reads the counters of a used voucher, and filters 250 names in batches', async () => {
    const sim = await simulator();
    for (let index = 0; index < 250; index += 1) sim.addUser({ name: `B-${index}`, password: 'p' });
    sim.login('B-3', { bytesInPerSecond: 10, bytesOutPerSecond: 100 });
    sim.advanceTime(90_000);
    sim.endSessions({ user: 'B-3' });
    const session = await connect(sim);
    const users = await session.listHotspotUsers({ names: Array.from({ length: 250 }, (_, index) => `B-${index}`) });
    expect(users).toHaveLength(250);
    expect(users.find((user) => user.name === 'B-3')).toMatchObject({ uptimeSeconds: 90, bytesIn: 900, bytesOut: 9_000 });
  });

  it("reports RouterOS's duplicate-name and unknown-profile traps with their reasons", async () => {
    const sim = await simulator();
    const session = await connect(sim);
    await session.addHotspotUser({ name: 'VCH-1', password: 'a', profile: 'default' });
    const duplicate = await routerError(session.addHotspotUser({ name: 'VCH-1', password: 'b', profile: 'default' }));
    expect(duplicate).toMatchObject({ code: 'ROUTER_COMMAND_FAILED', details: { reason: 'duplicate_user', command: '/ip/hotspot/user/add' } });
    expect(duplicate.message).toContain('failure: already have user with this name for this server');

    const unknownProfile = await routerError(session.addHotspotUser({ name: 'VCH-2', password: 'a', profile: '3-jours' }));
    expect(unknownProfile).toMatchObject({ code: 'ROUTER_COMMAND_FAILED', details: { reason: 'unknown_profile' } });
    expect(unknownProfile.message).toContain('input does not match any value of profile');
    // A trap is an answer: the session goes on.
    expect((await session.listHotspotUsers()).map((user) => user.name)).toEqual(['VCH-1']);
  });

  it('lists user profiles and hotspot servers with the dns-name of their profile', async () => {
    const sim = await simulator({ userProfiles: [{ name: '1h', rateLimit: '1M/2M', sharedUsers: 2 }], hotspotServers: [{ name: 'hs-lobby', dnsName: 'wifi.akwa.cm' }, { name: 'hs-terrace' }] });
    const session = await connect(sim);
    expect(await session.listUserProfiles()).toEqual([
      { name: 'default', sharedUsers: 1 },
      { name: '1h', rateLimit: '1M/2M', sharedUsers: 2 },
    ]);
    expect(await session.listHotspotServers()).toEqual([{ name: 'hs-lobby', dnsName: 'wifi.akwa.cm' }, { name: 'hs-terrace' }]);
  });
});

describe('RouterOS adapter: empty prints', () => {
  it('reads `!empty` (RouterOS >= 7.18) as no rows, and the session goes on', async () => {
    const sim = await simulator({ version: '7.18.2' });
    expect(sim.sendsEmpty).toBe(true);
    const session = await connect(sim);
    expect(await session.listActiveSessions()).toEqual([]);
    expect(await session.listHotspotUsers({ names: ['nobody'] })).toEqual([]);
    expect(await session.removeCookiesOfUser('nobody')).toBe(0);
    expect((await session.identity()).version).toBe('7.18.2 (stable)');
  });

  it('reads a bare `!done` (RouterOS 6) as no rows', async () => {
    const sim = await simulator({ version: '6.49.10' });
    expect(sim.sendsEmpty).toBe(false);
    const session = await connect(sim);
    expect(await session.listActiveSessions()).toEqual([]);
    expect(await session.listHotspotUsers()).toEqual([]);
  });

  it('is needed: node-routeros alone crashes its process on `!empty`', async () => {
    const sim = await simulator({ version: '7.18.2' });
    const script = `
      import { RouterOSAPI } from 'node-routeros';
      const api = new RouterOSAPI({ host: '${sim.host}', port: ${sim.port}, user: 'relais-api', password: ${JSON.stringify(API_PASSWORD)}, timeout: 5 });
      api.on('error', () => {});
      await api.connect();
      await api.write('/ip/hotspot/active/print');
      console.log('survived');
      process.exit(0);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(exitCode).not.toBe(0);
    expect(output).toContain('UNKNOWNREPLY');
    expect(output).not.toContain('survived');
  });
});

describe('RouterOS adapter: active sessions', () => {
  it('parses uptime, time left and byte counters into numbers', async () => {
    const sim = await simulator();
    sim.addUser({ name: 'VCH-42', password: 'p', limitUptimeSeconds: 7_200 });
    sim.login('VCH-42', { address: '10.5.50.42', macAddress: 'AA:BB:CC:DD:EE:42', bytesInPerSecond: 1_000, bytesOutPerSecond: 12_500 });
    sim.advanceTime(3_723_000);
    const session = await connect(sim);
    expect(await session.listActiveSessions()).toEqual([
      {
        id: expect.stringMatching(/^\*/),
        server: 'hotspot1',
        user: 'VCH-42',
        address: '10.5.50.42',
        macAddress: 'AA:BB:CC:DD:EE:42',
        uptimeSeconds: 3_723,
        sessionTimeLeftSeconds: 3_477,
        idleTimeSeconds: 0,
        bytesIn: 3_723_000,
        bytesOut: 46_537_500,
        loginBy: 'http-chap',
      },
    ]);
  });

  it('lists 2 000 sessions, and runs commands side by side on one session', async () => {
    const sim = await simulator({ sessions: 2_000 });
    const session = await connect(sim);
    const [sessions, users, identity] = await Promise.all([session.listActiveSessions(), session.listHotspotUsers(), session.identity()]);
    expect(sessions).toHaveLength(2_000);
    expect(users).toHaveLength(2_000);
    expect(identity.name).toBe('MikroTik');
    const expected = new Map(sim.activeSessions().map((entry) => [entry.id, entry]));
    for (const entry of sessions) expect(entry.uptimeSeconds).toBe(expected.get(entry.id)!.uptimeSeconds);
  });

  it('kicks a session and removes its cookies, so the device cannot log straight back in', async () => {
    const sim = await simulator();
    sim.addUser({ name: 'VCH-KICK', password: 'p' });
    const active = sim.login('VCH-KICK', { macAddress: 'AA:00:00:00:00:01' });
    const session = await connect(sim);

    await session.removeActiveSession(active.id);
    expect(sim.activeSessions()).toEqual([]);
    expect(await session.removeCookiesOfUser('VCH-KICK')).toBe(1);
    expect(sim.cookies()).toEqual([]);
    expect(sim.deviceReturns('AA:00:00:00:00:01')).toBeUndefined();

    expect((await routerError(session.removeActiveSession(active.id))).details).toMatchObject({ reason: 'no_such_item' });
  });
});

describe('RouterOS adapter: a router that misbehaves', () => {
  it('gives up on a router that accepts but never answers: ROUTER_UNREACHABLE, reason timeout', async () => {
    const sim = await simulator({ faults: { hang: true } });
    const error = await routerError(createRouterOsClient().connect(connectionTo(sim, { timeoutMs: 300 })));
    expect(error).toMatchObject({ code: 'ROUTER_UNREACHABLE', details: { reason: 'timeout', timeoutMs: 300 } });
    expect(error.retryable).toBe(true);
  });

  it('times out a command the router stops answering, and the session is then unusable', async () => {
    const sim = await simulator();
    const session = await connect(sim, { timeoutMs: 300 });
    await sim.setFaults({ hang: true });
    expect(await routerError(session.listActiveSessions())).toMatchObject({ code: 'ROUTER_UNREACHABLE', details: { reason: 'timeout' } });
    await sim.setFaults({ hang: false });
    expect((await routerError(session.identity())).code).toBe('ROUTER_UNREACHABLE');
  });

  it('maps a refused connection to ROUTER_UNREACHABLE (ECONNREFUSED)', async () => {
    const sim = await simulator({ faults: { refuseConnections: true } });
    const error = await routerError(createRouterOsClient().connect(connectionTo(sim)));
    expect(error).toMatchObject({ code: 'ROUTER_UNREACHABLE', details: { reason: 'connection_failed', code: 'ECONNREFUSED' } });
  });

  it('rejects a command whose reply is cut off', async () => {
    const sim = await simulator({ sessions: 200 });
    const session = await connect(sim);
    await sim.setFaults({ dropMidReply: true });
    const error = await routerError(session.listActiveSessions());
    expect(error.code).toBe('ROUTER_UNREACHABLE');
    expect(['connection_lost', 'protocol_error']).toContain(error.details!.reason);
  });

  it('survives garbage after login and during login: an error, not a crash', async () => {
    const sim = await simulator();
    const session = await connect(sim);
    await sim.setFaults({ garbage: true });
    expect(await routerError(session.listActiveSessions())).toMatchObject({ code: 'ROUTER_UNREACHABLE', details: { reason: 'protocol_error' } });
    expect((await routerError(session.listHotspotUsers())).code).toBe('ROUTER_UNREACHABLE');

    const duringLogin = await routerError(createRouterOsClient().connect(connectionTo(sim)));
    expect(duringLogin).toMatchObject({ code: 'ROUTER_UNREACHABLE', details: { reason: 'protocol_error' } });
  });

  it('survives a connection reset after login (node-routeros emits "error")', async () => {
    const sim = await simulator();
    const session = await connect(sim, { timeoutMs: 1_000 });
    expect(sim.resetConnections()).toBe(1);
    expect((await routerError(session.listActiveSessions())).code).toBe('ROUTER_UNREACHABLE');
    // A fresh session works: nothing in the process was broken.
    const fresh = await connect(sim);
    expect(await fresh.identity()).toMatchObject({ name: 'MikroTik' });
  });

  it('reports `!fatal` as the router ending the session', async () => {
    const sim = await simulator();
    const session = await connect(sim);
    await sim.setFaults({ fatal: true });
    expect(await routerError(session.identity())).toMatchObject({ code: 'ROUTER_UNREACHABLE', details: { reason: 'session_terminated' } });
  });

  it('reads replies that arrive in 1-byte pieces (node-routeros alone loses a final empty word sent apart)', async () => {
    const sim = await simulator({ faults: { fragmentBytes: 1 } });
    const session = await connect(sim);
    expect(await session.identity()).toEqual({ name: 'MikroTik', version: '7.18.2 (stable)' });
    expect(await session.listActiveSessions()).toEqual([]);
  });

  it('closes idempotently; a closed session refuses further commands', async () => {
    const sim = await simulator();
    const session = await connect(sim);
    await session.close();
    await session.close();
    expect(await routerError(session.listActiveSessions())).toMatchObject({ code: 'ROUTER_UNREACHABLE', details: { reason: 'closed' } });
  });
});
