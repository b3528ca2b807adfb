import { randomBytes, randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireChannelLease, createChannelAccount, createSecretBox, createTenant, releaseChannelLease, renewChannelLease, systemClock } from '@relais/core';
import { channelLeases, whatsappAuthState, type DriverName } from '@relais/db';
import { WhatsAppConnections } from '@relais/bots/whatsapp';
import { eventually } from '../support/relais-process.js';
import { steppedClock } from '../support/stepped-clock.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/test-database.js';
import { fakeBaileys } from './whatsapp-baileys-fake-socket.js';

const SECOND_MS = 1_000;

describe.each(testDrivers())('WhatsApp (Baileys) number lease and auth state on %s', (driver: DriverName) => {
  let test: TestDatabase;
  const secrets = createSecretBox(randomBytes(32));
  let tenantId: string;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    tenantId = (await createTenant({ db: test.db, clock: systemClock }, { name: 'Wifi Zone Bali', email: `bali-${driver}@example.cm` })).tenant.id;
  });
  afterAll(async () => {
    await test?.drop();
  });

  const leaseRow = async (channelAccountId: string) => {
    const [row] = await test.db.withPlatform((tx) => tx.select().from(channelLeases).where(eq(channelLeases.channelAccountId, channelAccountId)));
    return row;
  };

  it('two owners racing for the same number: exactly one wins, every time', async () => {
    for (let round = 0; round < 10; round += 1) {
      const channelAccountId = randomUUID();
      const results = await Promise.all(
        ['process-a', 'process-b', 'process-c'].map((owner) => acquireChannelLease({ db: test.db, clock: systemClock }, { tenantId, channelAccountId, owner })),
      );
      const winners = results.filter((result) => result.acquired);
      expect(winners).toHaveLength(1);
      // The losers are told who holds it.
      for (const loser of results.filter((result) => !result.acquired)) expect(loser.owner).toBe(winners[0]!.owner);
      expect((await leaseRow(channelAccountId))!.owner).toBe(winners[0]!.owner);
    }
  });

  it('the holder renews; once it stops renewing, the lease lapses and another process takes over', async () => {
    const clock = steppedClock();
    const deps = { db: test.db, clock };
    const channelAccountId = randomUUID();
    const a = { tenantId, channelAccountId, owner: 'process-a', leaseMs: 30 * SECOND_MS };
    const b = { ...a, owner: 'process-b' };
    expect((await acquireChannelLease(deps, a)).acquired).toBe(true);
    clock.advance(10 * SECOND_MS);
    expect((await renewChannelLease(deps, a)).acquired).toBe(true);
    clock.advance(25 * SECOND_MS);
    // Renewed 25 s ago with a 30 s lease: still A's.
    expect((await acquireChannelLease(deps, b)).acquired).toBe(false);
    clock.advance(6 * SECOND_MS);
    // A went silent (crashed): the lease lapsed, B takes it, and A can neither renew nor release it.
    expect((await acquireChannelLease(deps, b)).acquired).toBe(true);
    expect((await renewChannelLease(deps, a)).acquired).toBe(false);
    expect(await releaseChannelLease(deps, a)).toBe(false);
    expect((await leaseRow(channelAccountId))!.owner).toBe('process-b');
    // B shuts down cleanly: released at once, A may take it without waiting.
    expect(await releaseChannelLease(deps, b)).toBe(true);
    expect((await acquireChannelLease(deps, a)).acquired).toBe(true);
  });

  it('auth state: creds and keys saved sealed on every change, reloaded by the next connection, null deletes', async () => {
    const account = await createChannelAccount({ db: test.db, secrets }, { tenantId, kind: 'whatsapp', name: 'Bali number' });
    const baileys = fakeBaileys();
    const deps = { db: test.db, secrets, clock: systemClock, makeSocket: baileys.makeSocket };
    const first = new WhatsAppConnections('process-a');
    const connection = first.open(deps, { tenantId, channelAccountId: account.id });
    const socket = await eventually(async () => baileys.sockets[0], 10_000, 'the first socket');
    const signedPreKey = { public: randomBytes(32), private: randomBytes(32) };
    // What Baileys' signal repository writes (v7 needs lid-mapping, device-list and tctoken too).
    await socket.auth.keys.set({
      'pre-key': { '1': signedPreKey, '2': { public: randomBytes(32), private: randomBytes(32) } },
      session: { '237670000011.0': Buffer.from('session-record-bytes') },
      'lid-mapping': { '237670000011': '98765432109876', '98765432109876_reverse': '237670000011' },
      'device-list': { '237670000011': ['0', '12'] },
      tctoken: { '237670000011@s.whatsapp.net': { token: Buffer.from('tc-token'), timestamp: '1760000000' } },
      'app-state-sync-key': { AAAAAB: { keyData: Buffer.from('app-state-key'), timestamp: 1760000000 } },
    });
    await socket.emit({ 'creds.update': { me: { id: '237699000111:7@s.whatsapp.net', name: 'Wifi Zone Bali' }, registered: true } });
    await socket.auth.keys.set({ 'pre-key': { '2': null } });

    const rows = await test.db.withTenant(tenantId, (tx) =>
      tx.select().from(whatsappAuthState).where(and(eq(whatsappAuthState.tenantId, tenantId), eq(whatsappAuthState.channelAccountId, account.id))),
    );
    expect(rows.map((row) => `${row.category}/${row.keyId}`).sort()).toEqual(
      [
        'app-state-sync-key/AAAAAB',
        'creds/creds',
        'device-list/237670000011',
        'lid-mapping/237670000011',
        'lid-mapping/98765432109876_reverse',
        'pre-key/1',
        'session/237670000011.0',
        'tctoken/237670000011@s.whatsapp.net',
      ].sort(),
    );
    const stored = rows.map((row) => row.valueEnc).join('\n');
    // Sealed: neither the key bytes, nor the number, nor the mapping appear in the rows.
    for (const plain of [signedPreKey.private.toString('base64'), '237699000111', '98765432109876', Buffer.from('session-record-bytes').toString('base64')]) expect(stored).not.toContain(plain);
    expect(rows.every((row) => row.valueEnc.startsWith('v1.'))).toBe(true);
    const noiseKey = socket.auth.creds.noiseKey.private;
    await first.closeAll();
    expect(connection.state).toBe('stopped');

    // Another process (after a restart): the same session, read back from the database.
    const second = new WhatsAppConnections('process-b');
    second.open(deps, { tenantId, channelAccountId: account.id });
    const reloaded = await eventually(async () => baileys.sockets[1], 10_000, 'the second socket');
    expect(reloaded.auth.creds.me?.id).toBe('237699000111:7@s.whatsapp.net');
    expect(reloaded.auth.creds.registered).toBe(true);
    expect(Buffer.from(reloaded.auth.creds.noiseKey.private).equals(Buffer.from(noiseKey))).toBe(true);
    const preKeys = await reloaded.auth.keys.get('pre-key', ['1', '2']);
    expect(Buffer.from(preKeys['1']!.private).equals(signedPreKey.private)).toBe(true);
    expect(preKeys['2']).toBeUndefined();
    expect(await reloaded.auth.keys.get('lid-mapping', ['98765432109876_reverse'])).toEqual({ '98765432109876_reverse': '237670000011' });
    expect(await reloaded.auth.keys.get('device-list', ['237670000011'])).toEqual({ '237670000011': ['0', '12'] });
    const tctoken = await reloaded.auth.keys.get('tctoken', ['237670000011@s.whatsapp.net']);
    expect(Buffer.isBuffer(tctoken['237670000011@s.whatsapp.net']!.token)).toBe(true);
    const appStateKey = (await reloaded.auth.keys.get('app-state-sync-key', ['AAAAAB'])).AAAAAB!;
    // Baileys wants the protobuf class back, with its bytes.
    expect(appStateKey.constructor.name).toBe('AppStateSyncKeyData');
    expect(Buffer.from(appStateKey.keyData!).toString()).toBe('app-state-key');
    await second.closeAll();

    // Sealed for this tenant: another APP_KEY cannot open the session.
    const stranger = new WhatsAppConnections('process-c');
    const strangerBaileys = fakeBaileys();
    const logged: string[] = [];
    const logger = { info: () => {}, warn: () => {}, error: (object: Record<string, unknown>, message: string) => void logged.push(`${message} ${JSON.stringify(object)}`) };
    const failed = stranger.open({ ...deps, logger, secrets: createSecretBox(randomBytes(32)), makeSocket: strangerBaileys.makeSocket }, { tenantId, channelAccountId: account.id });
    await eventually(async () => (logged.some((line) => line.startsWith('WhatsApp connection could not start')) ? true : undefined), 10_000, 'the failed start');
    expect(failed.state).toBe('waiting_for_lease');
    expect(await leaseRow(account.id)).toBeUndefined();
    expect(strangerBaileys.sockets).toHaveLength(0);
    // The log says what failed, never what the session holds.
    expect(logged.join('\n')).not.toContain('237699000111');
    await stranger.closeAll();
  });
});
