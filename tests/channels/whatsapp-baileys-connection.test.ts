import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChannelAccount, createSecretBox, createTenant, systemClock } from '@relais/core';
import { channelAccounts, channelLeases, contactIdentities, contacts, conversationMessages, whatsappAuthState, type Database } from '@relais/db';
import { WhatsAppConnections, type WhatsAppConnection } from '@relais/bots/whatsapp';
import { eventually } from '../support/relais-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { customerText, fakeBaileys } from './whatsapp-baileys-fake-socket.js';
import { decodeQrPng } from '../support/qr-code.js';


const CUSTOMER = '237670000011@s.whatsapp.net';

// The connection manager driven through the provider boundary: a fake Baileys socket emits what
// WhatsApp would; everything of ours (lease, auth state, engine) is real, on a real database.
describe('WhatsApp (Baileys) connection', () => {
  let test: TestDatabase;
  let db: Database;
  const secrets = createSecretBox(randomBytes(32));
  let tenantId: string;
  const opened: WhatsAppConnections[] = [];

  beforeAll(async () => {
    test = await createTestDatabase();
    db = test.db;
    tenantId = (await createTenant({ db, clock: systemClock }, { name: 'Wifi Zone Akwa', email: 'wa-akwa@example.cm' })).tenant.id;
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((connections) => connections.closeAll()));
  });
  afterAll(async () => {
    await test?.drop();
  });

  async function newAccount(name: string) {
    return (await createChannelAccount({ db, secrets }, { tenantId, kind: 'whatsapp', name })).id;
  }

  /** A connection on a fresh account in "process" `owner`, its fake Baileys and the backoff waits it asked for. */
  async function connect(options: { owner?: string; channelAccountId?: string; renewEveryMs?: number } = {}) {
    const channelAccountId = options.channelAccountId ?? (await newAccount(`number ${randomBytes(3).toString('hex')}`));
    const baileys = fakeBaileys();
    const waits: number[] = [];
    const connections = new WhatsAppConnections(options.owner ?? 'process-a');
    opened.push(connections);
    const connection = connections.open(
      { db, secrets, clock: systemClock, makeSocket: baileys.makeSocket, sleep: async (ms) => void waits.push(ms) },
      { tenantId, channelAccountId, ...(options.renewEveryMs ? { renewEveryMs: options.renewEveryMs } : {}) },
    );
    await eventually(async () => baileys.sockets[0], 10_000, 'a socket');
    return { channelAccountId, baileys, waits, connections, connection };
  }

  const statusOf = async (channelAccountId: string) =>
    (await db.withTenant(tenantId, (tx) => tx.select({ status: channelAccounts.status }).from(channelAccounts).where(eq(channelAccounts.id, channelAccountId))))[0]!.status;
  const leaseOf = async (channelAccountId: string) => (await db.withPlatform((tx) => tx.select().from(channelLeases).where(eq(channelLeases.channelAccountId, channelAccountId))))[0];
  const messagesOf = (channelAccountId: string) =>
    db.withTenant(tenantId, (tx) => tx.select().from(conversationMessages).where(and(eq(conversationMessages.tenantId, tenantId), eq(conversationMessages.channelAccountId, channelAccountId))));

  it('pairing: the latest QR is served as a PNG that decodes to it; open clears it and activates the account', async () => {
    const { channelAccountId, baileys, connections, connection } = await connect();
    const socket = baileys.latest();
    expect(await connections.pairingQrPng(channelAccountId)).toBeUndefined();
    await socket.emit({ 'connection.update': { qr: '2@first-ref,noise-key-b64,identity-key-b64,adv-secret-b64' } });
    // WhatsApp rotates the code: the newest one is shown.
    const latestQr = '2@second-ref,noise-key-b64,identity-key-b64,adv-secret-b64';
    await socket.emit({ 'connection.update': { qr: latestQr } });
    expect(connection.state).toBe('pairing');
    expect(decodeQrPng((await connections.pairingQrPng(channelAccountId))!)).toBe(latestQr);
    expect(await connection.pairingQrTerminal()).toMatch(/[▀▄█]/);

    await socket.open();
    expect(connection.state).toBe('open');
    expect(await connections.pairingQrPng(channelAccountId)).toBeUndefined();
    expect(connections.socketOf(channelAccountId)).toBe(socket);
    expect(await statusOf(channelAccountId)).toBe('active');
  });

  it('515 right after pairing: a new socket at once, with the credentials just saved', async () => {
    const { baileys, waits, connection } = await connect();
    await baileys.latest().emit({ 'creds.update': { me: { id: '237699000222:3@s.whatsapp.net' }, registered: true } });
    await baileys.latest().close(515);
    expect(baileys.sockets).toHaveLength(2);
    expect(waits).toEqual([]);
    expect(baileys.latest().auth.creds.me?.id).toBe('237699000222:3@s.whatsapp.net');
    await baileys.latest().open();
    expect(connection.state).toBe('open');
  });

  it('a customer message becomes one engine turn; fromMe, status, broadcast, newsletter, group and history are skipped; a duplicate id gets one reply', async () => {
    const { channelAccountId, baileys, connection } = await connect();
    const socket = baileys.latest();
    await socket.open();
    const hello = customerText(CUSTOMER, 'bonjour', { id: 'MSG-HELLO-1', pushName: 'Awa' });
    await socket.receive([
      customerText(CUSTOMER, 'sent from the phone', { fromMe: true }),
      customerText('status@broadcast', 'my status'),
      customerText('1234567890@broadcast', 'a broadcast list'),
      customerText('120363000000000000@newsletter', 'a channel post'),
      customerText('237670000099-1600000000@g.us', 'in a group'),
      { key: { remoteJid: CUSTOMER, fromMe: false, id: 'REACTION-1' }, message: { reactionMessage: { text: '👍' } } },
      hello,
    ]);
    await socket.receive([customerText(CUSTOMER, 'old history', { id: 'HISTORY-1' })], 'append');
    // WhatsApp delivers the same message again (a reconnect replays it).
    await socket.receive([hello]);
    await connection.settled();

    const messages = await messagesOf(channelAccountId);
    const inbound = messages.filter((message) => message.direction === 'inbound');
    expect(inbound.map((message) => message.providerMessageId)).toEqual(['MSG-HELLO-1']);
    expect(messages.filter((message) => message.direction === 'outbound')).toHaveLength(1);
  });

  it('a LID chat keeps its jid as the address and takes the phone number from the alternate jid', async () => {
    const { channelAccountId, baileys, connection } = await connect();
    await baileys.latest().open();
    await baileys.latest().receive([customerText('98765432109876@lid', 'hello', { id: 'MSG-LID-1', remoteJidAlt: '237670000033@s.whatsapp.net' })]);
    await connection.settled();
    const [inbound] = (await messagesOf(channelAccountId)).filter((message) => message.direction === 'inbound');
    expect(inbound?.providerMessageId).toBe('MSG-LID-1');
    const [contact] = await db.withTenant(tenantId, (tx) => tx.select().from(contacts).where(and(eq(contacts.tenantId, tenantId), eq(contacts.phoneE164, '+237670000033'))));
    expect(contact?.name).toBe('Customer');
    const [identity] = await db.withTenant(tenantId, (tx) => tx.select().from(contactIdentities).where(and(eq(contactIdentities.tenantId, tenantId), eq(contactIdentities.contactId, contact!.id))));
    expect(identity?.externalId).toBe('98765432109876@lid');
  });

  it('401 logged out: auth state cleared, account in error, lease released, no reconnect', async () => {
    const { channelAccountId, baileys, waits, connection } = await connect();
    await baileys.latest().emit({ 'creds.update': { me: { id: '237699000333:1@s.whatsapp.net' } } });
    await baileys.latest().open();
    await baileys.latest().close(401);
    expect(connection.state).toBe('logged_out');
    expect(baileys.sockets).toHaveLength(1);
    expect(waits).toEqual([]);
    const rows = await db.withTenant(tenantId, (tx) => tx.select().from(whatsappAuthState).where(eq(whatsappAuthState.channelAccountId, channelAccountId)));
    expect(rows).toEqual([]);
    expect(await statusOf(channelAccountId)).toBe('error');
    expect(await leaseOf(channelAccountId)).toBeUndefined();
  });

  it('440 replaced: stops without a reconnect loop, and leaves the lease alone', async () => {
    const { channelAccountId, baileys, waits, connection } = await connect();
    await baileys.latest().open();
    await baileys.latest().close(440);
    expect(connection.state).toBe('replaced');
    expect(connection.finished).toBe(true);
    expect(baileys.sockets).toHaveLength(1);
    expect(waits).toEqual([]);
    expect((await leaseOf(channelAccountId))?.owner).toBe('process-a');
    expect(await statusOf(channelAccountId)).toBe('active');
  });

  it('500 and other closes: reconnects with growing backoff, reset once open', async () => {
    const { baileys, waits, connection } = await connect();
    await baileys.latest().open();
    await baileys.latest().close(500);
    await baileys.latest().close(408);
    await baileys.latest().close(503);
    expect(baileys.sockets).toHaveLength(4);
    expect(waits).toEqual([1_000, 2_000, 4_000]);
    await baileys.latest().open();
    expect(connection.state).toBe('open');
    await baileys.latest().close(428);
    expect(waits).toEqual([1_000, 2_000, 4_000, 1_000]);
    // Events of a socket already replaced change nothing.
    await baileys.sockets[0]!.close(500);
    expect(baileys.sockets).toHaveLength(5);
  });

  it('the lease: a second process does not connect the number while the first holds it, and takes over when it stops', async () => {
    const first = await connect({ owner: 'process-a', renewEveryMs: 20 });
    await first.baileys.latest().open();
    const secondBaileys = fakeBaileys();
    const second = new WhatsAppConnections('process-b');
    opened.push(second);
    const waiting: WhatsAppConnection = second.open({ db, secrets, clock: systemClock, makeSocket: secondBaileys.makeSocket }, { tenantId, channelAccountId: first.channelAccountId, renewEveryMs: 20 });
    // Let both renew and retry many times over.
    const taken = (await leaseOf(first.channelAccountId))!.updatedAt.getTime();
    await eventually(async () => ((await leaseOf(first.channelAccountId))!.updatedAt.getTime() > taken ? true : undefined), 10_000, 'a renewal');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(waiting.state).toBe('waiting_for_lease');
    expect(secondBaileys.sockets).toHaveLength(0);
    expect(first.baileys.sockets).toHaveLength(1);

    await first.connections.closeAll();
    expect(first.baileys.latest().ended).toBe(true);
    const socket = await eventually(async () => secondBaileys.sockets[0], 10_000, 'the second process connects');
    await socket.open();
    expect(second.socketOf(first.channelAccountId)).toBe(socket);
    expect((await leaseOf(first.channelAccountId))?.owner).toBe('process-b');
  });
});
