import { and, desc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannelAccount, createTenant, generateVouchers } from '@relais/core';
import { conversationMessages, paymentAttempts, payments, tickets, wifiVouchers } from '@relais/db';
import { processWhatsAppConnections, type WhatsAppConnection } from '@relais/bots/whatsapp';
import { JOB_SCHEDULES } from '@relais/workers';
import { startCampaySimulator, type CampaySimulator } from '@relais/sim';
import { build } from '../../server/src/app.js';
import type { Services } from '../../server/src/services.js';
import { eventually, freePort } from '../support/relais-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';
import { insertWifiPackage } from '../support/wifi-fixtures.js';
import { customerText, fakeBaileys, textOfSent, type FakeBaileysSocket } from './whatsapp-baileys-fake-socket.js';
import { decodeQrPng } from '../support/qr-code.js';


/** The number in front of `label` in a numbered list ("2. Acheter du WiFi"). */
function numberOf(text: string, label: string): string {
  const line = text.split('\n').find((candidate) => candidate.endsWith(` ${label}`));
  const number = line?.match(/^(\d+)\. /)?.[1];
  if (!number) throw new Error(`"${label}" is not in the list:\n${text}`);
  return number;
}

// A customer buys WiFi on a WhatsApp number linked through Baileys: the fake socket stands in for
// WhatsApp at Baileys' event boundary; the connection manager, the engine, the delivery queue (with
// the composition root's sender for kind 'whatsapp'), CamPay's simulator and the voucher are real.
describe('WhatsApp (Baileys): buying WiFi end to end', () => {
  let campay: CampaySimulator;
  let services: Services;
  let app: FastifyInstance;
  let tenantId: string;
  let connection: WhatsAppConnection;
  let socket: FakeBaileysSocket;
  let baileys: ReturnType<typeof fakeBaileys>;

  beforeAll(async () => {
    const port = await freePort();
    campay = await startCampaySimulator({ callbackUrl: `http://127.0.0.1:${port}/webhooks/campay/platform`, callbackMethod: 'POST', balance: { mtn: 10_000_000, orange: 10_000_000 } });
    services = await createTestServices(await createTestDatabase(), {
      campay: { baseUrl: campay.url, credentials: { kind: 'login', username: campay.credentials.username, password: campay.credentials.password }, webhookKey: campay.webhookKey },
    });
    app = await build(services, { adminWebBuildDirectory: false });
    await app.listen({ host: '127.0.0.1', port });
    for (const scheduleId of ['outbox-dispatch', 'messages-deliver']) {
      const schedule = JOB_SCHEDULES.find((candidate) => candidate.scheduleId === scheduleId)!;
      await services.jobs.schedule(schedule.name, '* * * * * *', { scheduleId: schedule.scheduleId });
    }
    tenantId = (await createTenant({ db: services.db, clock: services.clock }, { name: 'Wifi Zone Deido', email: 'wa-deido@example.cm', mode: 'commission' })).tenant.id;
    const { id: packageId } = await insertWifiPackage(services.db, tenantId);
    await generateVouchers({ db: services.db }, { tenantId, packageId, count: 3 });
    const account = await createChannelAccount(services, { tenantId, kind: 'whatsapp', name: 'WhatsApp Deido' });
    // The process-wide connections: the ones the server's sender for kind 'whatsapp' reads.
    baileys = fakeBaileys();
    connection = processWhatsAppConnections.open({ db: services.db, secrets: services.secrets, clock: services.clock, fileStore: services.fileStore, makeSocket: baileys.makeSocket }, { tenantId, channelAccountId: account.id });
    socket = await eventually(async () => baileys.sockets[0], 10_000, 'the socket');
    await socket.open();
  });
  afterAll(async () => {
    await processWhatsAppConnections.closeAll();
    await app?.close();
    await services?.close();
    await campay?.close();
  });

  function customer(jid: string, pushName: string) {
    let seen = 0;
    return {
      say: (text: string) => socket.receive([customerText(jid, text, { pushName })]),
      /** The next message sent to this chat (after the last one awaited) whose text passes `test`. */
      expectMessage: (what: string, test: (text: string, message: FakeBaileysSocket['sent'][number]) => boolean) =>
        eventually(
          async () => {
            const index = socket.sent.findIndex((message, position) => position >= seen && message.jid === jid && test(textOfSent(message.content), message));
            if (index < 0) return undefined;
            seen = index + 1;
            return socket.sent[index]!;
          },
          30_000,
          what,
        ),
    };
  }

  it('numbered menus, payment from the chat’s own number, then the voucher code under its QR image', async () => {
    const jid = '237670000011@s.whatsapp.net';
    const awa = customer(jid, 'Awa');
    await awa.say('bonjour');
    const languages = textOfSent((await awa.expectMessage('the language list', (text) => text.includes('Français'))).content);
    // Baileys has no reliable buttons: the choices are a numbered list.
    expect(languages).toMatch(/^1\. Français$/m);
    await awa.say(numberOf(languages, 'Français'));
    const menu = textOfSent((await awa.expectMessage('the menu', (text) => text.includes('Acheter du WiFi'))).content);
    await awa.say(numberOf(menu, 'Acheter du WiFi'));
    const packages = textOfSent((await awa.expectMessage('the packages', (text) => text.includes('1 jour - 500 FCFA'))).content);
    await awa.say(numberOf(packages, '1 jour - 500 FCFA'));
    // WhatsApp gives the number: the push goes to the chat's own number, no question asked.
    const requested = await awa.expectMessage('the payment request', (text) => text.includes('Je demande'));
    expect(textOfSent(requested.content)).toContain('+237670000011');
    await awa.expectMessage('the USSD code', (text) => text.includes('*126#'));

    const [ticket] = await services.db.withTenant(tenantId, (tx) => tx.select().from(tickets).where(eq(tickets.tenantId, tenantId)).orderBy(desc(tickets.number)).limit(1));
    const reference = await eventually(async () => {
      const [attempt] = await services.db.withTenant(tenantId, (tx) => tx.select().from(paymentAttempts).where(eq(paymentAttempts.ticketId, ticket!.id)));
      if (!attempt) return undefined;
      const [payment] = await services.db.withPlatform((tx) => tx.select().from(payments).where(eq(payments.externalReference, attempt.externalReference)));
      return payment?.gatewayReference ?? undefined;
    }, 30_000, 'gateway reference');
    await campay.approve(reference);

    const delivered = await awa.expectMessage('the voucher image', (_text, message) => 'image' in message.content);
    const [voucher] = await services.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.ticketId, ticket!.id))));
    const content = delivered.content as { image: Buffer; caption?: string; mimetype?: string };
    expect(content.caption).toContain(voucher!.username);
    expect(content.mimetype).toBe('image/png');
    expect(decodeQrPng(content.image)).toBe(voucher!.username);
    // The id WhatsApp gave the message is kept on its row.
    const [row] = await services.db.withTenant(tenantId, (tx) => tx.select().from(conversationMessages).where(eq(conversationMessages.providerMessageId, delivered.id)));
    expect(row?.status).toBe('sent');
  });

  it('while the number is disconnected, the reply waits unclaimed and leaves once it is back', async () => {
    const jid = '237690000022@s.whatsapp.net';
    const paul = customer(jid, 'Paul');
    // The socket drops (500); the customer's message arrives on the reconnect's socket before it opens.
    const dropped = socket;
    await dropped.close(500);
    socket = await eventually(async () => (baileys.latest() !== dropped ? baileys.latest() : undefined), 30_000, 'the reconnect socket');
    await paul.say('hello');
    // Only the number's owner sends, and only through an open socket: the reply waits, untried.
    const waiting = await eventually(async () => {
      const rows = await services.db.withTenant(tenantId, (tx) =>
        tx.select().from(conversationMessages).where(and(eq(conversationMessages.direction, 'outbound'), eq(conversationMessages.status, 'pending'))),
      );
      return rows[0];
    }, 30_000, 'a pending reply');
    expect(waiting.attempts).toBe(0);
    expect(socket.sent.some((message) => message.jid === jid)).toBe(false);

    // The reconnect's socket opens: the owner sends what waited at once.
    await socket.open();
    expect(connection.state).toBe('open');
    const reply = await paul.expectMessage('the reply after the reconnect', (text) => text.includes('English'));
    expect(reply.jid).toBe(jid);
  }, 60_000);
});
