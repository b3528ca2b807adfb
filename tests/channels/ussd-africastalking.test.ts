import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitUssdScreen } from '@relais/bots/ussd';
import { createChannelAccount, createTenant, generateVouchers } from '@relais/core';
import { conversationMessages, wifiVouchers } from '@relais/db';
import { startAfricasTalkingSimulator, startCampaySimulator, type AfricasTalkingSimulator, type CampaySimulator, type SentSms, type UssdSession } from '@relais/sim';
import { JOB_SCHEDULES } from '@relais/workers';
import { build } from '../../server/src/app.js';
import type { Services } from '../../server/src/services.js';
import { eventually, freePort } from '../support/relais-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';
import { insertWifiPackage } from '../support/wifi-fixtures.js';
import { gatewayReferenceOf as gatewayReferenceFor, latestTicket as latestTicketOf } from '../support/purchase-harness.js';

const SERVICE_CODE = '*384*123#';
const USERNAME = 'akwa-ussd';

// USSD as a phone dials it: the Africa's Talking simulator plays the gateway against the server's
// callback, step by step; what the conversation says after the session (the USSD code to dial,
// the voucher, a failure) is pushed as SMS through the same Africa's Talking app.
describe("USSD over Africa's Talking: buying WiFi end to end", () => {
  let at: AfricasTalkingSimulator;
  let campay: CampaySimulator;
  let services: Services;
  let app: FastifyInstance;
  let tenantId: string;
  let callbackUrl: string;
  let channelId: string;
  let base: string;
  const apiKey = `atsk_${randomBytes(24).toString('hex')}`;
  const webhookSecret = randomBytes(24).toString('hex');

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    at = await startAfricasTalkingSimulator({ autoDeliveryReport: false, accounts: [{ username: USERNAME, apiKey }] });
    campay = await startCampaySimulator({ callbackUrl: `${base}/webhooks/campay/platform`, callbackMethod: 'POST', balance: { mtn: 10_000_000, orange: 10_000_000 } });
    services = await createTestServices(await createTestDatabase(), {
      campay: { baseUrl: campay.url, credentials: { kind: 'login', username: campay.credentials.username, password: campay.credentials.password }, webhookKey: campay.webhookKey },
    });
    app = await build(services, { adminWebBuildDirectory: false });
    await app.listen({ host: '127.0.0.1', port });
    for (const scheduleId of ['outbox-dispatch', 'messages-deliver']) {
      const schedule = JOB_SCHEDULES.find((candidate) => candidate.scheduleId === scheduleId)!;
      await services.jobs.schedule(schedule.name, '* * * * * *', { scheduleId: schedule.scheduleId });
    }
    const created = await createTenant({ db: services.db, clock: services.clock }, { name: 'Wifi Zone Akwa Nord', email: 'akwa-nord@example.cm', mode: 'commission' });
    tenantId = created.tenant.id;
    const { id: packageId } = await insertWifiPackage(services.db, tenantId);
    const week = await insertWifiPackage(services.db, tenantId, { nameFr: '1 semaine', nameEn: '1 week', priceXaf: 2_500, validityMinutes: 7 * 24 * 60, mikrotikProfile: '1semaine' });
    await generateVouchers({ db: services.db }, { tenantId, packageId, count: 5 });
    await generateVouchers({ db: services.db }, { tenantId, packageId: week.id, count: 2 });
    const account = await createChannelAccount(
      { db: services.db, secrets: services.secrets },
      { tenantId, kind: 'ussd', name: 'USSD *384*123#', externalId: SERVICE_CODE, settings: { baseUrl: at.url, username: USERNAME }, secrets: { apiKey, webhookSecret } },
    );
    channelId = account.id;
    callbackUrl = `${base}/webhooks/ussd/${channelId}?secret=${webhookSecret}`;
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    await at?.close();
    await campay?.close();
  });

  const dial = (phoneNumber: string, url = callbackUrl) => at.ussd.dial(SERVICE_CODE, phoneNumber, { callbackUrl: url });

  /** Every screen of the session was a valid USSD answer: ASCII, at most 182 characters, CON/END, text/plain. */
  function expectWellFormed(session: UssdSession) {
    for (const screen of session.screens) {
      expect(screen.problems, screen.raw).toEqual([]);
      expect(screen.text.length).toBeLessThanOrEqual(182);
    }
  }

  const smsTo = (phoneNumber: string) => at.messages({ to: phoneNumber });
  const waitForSms = (phoneNumber: string, what: string, test: (sms: SentSms) => boolean) =>
    eventually(async () => smsTo(phoneNumber).find(test), 30_000, what);

  const latestTicket = () => latestTicketOf(services, tenantId);

  const gatewayReferenceOf = (ticketId: string, attemptNumber: number) => gatewayReferenceFor(services, tenantId, ticketId, attemptNumber);

  const messageRows = () => services.db.withTenant(tenantId, (tx) => tx.select().from(conversationMessages).where(eq(conversationMessages.tenantId, tenantId)));

  it('in French: dial, CON menus, END with the payment request; the code to dial and the voucher arrive by SMS', async () => {
    const phone = '+237670000021';
    const session = await dial(phone);
    expect(session.screen.kind).toBe('CON');
    expect(session.screen.text).toContain('Bienvenue chez Wifi Zone Akwa Nord');
    expect(session.screen.text).toContain('1. Francais\n2. English');
    const menu = await session.reply('1');
    expect(menu.kind).toBe('CON');
    expect(menu.text).toContain('1. Acheter du WiFi');
    const packages = await session.reply('1');
    expect(packages.kind).toBe('CON');
    expect(packages.text).toContain('1. 1 jour - 500 FCFA\n2. 1 semaine - 2 500 FCFA');
    const requested = await session.reply('1');
    expect(requested).toMatchObject({ kind: 'END' });
    expect(requested.text).toContain('Je demande 500 FCFA au +237670000021');
    expectWellFormed(session);

    // The in-session screens were never sent again as SMS; the rest of the conversation is.
    const dialCode = await waitForSms(phone, 'the code to dial', (sms) => sms.message.includes('*126#'));
    expect(dialCode).toMatchObject({ username: USERNAME, encoding: 'GSM-7' });
    const ticket = await latestTicket();
    await campay.approve(await gatewayReferenceOf(ticket.id, 1));
    const voucherSms = await waitForSms(phone, 'the voucher', (sms) => sms.message.includes('Paiement recu'));
    const [voucher] = await services.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.ticketId, ticket.id))));
    expect(voucherSms.message).toContain(`Votre code WiFi : ${voucher!.username}`);
    expect(smsTo(phone).map((sms) => sms.message)).toEqual([dialCode.message, voucherSms.message]);

    // Dialling again: "Mon WiFi" shows the code on screen, and ends the session.
    const again = await dial(phone);
    expect(again.screen.kind).toBe('CON');
    expect(again.screen.text).toContain('1. Acheter du WiFi');
    const myWifi = await again.reply('2');
    expect(myWifi.kind).toBe('END');
    expect(myWifi.text).toContain(voucher!.username);
    expectWellFormed(again);
    // Answered in the session: no SMS for it.
    expect(smsTo(phone)).toHaveLength(2);
  });

  it('in English: a declined payment is explained by SMS; dialling again buys again, and the voucher follows', async () => {
    const phone = '+237690000022';
    const session = await dial(phone);
    await session.reply('2');
    expect(session.screen.kind).toBe('CON');
    expect(session.screen.text).toContain('1. Buy WiFi');
    const packages = await session.reply('1');
    expect(packages.text).toContain('1. 1 day - 500 FCFA');
    const requested = await session.reply('1');
    expect(requested.kind).toBe('END');
    expect(requested.text).toContain('I am requesting 500 FCFA from +237690000022');
    expectWellFormed(session);
    await waitForSms(phone, 'the Orange code to dial', (sms) => sms.message.includes('#150*50#'));
    const first = await latestTicket();

    await campay.decline(await gatewayReferenceOf(first.id, 1));
    const failure = await waitForSms(phone, 'the failure', (sms) => sms.message.includes('did not go through'));
    expect(failure.encoding).toBe('GSM-7');

    // The retry happens where the customer is: on the USSD menu again.
    const retry = await dial(phone);
    expect(retry.screen.kind).toBe('CON');
    expect(retry.screen.text).toContain('1. Buy WiFi');
    await retry.reply('1');
    const requestedAgain = await retry.reply('1');
    expect(requestedAgain.kind).toBe('END');
    expect(requestedAgain.text).toContain('I am requesting 500 FCFA from +237690000022');
    expectWellFormed(retry);
    const second = await latestTicket();
    expect(second.id).not.toBe(first.id);
    await campay.approve(await gatewayReferenceOf(second.id, 1));
    const voucherSms = await waitForSms(phone, 'the voucher', (sms) => sms.message.includes('Payment received'));
    expect(voucherSms.message).toContain('valid for 1 day');
  });

  it('answers a repeated step (the gateway retrying the same request) once', async () => {
    const post = (text: string) =>
      fetch(callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ sessionId: 'ATUid_repeat', serviceCode: SERVICE_CODE, phoneNumber: '+237670000023', networkCode: '62401', text }).toString(),
      });
    const first = await post('');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('text/plain');
    expect(await first.text()).toMatch(/^CON Bienvenue/);
    const [again, andAgain] = await Promise.all([post(''), post('')]);
    expect(await again.text()).toMatch(/^CON /);
    expect(await andAgain.text()).toMatch(/^CON /);
    const rows = (await messageRows()).filter((row) => row.providerMessageId === 'ATUid_repeat:0');
    expect(rows).toHaveLength(1);
    const step = await post('1');
    expect(await step.text()).toContain('1. Acheter du WiFi');
  });

  it('refuses a wrong or missing secret (401) and an unknown channel (404), storing nothing', async () => {
    const before = (await messageRows()).length;
    const wrong = await dial('+237670000024', `${base}/webhooks/ussd/${channelId}?secret=wrong`);
    expect(wrong.screen).toMatchObject({ kind: 'invalid', status: 401 });
    const missing = await dial('+237670000024', `${base}/webhooks/ussd/${channelId}`);
    expect(missing.screen.status).toBe(401);
    const unknown = await dial('+237670000024', `${base}/webhooks/ussd/00000000-0000-4000-8000-000000000000?secret=${webhookSecret}`);
    expect(unknown.screen.status).toBe(404);
    // An SMS callback secret of this USSD account does not open the SMS inbound route either.
    const viaSms = await fetch(`${base}/webhooks/sms/${channelId}/inbound?secret=${webhookSecret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ from: '+237670000024', to: '8787', text: 'bonjour', id: 'x1' }).toString(),
    });
    expect(viaSms.status).toBe(404);
    expect(await messageRows()).toHaveLength(before);
  });

  it('answers malformed requests with 400', async () => {
    const post = (body: string) => fetch(callbackUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect((await post(new URLSearchParams({ serviceCode: SERVICE_CODE, phoneNumber: '+237670000025', text: '' }).toString())).status).toBe(400);
    expect((await post('%%%')).status).toBe(400);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});

describe('fitting replies into one USSD screen', () => {
  it('keeps the last reply (the question) whole and drops acknowledgements before it when needed', () => {
    const menu = `Que voulez-vous faire ?\n${['Acheter du WiFi', 'Mon WiFi', 'Ouvrir un ticket', 'Mes tickets', 'Parler à un agent', 'English'].map((label, index) => `${index + 1}. ${label}`).join('\n')}`;
    expect(fitUssdScreen(['C’est noté, je vous parle en français.', menu])).toBe(`C'est note, je vous parle en francais.\n${menu.replace('à', 'a')}`);
    const long = 'x'.repeat(150);
    expect(fitUssdScreen([long, menu])).toBe(menu.replace('à', 'a'));
    const screen = fitUssdScreen(['é'.repeat(400)]);
    expect(screen.length).toBeLessThanOrEqual(182);
    expect(screen).toMatch(/^e+\.\.\.$/);
  });
});
