import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannelAccount, createTenant, generateVouchers } from '@relais/core';
import { conversationMessages, wifiVouchers } from '@relais/db';
import { JOB_SCHEDULES } from '@relais/workers';
import { startCampaySimulator, startWhatsAppCloudSimulator, type CampaySimulator, type SentWaMessage, type WhatsAppCloudSimulator } from '@relais/sim';
import { build } from '../../server/src/app.js';
import type { Services } from '../../server/src/services.js';
import { eventually, freePort } from '../support/relais-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';
import { insertWifiPackage } from '../support/wifi-fixtures.js';
import { gatewayReferenceOf as gatewayReferenceFor, latestTicket as latestTicketOf } from '../support/purchase-harness.js';
import { decodeQrPng } from '../support/qr-code.js';

const PHONE_NUMBER_ID = '106540352242922';
const ACCESS_TOKEN = `EAAJ${'b0nApR1s'.repeat(12)}`;
// Random per run: nothing in the repository looks like a secret.
const APP_SECRET = randomBytes(16).toString('hex');
const HOUR_MS = 60 * 60 * 1000;


/** The choices an interactive message offers, as the customer sees them: [id, title]. */
function choicesOf(message: SentWaMessage): [string, string][] {
  const interactive = message.interactive;
  if (!interactive) return [];
  if (interactive.type === 'button') return interactive.action.buttons.map((button) => [button.reply.id, button.reply.title]);
  return interactive.action.sections.flatMap((section) => section.rows).map((row) => [row.id, row.title]);
}
const textOf = (message: SentWaMessage) => message.text ?? message.interactive?.body.text ?? message.image?.caption ?? '';

// A customer buys WiFi on WhatsApp: the Cloud API simulator posts signed events to the real app on
// a real port, replies leave through the delivery queue to the simulator's Graph API, CamPay's
// simulator collects and calls back, and the voucher's QR image is uploaded and sent.
describe('WhatsApp Cloud: buying WiFi end to end', () => {
  let campay: CampaySimulator;
  let wa: WhatsAppCloudSimulator;
  let services: Services;
  let app: FastifyInstance;
  let tenantId: string;
  /** How far the simulator's clock (Meta's) runs ahead: moves the 24-hour window. */
  let metaClockAheadMs = 0;

  beforeAll(async () => {
    const port = await freePort();
    campay = await startCampaySimulator({ callbackUrl: `http://127.0.0.1:${port}/webhooks/campay/platform`, callbackMethod: 'POST', balance: { mtn: 10_000_000, orange: 10_000_000 } });
    wa = await startWhatsAppCloudSimulator({ webhookRetryMs: 200, now: () => Date.now() + metaClockAheadMs });
    services = await createTestServices(await createTestDatabase(), {
      campay: { baseUrl: campay.url, credentials: { kind: 'login', username: campay.credentials.username, password: campay.credentials.password }, webhookKey: campay.webhookKey },
    });
    app = await build(services, { adminWebBuildDirectory: false });
    await app.listen({ host: '127.0.0.1', port });
    // The outbox (payments, vouchers) and the delivery queue every second rather than every 5 s.
    for (const scheduleId of ['outbox-dispatch', 'messages-deliver']) {
      const schedule = JOB_SCHEDULES.find((candidate) => candidate.scheduleId === scheduleId)!;
      await services.jobs.schedule(schedule.name, '* * * * * *', { scheduleId: schedule.scheduleId });
    }
    const created = await createTenant({ db: services.db, clock: services.clock }, { name: 'Wifi Zone Bonapriso', email: 'wa-bonapriso@example.cm', mode: 'commission' });
    tenantId = created.tenant.id;
    const { id: packageId } = await insertWifiPackage(services.db, tenantId);
    await generateVouchers({ db: services.db }, { tenantId, packageId, count: 6 });
    const account = await createChannelAccount(services, {
      tenantId,
      kind: 'whatsapp_cloud',
      name: 'WhatsApp Bonapriso',
      externalId: PHONE_NUMBER_ID,
      settings: { baseUrl: wa.url },
      secrets: { accessToken: ACCESS_TOKEN, appSecret: APP_SECRET, verifyToken: 'verify-bonapriso' },
    });
    wa.addPhoneNumber({ id: PHONE_NUMBER_ID, displayPhoneNumber: '237699887766', accessToken: ACCESS_TOKEN, appSecret: APP_SECRET, webhookUrl: `http://127.0.0.1:${port}/webhooks/whatsapp/${account.id}` });
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    await wa?.close();
    await campay?.close();
  });

  function customer(waId: string, name: string) {
    let seen = 0;
    return {
      waId,
      say: (text: string) => wa.customerText(PHONE_NUMBER_ID, { from: waId, text, name }),
      tap: (choiceId: string) => wa.customerChoice(PHONE_NUMBER_ID, { from: waId, choiceId, name }),
      /** The next message to this customer (after the last one awaited) that passes `test`. */
      async expectMessage(what: string, test: (message: SentWaMessage) => boolean): Promise<SentWaMessage> {
        return eventually(
          async () => {
            const sent = wa.sent({ phoneNumberId: PHONE_NUMBER_ID, to: waId });
            const index = sent.findIndex((message, position) => position >= seen && test(message));
            if (index < 0) return undefined;
            seen = index + 1;
            return sent[index];
          },
          30_000,
          what,
        );
      },
    };
  }

  const latestTicket = () => latestTicketOf(services, tenantId);

  const gatewayReferenceOf = (ticketId: string, attemptNumber: number) => gatewayReferenceFor(services, tenantId, ticketId, attemptNumber);

  async function voucherOf(ticketId: string) {
    const [voucher] = await services.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.ticketId, ticketId))));
    return voucher;
  }

  async function outboundRow(wamid: string) {
    const [row] = await services.db.withTenant(tenantId, (tx) =>
      tx
        .select()
        .from(conversationMessages)
        .where(and(eq(conversationMessages.tenantId, tenantId), eq(conversationMessages.direction, 'outbound'), eq(conversationMessages.providerMessageId, wamid))),
    );
    return row;
  }

  it('in French: buttons, a list, taps, payment from the chat’s own number, voucher code and QR image', async () => {
    const amina = customer('237670000101', 'Amina Ndzi');
    await amina.say('bonjour');
    const language = await amina.expectMessage('the language buttons', (message) => message.interactive?.type === 'button');
    expect(choicesOf(language)).toEqual([
      ['lang:fr', 'Français'],
      ['lang:en', 'English'],
    ]);
    expect(textOf(language)).toContain('Bienvenue chez Wifi Zone Bonapriso');

    await amina.tap('lang:fr');
    // Six choices: more than three buttons, so a list.
    const menu = await amina.expectMessage('the menu list', (message) => message.interactive?.type === 'list');
    expect(choicesOf(menu).map(([, title]) => title)).toEqual(expect.arrayContaining(['Acheter du WiFi', 'Mon WiFi', 'Parler à un agent']));

    await amina.tap('menu:buy_wifi');
    const packages = await amina.expectMessage('the packages', (message) => choicesOf(message).some(([id]) => id.startsWith('package:')));
    const [packageId, packageTitle] = choicesOf(packages).find(([id]) => id.startsWith('package:'))!;
    expect(packageTitle).toBe('1 jour - 500 FCFA');

    // WhatsApp gives the customer's number: no question, the payment goes to +237670000101.
    await amina.tap(packageId);
    const requested = await amina.expectMessage('the payment request', (message) => textOf(message).includes('Je demande'));
    expect(textOf(requested)).toContain('500 FCFA au +237670000101');
    const ussd = await amina.expectMessage('the USSD code to dial', (message) => textOf(message).includes('*126#'));
    expect(ussd.type).toBe('text');

    const ticket = await latestTicket();
    expect(ticket.subject).toBe('Achat WiFi : 1 jour');
    await campay.approve(await gatewayReferenceOf(ticket.id, 1));

    const delivered = await amina.expectMessage('the voucher image', (message) => message.type === 'image');
    const voucher = (await voucherOf(ticket.id))!;
    expect(delivered.image!.caption).toContain(`Votre code WiFi : ${voucher.username}`);
    expect(delivered.image!.caption).toContain('valable 1 jour');
    expect(delivered.image!.mimeType).toBe('image/png');
    expect(decodeQrPng(delivered.image!.bytes!)).toBe(voucher.username);

    // The simulator's sent/delivered statuses come back signed and move the rows forward.
    const row = await eventually(async () => {
      const found = await outboundRow(delivered.id);
      return found?.status === 'delivered' ? found : undefined;
    }, 15_000, 'the voucher message delivered');
    expect(row.deliveredAt).toBeInstanceOf(Date);
    await wa.postStatus(delivered.id, 'read');
    expect((await outboundRow(delivered.id))!.status).toBe('read');
    // A late "delivered" never undoes "read".
    await wa.postStatus(delivered.id, 'delivered');
    expect((await outboundRow(delivered.id))!.status).toBe('read');
  });

  it('in English: the same purchase through the English menu', async () => {
    const paul = customer('237690000202', 'Paul Etoga');
    await paul.say('hello');
    await paul.expectMessage('the language buttons', (message) => message.interactive?.type === 'button');
    await paul.tap('lang:en');
    const menu = await paul.expectMessage('the menu list', (message) => message.interactive?.type === 'list');
    expect(choicesOf(menu).map(([, title]) => title)).toEqual(expect.arrayContaining(['Buy WiFi', 'My WiFi', 'Talk to an agent']));
    await paul.tap('menu:buy_wifi');
    const packages = await paul.expectMessage('the packages', (message) => choicesOf(message).some(([id]) => id.startsWith('package:')));
    const [packageId, packageTitle] = choicesOf(packages).find(([id]) => id.startsWith('package:'))!;
    expect(packageTitle).toBe('1 day - 500 FCFA');
    await paul.tap(packageId);
    const requested = await paul.expectMessage('the payment request', (message) => textOf(message).includes('I am requesting'));
    expect(textOf(requested)).toContain('+237690000202');
    // An Orange number: Orange Money's code.
    await paul.expectMessage('the USSD code to dial', (message) => textOf(message).includes('#150*50#'));
    const ticket = await latestTicket();
    await campay.approve(await gatewayReferenceOf(ticket.id, 1));
    const delivered = await paul.expectMessage('the voucher image', (message) => message.type === 'image');
    const voucher = (await voucherOf(ticket.id))!;
    expect(delivered.image!.caption).toContain(`Your WiFi code: ${voucher.username}`);
    expect(decodeQrPng(delivered.image!.bytes!)).toBe(voucher.username);
  });

  it('a declined payment is explained with buttons; tapping "Réessayer" pays on the second attempt', async () => {
    const ngo = customer('237670000303', 'Ngo Biyong');
    await ngo.say('bonjour');
    await ngo.expectMessage('the language buttons', (message) => message.interactive?.type === 'button');
    await ngo.tap('lang:fr');
    await ngo.expectMessage('the menu list', (message) => message.interactive?.type === 'list');
    await ngo.tap('menu:buy_wifi');
    const packages = await ngo.expectMessage('the packages', (message) => choicesOf(message).some(([id]) => id.startsWith('package:')));
    await ngo.tap(choicesOf(packages).find(([id]) => id.startsWith('package:'))![0]);
    await ngo.expectMessage('the USSD code to dial', (message) => textOf(message).includes('*126#'));
    const ticket = await latestTicket();

    await campay.decline(await gatewayReferenceOf(ticket.id, 1));
    const failure = await ngo.expectMessage('the failure', (message) => textOf(message).includes('n’a pas abouti'));
    expect(failure.interactive?.type).toBe('button');
    expect(choicesOf(failure)).toEqual([
      ['pay:retry', 'Réessayer'],
      ['pay:other_number', 'Autre numéro'],
      ['menu', 'Menu'],
    ]);
    await ngo.tap('pay:retry');
    await ngo.expectMessage('the second request', (message) => textOf(message).includes('500 FCFA au +237670000303'));
    await ngo.expectMessage('the USSD code of attempt 2', (message) => textOf(message).includes('*126#'));
    await campay.approve(await gatewayReferenceOf(ticket.id, 2));
    const delivered = await ngo.expectMessage('the voucher image', (message) => message.type === 'image');
    const voucher = (await voucherOf(ticket.id))!;
    expect(delivered.image!.caption).toContain(voucher.username);
  });

  it('a voucher that reaches WhatsApp after the 24-hour window is dead, with the reason', async () => {
    const eric = customer('237670000404', 'Eric Mbappe');
    await eric.say('bonjour');
    await eric.expectMessage('the language buttons', (message) => message.interactive?.type === 'button');
    await eric.tap('lang:fr');
    await eric.expectMessage('the menu list', (message) => message.interactive?.type === 'list');
    await eric.tap('menu:buy_wifi');
    const packages = await eric.expectMessage('the packages', (message) => choicesOf(message).some(([id]) => id.startsWith('package:')));
    await eric.tap(choicesOf(packages).find(([id]) => id.startsWith('package:'))![0]);
    await eric.expectMessage('the USSD code to dial', (message) => textOf(message).includes('*126#'));
    const ticket = await latestTicket();

    // The confirmation comes more than a day after the customer's last message (Meta's clock).
    metaClockAheadMs = 25 * HOUR_MS;
    try {
      await campay.approve(await gatewayReferenceOf(ticket.id, 1));
      // Meta accepts the send, then posts a "failed" status with error 131047.
      const late = await eric.expectMessage('the voucher sent late', (message) => message.type === 'image');
      const row = await eventually(async () => {
        const found = await outboundRow(late.id);
        return found?.status === 'dead' ? found : undefined;
      }, 15_000, 'the late voucher message dead');
      expect(row.lastError).toContain('131047');
      expect(row.lastError).toContain('24-hour window');
      expect(row.deliveredAt).toBeNull();
    } finally {
      metaClockAheadMs = 0;
    }
  });
});
