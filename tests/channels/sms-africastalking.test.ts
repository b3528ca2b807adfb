import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAfricasTalkingSmsSender } from '@relais/bots/sms';
import { ChannelSendError, createChannelAccount, createTenant, generateVouchers } from '@relais/core';
import { conversationMessages, wifiVouchers } from '@relais/db';
import { startAfricasTalkingSimulator, startCampaySimulator, type AfricasTalkingSimulator, type CampaySimulator, type SentSms } from '@relais/sim';
import { JOB_SCHEDULES } from '@relais/workers';
import { build } from '../../server/src/app.js';
import type { Services } from '../../server/src/services.js';
import { eventually, freePort } from '../support/relais-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';
import { insertWifiPackage } from '../support/wifi-fixtures.js';
import { gatewayReferenceOf as gatewayReferenceFor, latestTicket as latestTicketOf } from '../support/purchase-harness.js';

const SHORT_CODE = '8787';
const USERNAME = 'bonapriso';

// The purchase as a phone makes it by SMS: Africa's Talking simulator posting real form callbacks
// to the server's webhooks, the engine, the delivery queue sending through the simulator's API,
// CamPay simulator and its webhook, voucher by SMS.
describe("SMS over Africa's Talking: buying WiFi end to end", () => {
  let at: AfricasTalkingSimulator;
  let campay: CampaySimulator;
  let services: Services;
  let app: FastifyInstance;
  let tenantId: string;
  let channelId: string;
  let base: string;
  const apiKey = `atsk_${randomBytes(24).toString('hex')}`;
  const webhookSecret = randomBytes(24).toString('hex');

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    at = await startAfricasTalkingSimulator({ autoDeliveryReport: false });
    campay = await startCampaySimulator({ callbackUrl: `${base}/webhooks/campay/platform`, callbackMethod: 'POST', balance: { mtn: 10_000_000, orange: 10_000_000 } });
    services = await createTestServices(await createTestDatabase(), {
      campay: { baseUrl: campay.url, credentials: { kind: 'login', username: campay.credentials.username, password: campay.credentials.password }, webhookKey: campay.webhookKey },
    });
    app = await build(services, { adminWebBuildDirectory: false });
    await app.listen({ host: '127.0.0.1', port });
    // Every second instead of every 5 s: the test waits less, the jobs are the same.
    for (const scheduleId of ['outbox-dispatch', 'messages-deliver']) {
      const schedule = JOB_SCHEDULES.find((candidate) => candidate.scheduleId === scheduleId)!;
      await services.jobs.schedule(schedule.name, '* * * * * *', { scheduleId: schedule.scheduleId });
    }
    const created = await createTenant({ db: services.db, clock: services.clock }, { name: 'Wifi Zone Akwa', email: 'akwa@example.cm', mode: 'commission' });
    tenantId = created.tenant.id;
    const { id: packageId } = await insertWifiPackage(services.db, tenantId);
    await generateVouchers({ db: services.db }, { tenantId, packageId, count: 5 });
    const account = await createChannelAccount(
      { db: services.db, secrets: services.secrets },
      { tenantId, kind: 'sms', name: 'SMS 8787', externalId: SHORT_CODE, settings: { baseUrl: at.url, username: USERNAME }, secrets: { apiKey, webhookSecret } },
    );
    channelId = account.id;
    at.addAccount({
      username: USERNAME,
      apiKey,
      shortCodes: [SHORT_CODE],
      inboundSmsUrl: `${base}/webhooks/sms/${channelId}/inbound?secret=${webhookSecret}`,
      deliveryReportsUrl: `${base}/webhooks/sms/${channelId}/delivery-reports?secret=${webhookSecret}`,
    });
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    await at?.close();
    await campay?.close();
  });

  /** A phone writing to the short code, reading the SMS it receives in order. */
  function phone(number: string) {
    let seen = 0;
    return {
      async send(text: string) {
        const [callback] = await at.receiveSms({ from: number, to: SHORT_CODE, text });
        expect(callback).toMatchObject({ outcome: 'sent', status: 200 });
      },
      /** The next SMS received that matches, skipping earlier ones. */
      async receive(what: string, test: (sms: SentSms) => boolean): Promise<SentSms> {
        return eventually(
          async () => {
            const inbox = at.messages({ to: number });
            const index = inbox.findIndex((sms, position) => position >= seen && test(sms));
            if (index < 0) return undefined;
            seen = index + 1;
            return inbox[index];
          },
          30_000,
          what,
        );
      },
    };
  }

  const latestTicket = () => latestTicketOf(services, tenantId);

  const gatewayReferenceOf = (ticketId: string, attemptNumber: number) => gatewayReferenceFor(services, tenantId, ticketId, attemptNumber);

  async function messageRows() {
    return services.db.withTenant(tenantId, (tx) => tx.select().from(conversationMessages).where(eq(conversationMessages.tenantId, tenantId)));
  }

  it('in French: menu, package, payment pushed to the sender’s own number, voucher code by SMS', async () => {
    const customer = phone('+237670000011');
    await customer.send('bonjour');
    const welcome = await customer.receive('the welcome', (sms) => sms.message.includes('Bienvenue'));
    expect(welcome.message).toContain('1. Francais\n2. English');
    await customer.send('1');
    const menu = await customer.receive('the menu', (sms) => sms.message.includes('1. Acheter du WiFi'));
    expect(menu.message).toContain('Que voulez-vous faire ?');
    await customer.send('1');
    const packages = await customer.receive('the packages', (sms) => sms.message.includes('Quel forfait'));
    expect(packages.message).toContain('1. 1 jour - 500 FCFA');
    await customer.send('1');
    // No number asked: the SMS comes from the customer's own phone.
    await customer.receive('the payment request', (sms) => sms.message.includes('Je demande 500 FCFA au +237670000011'));
    await customer.receive('the USSD code to dial', (sms) => sms.message.includes('*126#'));

    const ticket = await latestTicket();
    expect(ticket.subject).toBe('Achat WiFi : 1 jour');
    await campay.approve(await gatewayReferenceOf(ticket.id, 1));
    const voucherSms = await customer.receive('the voucher', (sms) => sms.message.includes('Paiement recu'));
    const [voucher] = await services.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.ticketId, ticket.id))));
    expect(voucherSms.message).toContain(`Votre code WiFi : ${voucher!.username}`);
    expect(voucherSms.message).toContain('valable 1 jour');

    // Plain GSM-7, never more than three parts, from the account's own username.
    for (const sms of at.messages({ to: '+237670000011' })) {
      expect(sms).toMatchObject({ encoding: 'GSM-7', username: USERNAME });
      expect(sms.parts).toBeLessThanOrEqual(3);
    }
    // Every reply was sent once and recorded with Africa's Talking's id.
    const outbound = (await messageRows()).filter((row) => row.direction === 'outbound' && row.status !== 'pending');
    expect(outbound.filter((row) => row.providerMessageId?.startsWith('ATXid_')).length).toBeGreaterThanOrEqual(6);
  });

  it('in English: a declined payment is explained, retried by answering "1", then paid', async () => {
    const customer = phone('+237690000012');
    await customer.send('hello');
    await customer.receive('the welcome', (sms) => sms.message.includes('Welcome'));
    await customer.send('2');
    await customer.receive('the menu', (sms) => sms.message.includes('1. Buy WiFi'));
    await customer.send('1');
    const packages = await customer.receive('the packages', (sms) => sms.message.includes('Which package'));
    expect(packages.message).toContain('1. 1 day - 500 FCFA');
    await customer.send('1');
    await customer.receive('the payment request', (sms) => sms.message.includes('I am requesting 500 FCFA from +237690000012'));
    await customer.receive('the Orange code to dial', (sms) => sms.message.includes('#150*50#'));
    const ticket = await latestTicket();

    await campay.decline(await gatewayReferenceOf(ticket.id, 1));
    const failure = await customer.receive('the failure', (sms) => sms.message.includes('did not go through'));
    expect(failure.message).toContain('1. Try again\n2. Another number\n3. Menu');
    await customer.send('1');
    await customer.receive('the second request', (sms) => sms.message.includes('I am requesting 500 FCFA from +237690000012'));
    await campay.approve(await gatewayReferenceOf(ticket.id, 2));
    const voucherSms = await customer.receive('the voucher', (sms) => sms.message.includes('Payment received'));
    expect(voucherSms.message).toContain('Your WiFi code: ');
    expect(voucherSms.message).toContain('valid for 1 day');
  });

  it('answers the same inbound SMS (same id) once, even delivered twice at the same time', async () => {
    const outboundCount = async () => (await messageRows()).filter((row) => row.direction === 'outbound').length;
    const before = await outboundCount();
    const form = new URLSearchParams({ from: '+237670000013', to: SHORT_CODE, text: 'bonjour', date: new Date().toISOString(), id: 'at-inbound-dup-1', linkId: 'link-1' }).toString();
    const post = () => fetch(`${base}/webhooks/sms/${channelId}/inbound?secret=${webhookSecret}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    const answers = await Promise.all([post(), post()]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as { duplicate: boolean }[];
    expect(bodies.map((body) => body.duplicate).sort()).toEqual([false, true]);
    expect((await messageRows()).filter((row) => row.providerMessageId === 'at-inbound-dup-1')).toHaveLength(1);
    expect(await outboundCount()).toBe(before + 1);
    const welcome = await phone('+237670000013').receive('the single welcome', (sms) => sms.message.includes('Bienvenue'));
    // Recorded as sent with Africa's Talking's id: the queue has nothing left to send for it.
    await eventually(async () => (await messageRows()).find((row) => row.providerMessageId === welcome.messageId && row.status === 'sent'), 30_000, 'the welcome recorded');
    expect(at.messages({ to: '+237670000013' })).toHaveLength(1);
  });

  it('records delivery reports: Success -> delivered, Failed -> dead with the reason', async () => {
    const customer = phone('+237670000014');
    await customer.send('bonjour');
    const welcome = await customer.receive('the welcome', (sms) => sms.message.includes('Bienvenue'));
    const rowOf = async (messageId: string) =>
      eventually(async () => (await messageRows()).find((row) => row.providerMessageId === messageId), 30_000, `the row of ${messageId}`);
    expect((await rowOf(welcome.messageId)).status).toBe('sent');
    const [report] = await at.deliveryReport(welcome.messageId, { status: 'Success' });
    expect(report).toMatchObject({ outcome: 'sent', status: 200 });
    const delivered = await rowOf(welcome.messageId);
    expect(delivered.status).toBe('delivered');
    expect(delivered.deliveredAt).toBeInstanceOf(Date);

    await customer.send('1');
    const menu = await customer.receive('the menu', (sms) => sms.message.includes('1. Acheter du WiFi'));
    await rowOf(menu.messageId);
    await eventually(async () => ((await rowOf(menu.messageId)).status === 'sent' ? true : undefined), 30_000, 'menu sent');
    await at.deliveryReport(menu.messageId, { status: 'Failed', failureReason: 'AbsentSubscriber' });
    const failed = await rowOf(menu.messageId);
    expect(failed).toMatchObject({ status: 'dead', lastError: 'undeliverable: AbsentSubscriber' });
    // A late Success changes nothing once the message is settled.
    await at.deliveryReport(menu.messageId, { status: 'Success' });
    expect((await rowOf(menu.messageId)).status).toBe('dead');
  });

  it('refuses a wrong or missing secret (401) and an unknown channel (404), storing nothing', async () => {
    const before = await messageRows();
    const form = new URLSearchParams({ from: '+237670000015', to: SHORT_CODE, text: 'bonjour', id: 'at-inbound-forged', date: new Date().toISOString() }).toString();
    const post = (path: string) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect((await post(`/webhooks/sms/${channelId}/inbound?secret=not-the-secret`)).status).toBe(401);
    expect((await post(`/webhooks/sms/${channelId}/inbound`)).status).toBe(401);
    expect((await post(`/webhooks/sms/${channelId}/inbound?secret=${webhookSecret.slice(0, -1)}`)).status).toBe(401);
    expect((await post(`/webhooks/sms/${channelId}/delivery-reports?secret=nope`)).status).toBe(401);
    expect((await post(`/webhooks/sms/00000000-0000-4000-8000-000000000000/inbound?secret=${webhookSecret}`)).status).toBe(404);
    expect((await post(`/webhooks/sms/not-a-uuid/inbound?secret=${webhookSecret}`)).status).toBe(404);
    const unauthorised = await post(`/webhooks/sms/${channelId}/inbound?secret=wrong`);
    expect(JSON.stringify(await unauthorised.json())).not.toContain(webhookSecret);
    expect(await messageRows()).toHaveLength(before.length);
  });

  it('answers malformed callbacks with 400 and stores nothing', async () => {
    const before = await messageRows();
    const post = (path: string, body: string, contentType = 'application/x-www-form-urlencoded') =>
      fetch(`${base}/webhooks/sms/${channelId}/${path}?secret=${webhookSecret}`, { method: 'POST', headers: { 'content-type': contentType }, body });
    expect((await post('inbound', new URLSearchParams({ from: '+237670000016', text: 'bonjour' }).toString())).status).toBe(400);
    expect((await post('inbound', 'garbage')).status).toBe(400);
    expect((await post('delivery-reports', new URLSearchParams({ id: 'ATXid_x', status: 'Exploded' }).toString())).status).toBe(400);
    expect((await post('inbound', '{"from":"+237670000016"}', 'application/json')).status).toBe(400);
    expect(await messageRows()).toHaveLength(before.length);
    // The server is still up.
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});

describe("the Africa's Talking SMS sender", () => {
  let at: AfricasTalkingSimulator;
  const apiKey = `atsk_${randomBytes(24).toString('hex')}`;
  const request = (recipient: string, text = 'Votre code WiFi : abc123') => ({ tenantId: '00000000-0000-4000-8000-000000000001', channelAccountId: '00000000-0000-4000-8000-000000000002', recipient, body: { text }, messageId: 'm1' });

  beforeAll(async () => {
    at = await startAfricasTalkingSimulator({ autoDeliveryReport: false, accounts: [{ username: 'tenant-a', apiKey, senderIds: ['AKWAWIFI'] }, { username: 'sandbox', apiKey: 'sandbox-key-123' }] });
  });
  afterAll(async () => {
    await at?.close();
  });

  it("sends to the account's own base URL with its username and sender id, and returns Africa's Talking's id", async () => {
    const sender = createAfricasTalkingSmsSender({ baseUrl: at.url, username: 'tenant-a', apiKey, senderId: 'AKWAWIFI' });
    const sent = await sender.send(request('+237670000031', 'Paiement reçu « merci »'));
    const [sms] = at.messages({ to: '+237670000031' });
    expect(sent.providerMessageId).toBe(sms!.messageId);
    expect(sms).toMatchObject({ username: 'tenant-a', from: 'AKWAWIFI', message: 'Paiement recu "merci"', encoding: 'GSM-7' });
    // A sandbox tenant in the same process changes nothing for the others (no process-wide switch).
    const sandbox = createAfricasTalkingSmsSender({ baseUrl: at.url, username: 'sandbox', apiKey: 'sandbox-key-123' });
    await sandbox.send(request('+237670000032'));
    await sender.send(request('+237670000033'));
    expect(at.messages({ to: '+237670000033' })[0]!.username).toBe('tenant-a');
  });

  it('classifies failures: refused recipients are permanent, server errors and timeouts retryable, the key never quoted', async () => {
    const sender = createAfricasTalkingSmsSender({ baseUrl: at.url, username: 'tenant-a', apiKey, timeoutMs: 500 });
    const failureOf = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ChannelSendError);
      expect(String((error as Error).message)).not.toContain(apiKey);
      return error as ChannelSendError;
    };
    at.blacklist('+237670000041');
    expect(await failureOf(sender.send(request('+237670000041')))).toMatchObject({ permanent: true, message: expect.stringContaining('406') });
    expect((await failureOf(sender.send(request('0670000041')))).permanent).toBe(true);
    at.setFaults({ failNext: { status: 500, times: 1 } });
    expect(await failureOf(sender.send(request('+237670000042')))).toMatchObject({ permanent: false, message: expect.stringContaining('500') });
    at.setFaults({ latencyMs: 2_000 });
    expect(await failureOf(sender.send(request('+237670000043')))).toMatchObject({ permanent: false, message: "Africa's Talking did not answer in time" });
    at.setFaults({ latencyMs: 0 });
    const wrongKey = createAfricasTalkingSmsSender({ baseUrl: at.url, username: 'tenant-a', apiKey: `${apiKey}-old` });
    expect(await failureOf(wrongKey.send(request('+237670000044')))).toMatchObject({ permanent: false, message: expect.stringContaining('401') });
    const wrongSender = createAfricasTalkingSmsSender({ baseUrl: at.url, username: 'tenant-a', apiKey, senderId: 'OTHER' });
    expect(await failureOf(wrongSender.send(request('+237670000045')))).toMatchObject({ permanent: true, message: expect.stringContaining('402') });
    const unreachable = createAfricasTalkingSmsSender({ baseUrl: 'http://127.0.0.1:1', username: 'tenant-a', apiKey });
    expect((await failureOf(unreachable.send(request('+237670000046')))).permanent).toBe(false);
  });
});
