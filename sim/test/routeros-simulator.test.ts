import { createConnection, type Socket } from 'node:net';
import { RouterOSAPI, RosException } from 'node-routeros';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRouterOsLength, startRouterOsSimulator, type RouterOsSimulator, type RouterOsSimulatorOptions } from '../src/index.js';

// The simulator is checked against the real node-routeros client over TCP, and against bytes
// written by hand from the protocol description (shared/INTEGRATIONS.md), never against its own encoder.

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function simulator(options: RouterOsSimulatorOptions = {}): Promise<RouterOsSimulator> {
  const sim = await startRouterOsSimulator({ clock: 'manual', ...options });
  cleanups.push(() => sim.close());
  return sim;
}

/** The real client; `api.on('error')` because node-routeros emits errors after connecting. */
async function client(sim: RouterOsSimulator, password = sim.credentials.password, timeoutSeconds = 5): Promise<RouterOSAPI> {
  const api = new RouterOSAPI({ host: sim.host, port: sim.port, user: sim.credentials.username, password, timeout: timeoutSeconds });
  api.on('error', () => undefined);
  await api.connect();
  cleanups.push(() => api.close().catch(() => undefined));
  return api;
}

async function trapMessage(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return (error as Error).message;
}

/** Encodes a length the way the protocol description says, written independently of the simulator. */
function lengthPrefix(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x4000) return Buffer.from([0x80 | (length >> 8), length & 0xff]);
  if (length < 0x200000) return Buffer.from([0xc0 | (length >> 16), (length >> 8) & 0xff, length & 0xff]);
  if (length < 0x10000000) return Buffer.from([0xe0 | (length >> 24), (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
  return Buffer.from([0xf0, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
}

function sentence(words: string[], prefix: (length: number) => Buffer = lengthPrefix): Buffer {
  return Buffer.concat([...words.flatMap((word) => [prefix(Buffer.byteLength(word, 'latin1')), Buffer.from(word, 'latin1')]), Buffer.from([0])]);
}

/** A raw TCP client that collects every byte the simulator sends. */
async function rawClient(sim: RouterOsSimulator): Promise<{ socket: Socket; received: () => Buffer; ended: Promise<void>; waitFor(expected: string | Buffer): Promise<Buffer> }> {
  const socket = createConnection(sim.port, sim.host);
  const chunks: Buffer[] = [];
  const waiters: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    for (const wake of waiters.splice(0)) wake();
  });
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  cleanups.push(async () => socket.destroy());
  const received = () => Buffer.concat(chunks);
  return {
    socket,
    received,
    ended,
    async waitFor(expected: string | Buffer) {
      const bytes = typeof expected === 'string' ? Buffer.from(expected, 'latin1') : expected;
      while (!received().includes(bytes)) await new Promise<void>((resolve) => waiters.push(resolve));
      return received();
    },
  };
}

const LOGIN_REPLY = sentence(['!done', '.tag=login']);

async function rawLogin(sim: RouterOsSimulator) {
  const raw = await rawClient(sim);
  raw.socket.write(sentence(['/login', `=name=${sim.credentials.username}`, `=password=${sim.credentials.password}`, '.tag=login']));
  await raw.waitFor(LOGIN_REPLY);
  return raw;
}

describe('RouterOS simulator: login and system', () => {
  it('accepts the configured API user (RouterOS >= 6.43 login) and refuses a wrong password as RouterOS does', async () => {
    const sim = await simulator({ username: 'api', password: 'Secr3t=with=equals', identity: 'Akwa-Hotspot', version: '7.18.2' });
    const api = await client(sim);
    expect(await api.write('/system/identity/print')).toEqual([{ name: 'Akwa-Hotspot' }]);
    const [resource] = await api.write('/system/resource/print');
    expect(resource!.version).toBe('7.18.2 (stable)');

    const refused = new RouterOSAPI({ host: sim.host, port: sim.port, user: 'api', password: 'wrong', timeout: 5 });
    refused.on('error', () => undefined);
    const error = await refused.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RosException);
    expect((error as RosException).errno).toBe('CANTLOGIN');
  });

  it('refuses every login under the badLogin fault, and answers nothing but login before it', async () => {
    const sim = await simulator();
    const raw = await rawClient(sim);
    raw.socket.write(sentence(['/system/identity/print', '.tag=early']));
    expect((await raw.waitFor('not logged in')).includes(Buffer.from('!trap'))).toBe(true);

    await sim.setFaults({ badLogin: true });
    const refused = new RouterOSAPI({ host: sim.host, port: sim.port, user: sim.credentials.username, password: sim.credentials.password, timeout: 5 });
    refused.on('error', () => undefined);
    const error = await refused.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as RosException).errno).toBe('CANTLOGIN');
  });
});

describe('RouterOS simulator: hotspot users', () => {
  it('adds (=ret= id), prints with .proplist and ?queries, sets and removes users', async () => {
    const sim = await simulator();
    const api = await client(sim);
    const [added] = await api.write('/ip/hotspot/user/add', ['=name=VCH-1', '=password=a=b', '=profile=wifi-1d', '=limit-uptime=1d', '=limit-bytes-total=1073741824', '=comment=']);
    expect(added).toEqual({ ret: expect.stringMatching(/^\*[0-9A-F]+$/) });
    await api.write('/ip/hotspot/user/add', ['=name=VCH-2', '=password=x']);
    await api.write('/ip/hotspot/user/add', ['=name=VCH-3', '=password=y']);

    const [vch1] = await api.write('/ip/hotspot/user/print', ['?name=VCH-1']);
    expect(vch1).toMatchObject({ '.id': added!.ret, name: 'VCH-1', password: 'a=b', profile: 'wifi-1d', 'limit-uptime': '1d', 'limit-bytes-total': '1073741824', uptime: '0s', 'bytes-in': '0', disabled: 'false' });
    expect(vch1).not.toHaveProperty('comment');

    const either = await api.write('/ip/hotspot/user/print', ['=.proplist=name,uptime', '?name=VCH-1', '?name=VCH-3', '?#|']);
    expect(either).toEqual([
      { name: 'VCH-1', uptime: '0s' },
      { name: 'VCH-3', uptime: '0s' },
    ]);
    expect(await api.write('/ip/hotspot/user/print', ['=.proplist=name', '?-limit-uptime'])).toEqual([{ name: 'VCH-2' }, { name: 'VCH-3' }]);

    await api.write('/ip/hotspot/user/set', [`=.id=${added!.ret}`, '=disabled=true']);
    expect(sim.findUser('VCH-1')!.disabled).toBe(true);
    await api.write('/ip/hotspot/user/remove', [`=.id=${added!.ret}`]);
    expect(sim.users().map((user) => user.name)).toEqual(['VCH-2', 'VCH-3']);
  });

  it("answers RouterOS's traps: duplicate name, unknown profile, no such item, unknown command", async () => {
    const sim = await simulator();
    const api = await client(sim);
    await api.write('/ip/hotspot/user/add', ['=name=VCH-1', '=password=p']);
    expect(await trapMessage(api.write('/ip/hotspot/user/add', ['=name=VCH-1', '=password=q']))).toBe('failure: already have user with this name for this server');
    expect(await trapMessage(api.write('/ip/hotspot/user/add', ['=name=VCH-2', '=profile=no-such-profile']))).toBe('input does not match any value of profile');
    expect(await trapMessage(api.write('/ip/hotspot/user/remove', ['=.id=*FFFF']))).toBe('no such item');
    expect(await trapMessage(api.write('/ip/hotspot/user/add', ['=name=VCH-3', '=limit-uptime=forever']))).toBe('value of limit-uptime must be time interval');
    expect(await trapMessage(api.write('/interface/wireless/print'))).toBe('no such command prefix');
    // The connection is still good after traps.
    expect(await api.write('/ip/hotspot/user/print', ['=.proplist=name'])).toEqual([{ name: 'VCH-1' }]);
  });

  it('lists user profiles, hotspot servers and, on their profiles, the dns-name', async () => {
    const sim = await simulator({ userProfiles: [{ name: '1h-200', rateLimit: '1M/2M', sharedUsers: 2 }], hotspotServers: [{ name: 'hs-lobby', dnsName: 'wifi.akwa.cm' }] });
    const api = await client(sim);
    expect(await api.write('/ip/hotspot/user/profile/print', ['=.proplist=name,rate-limit,shared-users'])).toEqual([
      { name: 'default', 'shared-users': '1' },
      { name: '1h-200', 'rate-limit': '1M/2M', 'shared-users': '2' },
    ]);
    const [server] = await api.write('/ip/hotspot/print');
    expect(server).toMatchObject({ name: 'hs-lobby', profile: 'hsprof1' });
    expect(await api.write('/ip/hotspot/profile/print', ['=.proplist=name,dns-name'])).toEqual([{ name: 'hsprof1', 'dns-name': 'wifi.akwa.cm' }]);
  });
});

describe('RouterOS simulator: active sessions, time and cookies', () => {
  it('seeds sessions whose uptime and bytes grow, and whose time left shrinks, as time passes', async () => {
    const sim = await simulator({ sessions: 3 });
    const api = await client(sim);
    const before = await api.write('/ip/hotspot/active/print');
    expect(before).toHaveLength(3);
    expect(before[0]).toMatchObject({ user: 'seed-00001', uptime: '37s', 'session-time-left': '23h59m23s', server: 'hotspot1', 'login-by': 'http-chap' });
    expect(before[0]!['bytes-in']).toMatch(/^\d+$/);

    sim.advanceTime(3_723_000); // 1h2m3s
    const [after] = await api.write('/ip/hotspot/active/print', ['?user=seed-00001']);
    expect(after!.uptime).toBe('1h2m40s');
    expect(after!['session-time-left']).toBe('22h57m20s');
    expect(Number(after!['bytes-in'])).toBeGreaterThan(Number(before[0]!['bytes-in']));
    expect(Number(after!['bytes-out'])).toBeGreaterThan(Number(before[0]!['bytes-out']));
  });

  it("ends a session by itself when the user's uptime limit is used, and adds it to the user's counters", async () => {
    // RouterOS 6: the bare client cannot read 7.18's `!empty` (core's adapter guards it, see its tests).
    const sim = await simulator({ version: '6.49.10' });
    sim.addUser({ name: 'VCH-60', password: 'p', limitUptimeSeconds: 60 });
    sim.login('VCH-60', { bytesInPerSecond: 100, bytesOutPerSecond: 1_000 });
    sim.advanceTime(45_000);
    const api = await client(sim);
    expect((await api.write('/ip/hotspot/active/print'))[0]).toMatchObject({ uptime: '45s', 'session-time-left': '15s', 'bytes-in': '4500', 'bytes-out': '45000' });
    sim.advanceTime(30_000);
    expect(await api.write('/ip/hotspot/active/print')).toEqual([]);
    expect((await api.write('/ip/hotspot/user/print', ['?name=VCH-60']))[0]).toMatchObject({ uptime: '1m', 'bytes-in': '6000', 'bytes-out': '60000' });
    expect(() => sim.login('VCH-60')).toThrow(/used up/);
  });

  it('kicks a session; the device logs back in by cookie until its cookie is removed', async () => {
    const sim = await simulator();
    sim.addUser({ name: 'VCH-9', password: 'p' });
    const session = sim.login('VCH-9', { macAddress: 'AA:BB:CC:00:00:09' });
    const api = await client(sim);
    const [cookie] = await api.write('/ip/hotspot/cookie/print', ['?user=VCH-9']);
    expect(cookie).toMatchObject({ user: 'VCH-9', 'mac-address': 'AA:BB:CC:00:00:09', 'expires-in': '3d' });

    await api.write('/ip/hotspot/active/remove', [`=.id=${session.id}`]);
    expect(sim.activeSessions()).toEqual([]);
    expect(sim.deviceReturns('AA:BB:CC:00:00:09')).toMatchObject({ user: 'VCH-9', loginBy: 'cookie' });

    expect(sim.endSessions({ user: 'VCH-9' })).toBe(1);
    await api.write('/ip/hotspot/cookie/remove', [`=.id=${cookie!['.id']}`]);
    expect(sim.deviceReturns('AA:BB:CC:00:00:09')).toBeUndefined();
    expect(await trapMessage(api.write('/ip/hotspot/active/remove', [`=.id=${session.id}`]))).toBe('no such item');
  });

  it('serves 2 000 sessions in one print to the real client, with concurrent tagged commands', async () => {
    const sim = await simulator({ sessions: 2_000 });
    const api = await client(sim);
    const [sessions, identity, users] = await Promise.all([
      api.write('/ip/hotspot/active/print', ['=.proplist=.id,user,uptime,bytes-in,bytes-out']),
      api.write('/system/identity/print'),
      api.write('/ip/hotspot/user/print', ['=count-only=']),
    ]);
    expect(sessions).toHaveLength(2_000);
    expect(new Set(sessions.map((row) => row.user)).size).toBe(2_000);
    expect(identity).toEqual([{ name: 'MikroTik' }]);
    expect(users).toEqual([{ ret: '2000' }]);
  });
});

describe('RouterOS simulator: empty prints by version', () => {
  it('answers an empty print with !empty then !done from 7.18 on', async () => {
    const sim = await simulator({ version: '7.18.2' });
    const raw = await rawLogin(sim);
    raw.socket.write(sentence(['/ip/hotspot/user/print', '.tag=p1']));
    const reply = (await raw.waitFor(sentence(['!done', '.tag=p1']))).subarray(LOGIN_REPLY.length);
    expect(reply.equals(Buffer.concat([sentence(['!empty', '.tag=p1']), sentence(['!done', '.tag=p1'])]))).toBe(true);
  });

  it('answers an empty print with !done alone on RouterOS 6', async () => {
    const sim = await simulator({ version: '6.49.10' });
    const raw = await rawLogin(sim);
    raw.socket.write(sentence(['/ip/hotspot/active/print', '.tag=p1']));
    const reply = (await raw.waitFor(sentence(['!done', '.tag=p1']))).subarray(LOGIN_REPLY.length);
    expect(reply.equals(sentence(['!done', '.tag=p1']))).toBe(true);
  });
});

describe('RouterOS simulator: word length encodings', () => {
  it.each([
    ['200-byte', 2, 200],
    ['20 000-byte', 3, 20_000],
    ['3 MB', 4, 3 * 1024 * 1024],
  ])('reads and writes a %s word (a %i-byte length prefix)', async (_label, prefixLength, size) => {
    const sim = await simulator();
    const raw = await rawLogin(sim);
    const comment = 'é'.repeat(size); // one byte each in win1252
    raw.socket.write(sentence(['/ip/hotspot/user/add', '=name=LONG', `=comment=${comment}`, '.tag=add']));
    await raw.waitFor('.tag=add');
    expect(sim.findUser('LONG')!.comment).toBe(comment);

    raw.socket.write(sentence(['/ip/hotspot/user/print', '=.proplist=comment', '?name=LONG', '.tag=get']));
    const word = `=comment=${comment}`;
    const expected = Buffer.concat([lengthPrefix(word.length), Buffer.from(word, 'latin1')]);
    expect(lengthPrefix(word.length)).toHaveLength(prefixLength);
    const reply = await raw.waitFor(sentence(['!done', '.tag=get']));
    expect(reply.includes(expected)).toBe(true);
  });

  it('round-trips a 3 MB word through the real client', async () => {
    const sim = await simulator();
    const api = await client(sim);
    const comment = 'x'.repeat(3 * 1024 * 1024);
    await api.write('/ip/hotspot/user/add', ['=name=BIG', `=comment=${comment}`]);
    const [row] = await api.write('/ip/hotspot/user/print', ['=.proplist=comment', '?name=BIG']);
    expect(row!.comment).toBe(comment);
  });

  it('encodes lengths from 0x10000000 on as 0xF0 and four bytes, and reads that form (even for short words)', async () => {
    expect([...encodeRouterOsLength(0x10000000)]).toEqual([0xf0, 0x10, 0x00, 0x00, 0x00]);
    expect([...encodeRouterOsLength(0x0fffffff)]).toEqual([0xef, 0xff, 0xff, 0xff]);
    expect([...encodeRouterOsLength(0x1fffff)]).toEqual([0xdf, 0xff, 0xff]);
    expect([...encodeRouterOsLength(0x3fff)]).toEqual([0xbf, 0xff]);
    expect([...encodeRouterOsLength(0x7f)]).toEqual([0x7f]);

    const sim = await simulator({ identity: 'F0-Reader' });
    const raw = await rawLogin(sim);
    const fiveBytePrefix = (length: number) => Buffer.from([0xf0, 0, 0, 0, length]);
    raw.socket.write(sentence(['/system/identity/print', '.tag=f0'], fiveBytePrefix));
    expect((await raw.waitFor('.tag=f0')).includes(Buffer.from('=name=F0-Reader'))).toBe(true);
  });

  it('reassembles a command that arrives one byte at a time', async () => {
    const sim = await simulator({ identity: 'Slow-Link' });
    const raw = await rawLogin(sim);
    raw.socket.setNoDelay(true);
    for (const byte of sentence(['/system/identity/print', '.tag=slow'])) raw.socket.write(Buffer.from([byte]));
    expect((await raw.waitFor('.tag=slow')).includes(Buffer.from('=name=Slow-Link'))).toBe(true);
  });
});

describe('RouterOS simulator: faults', () => {
  it('refuses connections while told to, then listens again on the same port', async () => {
    const sim = await simulator();
    await sim.setFaults({ refuseConnections: true });
    const error = await rawClient(sim).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    await sim.setFaults({ refuseConnections: false });
    expect(await (await client(sim)).write('/system/identity/print')).toEqual([{ name: 'MikroTik' }]);
  });

  it('hangs: accepts the connection and never answers, so the client times out', async () => {
    const sim = await simulator({ faults: { hang: true } });
    const api = new RouterOSAPI({ host: sim.host, port: sim.port, user: sim.credentials.username, password: sim.credentials.password, timeout: 0.3 });
    api.on('error', () => undefined);
    const error = await api.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as RosException).errno).toBe('SOCKTMOUT');
    expect(sim.commands()).toEqual([]); // the login was received, and ignored
  });

  it('drops the connection half way through a reply', async () => {
    const sim = await simulator({ sessions: 50 });
    const raw = await rawLogin(sim);
    const loginBytes = raw.received().length;
    await sim.setFaults({ dropMidReply: true });
    raw.socket.write(sentence(['/ip/hotspot/active/print', '.tag=cut']));
    await raw.ended;
    const partial = raw.received().subarray(loginBytes);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.includes(Buffer.from('!re'))).toBe(true);
    expect(partial.includes(Buffer.from('!done'))).toBe(false);
  });

  it('sends garbage: a reply word RouterOS never sends, then random bytes', async () => {
    const sim = await simulator();
    const raw = await rawLogin(sim);
    await sim.setFaults({ garbage: true });
    raw.socket.write(sentence(['/system/identity/print', '.tag=g']));
    expect((await raw.waitFor('.tag=g')).includes(sentence(['!gibberish', '.tag=g', '=what=noise']))).toBe(true);
  });

  it('ends the session with !fatal, as on /quit', async () => {
    const sim = await simulator();
    const raw = await rawLogin(sim);
    raw.socket.write(sentence(['/quit', '.tag=q']));
    await raw.ended;
    expect(raw.received().includes(sentence(['!fatal', 'session terminated on request']))).toBe(true);
  });

  it('sends replies in pieces, and resets connections on demand', async () => {
    const sim = await simulator({ identity: 'Piecewise' });
    const raw = await rawLogin(sim);
    await sim.setFaults({ fragmentBytes: 3 });
    const pieces = () => raw.received().length;
    const before = pieces();
    raw.socket.write(sentence(['/system/identity/print', '.tag=frag']));
    expect((await raw.waitFor(sentence(['!done', '.tag=frag']))).subarray(before).includes(Buffer.from('=name=Piecewise'))).toBe(true);

    expect(sim.resetConnections()).toBe(1);
    await raw.ended;
    expect(raw.socket.destroyed).toBe(true);
  });

  it('delays every reply under latency, and still answers', async () => {
    const sim = await simulator({ faults: { latencyMs: 30 } });
    const api = await client(sim);
    expect(await api.write('/system/identity/print')).toEqual([{ name: 'MikroTik' }]);
    expect(sim.commands().map((command) => command.words[0])).toEqual(['/login', '/system/identity/print']);
    expect(sim.commands()[0]!.words).toContain('=password=***');
  });
});
