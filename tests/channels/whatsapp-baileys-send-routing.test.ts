import { randomBytes } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannelAccount, createLocalDiskFileStore, createMessagePacer, createSecretBox, createTenant, deliverPendingMessages, systemClock, type ChannelSender } from '@relais/core';
import { conversationMessages, type DriverName } from '@relais/db';
import { WHATSAPP_CAPABILITIES, WhatsAppConnections } from '@relais/bots/whatsapp';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/relais-process.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/test-database.js';
import { customerText, fakeBaileys, textOfSent } from './whatsapp-baileys-fake-socket.js';

// Two "processes" (two connection managers, each with its own fake WhatsApp) share one database:
// a number's messages are sent by the process holding its lease and by no other, the generic
// delivery job leaves them alone, and the next holder sends what was left pending.
describe.each(testDrivers())('WhatsApp (Baileys) sends routed to the number’s lease owner on %s', (driver: DriverName) => {
  let test: TestDatabase;
  let filesDir: string;
  const secrets = createSecretBox(randomBytes(32));
  // Long ticks: runs happen on the managers' own triggers (a socket opening, a customer's turn) or when the test asks.
  const managerOptions = { deliverEveryMs: 3_600_000 };
  const first = new WhatsAppConnections('process-1', managerOptions);
  const second = new WhatsAppConnections('process-2', managerOptions);

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    filesDir = await mkdtemp(join(tmpdir(), 'relais-wa-routing-'));
  });
  afterAll(async () => {
    await first.closeAll();
    await second.closeAll();
    await test?.drop();
    if (filesDir) await rm(filesDir, { recursive: true, force: true });
  });

  it('only the owner sends a number’s messages; the generic job never claims them; the next owner sends what was pending', async () => {
    const deps = { db: test.db, secrets, clock: systemClock, fileStore: createLocalDiskFileStore(filesDir) };
    const { tenant } = await createTenant(deps, { name: 'Wifi Zone Akwa', email: `akwa-routing-${driver}@example.cm` });
    const numberA = await createChannelAccount(deps, { tenantId: tenant.id, kind: 'whatsapp', name: 'Number A' });
    const numberB = await createChannelAccount(deps, { tenantId: tenant.id, kind: 'whatsapp', name: 'Number B' });
    const whatsapp1 = fakeBaileys();
    const whatsapp2 = fakeBaileys();

    // Process 1 holds A; process 2 holds B.
    first.open({ ...deps, makeSocket: whatsapp1.makeSocket }, { tenantId: tenant.id, channelAccountId: numberA.id });
    const socketA1 = await eventually(async () => whatsapp1.sockets[0], 10_000, 'process 1’s socket for A');
    await socketA1.open();
    second.open({ ...deps, makeSocket: whatsapp2.makeSocket }, { tenantId: tenant.id, channelAccountId: numberB.id });
    const socketB2 = await eventually(async () => whatsapp2.sockets[0], 10_000, 'process 2’s socket for B');
    await socketB2.open();
    expect(first.deliveringFor).toEqual([numberA.id]);
    expect(second.deliveringFor).toEqual([numberB.id]);

    // A customer writes to A: the reply leaves through process 1's socket right after the turn.
    const jid = '237670001122@s.whatsapp.net';
    await socketA1.receive([customerText(jid, 'Bonjour', { pushName: 'Awa' })]);
    const reply = await eventually(async () => socketA1.sent.find((message) => message.jid === jid), 10_000, 'the reply on A');
    expect(textOfSent(reply.content).length).toBeGreaterThan(0);
    // Process 2 delivering meanwhile sends nothing of A's.
    await second.deliverNow();
    expect(socketB2.sent).toEqual([]);

    const rowsOfA = () =>
      test.db.withTenant(tenant.id, (tx) =>
        tx
          .select()
          .from(conversationMessages)
          .where(and(eq(conversationMessages.tenantId, tenant.id), eq(conversationMessages.channelAccountId, numberA.id)))
          .orderBy(asc(conversationMessages.seq)),
      );
    const conversationId = (await rowsOfA())[0]!.conversationId;
    await eventually(async () => ((await rowsOfA()).filter((row) => row.direction === 'outbound').every((row) => row.status === 'sent') ? true : undefined), 10_000, 'the replies settled');

    // Process 1 stops (a deploy): A's lease is released; a message for A is written meanwhile.
    await first.closeAll();
    const [pending] = await test.db.withTenant(tenant.id, (tx) =>
      tx
        .insert(conversationMessages)
        .values({ tenantId: tenant.id, conversationId, channelAccountId: numberA.id, direction: 'outbound', body: { text: 'Votre ticket a été résolu.' }, status: 'pending' })
        .returning(),
    );

    // The generic delivery job (every channel but Baileys) does not claim it, whatever its sender would do.
    const claimedByGeneric: string[] = [];
    const anySender: ChannelSender = {
      capabilities: WHATSAPP_CAPABILITIES,
      limits: { perChatPerSecond: 100, perAccountPerSecond: 100 },
      send: async (request) => {
        claimedByGeneric.push(request.messageId);
        return {};
      },
    };
    const generic = await deliverPendingMessages(
      { db: test.db, clock: systemClock, fileStore: deps.fileStore, pacer: createMessagePacer(), senderFor: () => anySender },
      { excludeKinds: ['whatsapp'], maxRounds: 3 },
    );
    expect(generic.sent + generic.retried + generic.dead + generic.deferred).toBe(0);
    expect(claimedByGeneric).toEqual([]);
    // Nor does process 2, which holds only B.
    await second.deliverNow();
    expect(socketB2.sent).toEqual([]);
    const untouched = (await rowsOfA()).find((row) => row.id === pending!.id)!;
    expect({ status: untouched.status, attempts: untouched.attempts }).toEqual({ status: 'pending', attempts: 0 });

    // Process 2 takes A (the lease is free) and sends what waited, once its socket is open.
    second.open({ ...deps, makeSocket: whatsapp2.makeSocket }, { tenantId: tenant.id, channelAccountId: numberA.id });
    const socketA2 = await eventually(async () => whatsapp2.sockets[1], 10_000, 'process 2’s socket for A');
    await socketA2.open();
    const resent = await eventually(async () => socketA2.sent.find((message) => message.jid === jid), 10_000, 'the pending message on A, from process 2');
    expect(textOfSent(resent.content)).toBe('Votre ticket a été résolu.');
    const settled = await eventually(async () => {
      const row = (await rowsOfA()).find((candidate) => candidate.id === pending!.id)!;
      return row.status === 'sent' ? row : undefined;
    }, 10_000, 'the pending message settled');
    // One try: nobody claimed it before its owner did.
    expect(settled.attempts).toBe(1);
    // Process 1's old socket sent nothing after it stopped; B's socket never carried A's chat.
    expect(socketA1.sent.filter((message) => textOfSent(message.content) === 'Votre ticket a été résolu.')).toEqual([]);
    expect(socketB2.sent).toEqual([]);
    expect(second.deliveringFor.sort()).toEqual([numberA.id, numberB.id].sort());
  });
});
