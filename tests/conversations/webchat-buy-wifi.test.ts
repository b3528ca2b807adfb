import { and, desc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, generateVouchers } from '@relais/core';
import { paymentAttempts, payments, ticketEvents, tickets, wifiVouchers } from '@relais/db';
import { JOB_SCHEDULES } from '@relais/workers';
import { startCampaySimulator, type CampaySimulator } from '@relais/sim';
import { build } from '../../server/src/app.js';
import type { Services } from '../../server/src/services.js';
import { eventually, freePort } from '../support/relais-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';
import { insertWifiPackage } from '../support/wifi-fixtures.js';

interface WebchatMessage {
  id: string;
  seq: number;
  from: 'customer' | 'bot';
  text: string;
  choices?: { id: string; label: string }[];
  image?: { url: string; alt: string };
}

function qrContent(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength), image.width, image.height)?.data;
}

// The purchase as a visitor of /chat/<slug> makes it: web chat HTTP routes, engine, outbox jobs
// every second, CamPay simulator over HTTP with its webhook, voucher claim, QR image.
describe('web chat: buying WiFi end to end', () => {
  let sim: CampaySimulator;
  let services: Services;
  let app: FastifyInstance;
  let tenantId: string;
  let slug: string;
  let visitor = 0;

  beforeAll(async () => {
    const port = await freePort();
    sim = await startCampaySimulator({ callbackUrl: `http://127.0.0.1:${port}/webhooks/campay/platform`, callbackMethod: 'POST', balance: { mtn: 10_000_000, orange: 10_000_000 } });
    services = await createTestServices(await createTestDatabase(), {
      campay: { baseUrl: sim.url, credentials: { kind: 'login', username: sim.credentials.username, password: sim.credentials.password }, webhookKey: sim.webhookKey },
    });
    app = await build(services, { adminWebBuildDirectory: false });
    await app.listen({ host: '127.0.0.1', port });
    const dispatch = JOB_SCHEDULES.find((schedule) => schedule.scheduleId === 'outbox-dispatch')!;
    await services.jobs.schedule(dispatch.name, '* * * * * *', { scheduleId: dispatch.scheduleId });
    const created = await createTenant({ db: services.db, clock: services.clock }, { name: 'Wifi Zone Bonapriso', email: 'bonapriso@example.cm', mode: 'commission' });
    tenantId = created.tenant.id;
    slug = created.tenant.slug;
    const { id: packageId } = await insertWifiPackage(services.db, tenantId);
    await generateVouchers({ db: services.db }, { tenantId, packageId, count: 5 });
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    await sim?.close();
  });

  function newVisitor() {
    visitor += 1;
    const contactId = `visitor-${visitor}-${'x'.repeat(16)}`;
    let cursor = 0;
    let sentCount = 0;
    const say = async (text: string) => {
      sentCount += 1;
      const response = await app.inject({ method: 'POST', url: `/api/webchat/${slug}/messages`, payload: { contactId, text, messageId: `m${sentCount}-${visitor}-abc` } });
      expect(response.statusCode).toBe(200);
      return response.json() as { duplicate: boolean; replies: WebchatMessage[] };
    };
    const read = async (): Promise<WebchatMessage[]> => {
      const response = await app.inject({ method: 'GET', url: `/api/webchat/${slug}/messages?contactId=${contactId}&after=${cursor}` });
      expect(response.statusCode).toBe(200);
      const page = response.json() as { messages: WebchatMessage[]; cursor: number };
      cursor = page.cursor;
      return page.messages.filter((message) => message.from === 'bot');
    };
    /** Polls until a bot message matching `test` appears (the outbox works every second). */
    const waitFor = (what: string, test: (message: WebchatMessage) => boolean) =>
      eventually(async () => (await read()).find(test), 30_000, what);
    return { contactId, say, read, waitFor };
  }

  async function latestAttempt(ticketId: string) {
    const [attempt] = await services.db.withTenant(tenantId, (tx) =>
      tx.select().from(paymentAttempts).where(and(eq(paymentAttempts.tenantId, tenantId), eq(paymentAttempts.ticketId, ticketId))).orderBy(desc(paymentAttempts.attemptNumber)).limit(1),
    );
    return attempt!;
  }

  async function gatewayReferenceOf(ticketId: string, attemptNumber: number): Promise<string> {
    return eventually(async () => {
      const attempt = await latestAttempt(ticketId);
      if (attempt.attemptNumber !== attemptNumber) return undefined;
      const [payment] = await services.db.withPlatform((tx) => tx.select().from(payments).where(eq(payments.externalReference, attempt.externalReference)));
      return payment?.gatewayReference ?? undefined;
    }, 30_000, `gateway reference of attempt ${attemptNumber}`);
  }

  /** bonjour -> Français -> Acheter du WiFi -> 1 jour -> number: returns the ticket paid. */
  async function orderDay(chat: ReturnType<typeof newVisitor>, phone: string) {
    const greeting = await chat.say('bonjour');
    expect(greeting.replies[0]!.choices!.map((choice) => choice.label)).toEqual(['Français', 'English']);
    const menu = await chat.say('Français');
    expect(menu.replies.at(-1)!.choices!.map((choice) => choice.label)).toContain('Acheter du WiFi');
    const packages = await chat.say('Acheter du WiFi');
    expect(packages.replies[0]!.choices![0]!.label).toBe('1 jour - 500 FCFA');
    const askPhone = await chat.say('1');
    expect(askPhone.replies[0]!.text).toContain('Quel numéro');
    const requested = await chat.say(phone);
    expect(requested.replies[0]!.text).toContain(`500 FCFA au ${'+237' + phone}`);
    await chat.waitFor('the USSD code to dial', (message) => message.text.includes(phone.startsWith('69') ? '#150*50#' : '*126#'));
    const [ticket] = await services.db.withTenant(tenantId, (tx) => tx.select().from(tickets).where(eq(tickets.tenantId, tenantId)).orderBy(desc(tickets.number)).limit(1));
    return ticket!;
  }

  it('approve: the voucher code, its validity and its QR image appear in the chat', async () => {
    const chat = newVisitor();
    const ticket = await orderDay(chat, '670000009');
    expect(ticket.subject).toBe('Achat WiFi : 1 jour');
    await sim.approve(await gatewayReferenceOf(ticket.id, 1));

    const delivered = await chat.waitFor('the voucher', (message) => Boolean(message.image));
    const [voucher] = await services.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.ticketId, ticket.id))));
    expect(delivered.text).toContain(`Votre code WiFi : ${voucher!.username}`);
    expect(delivered.text).toContain('valable 1 jour');
    expect(delivered.image!.alt).toBe(`Code : ${voucher!.username}`);
    // The `ticket.paid` consumer recorded the helpdesk's payment event (automations) before the voucher went out.
    const paymentEvents = await services.db.withTenant(tenantId, (tx) =>
      tx.select().from(ticketEvents).where(and(eq(ticketEvents.tenantId, tenantId), eq(ticketEvents.ticketId, ticket.id), eq(ticketEvents.kind, 'payment_received'))),
    );
    expect(paymentEvents).toHaveLength(1);

    const image = await app.inject({ method: 'GET', url: delivered.image!.url });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect(qrContent(image.rawPayload)).toBe(voucher!.username);
    // The QR is a credential: another visitor (or a guessed id) gets nothing.
    const stranger = await app.inject({ method: 'GET', url: delivered.image!.url.replace(chat.contactId, 'someone-else-entirely-0000') });
    expect(stranger.statusCode).toBe(404);

    // "Mon WiFi" and "Mes tickets" are read after the turn commits and answered in the same response.
    const myWifi = await chat.say('Mon WiFi');
    expect(myWifi.replies.map((reply) => reply.text)).toEqual([`${voucher!.username} (1 jour) : pas encore utilisé, 0 o utilisés.`]);
    const myTickets = await chat.say('Mes tickets');
    expect(myTickets.replies.map((reply) => reply.text)).toEqual([`N° ${ticket.number} - Achat WiFi : 1 jour : résolu`]);
    // Asked again (a retried request with the same message id): one answer only.
    const retried = await app.inject({ method: 'POST', url: `/api/webchat/${slug}/messages`, payload: { contactId: chat.contactId, text: 'Mes tickets', messageId: 'same-message-id-1' } });
    const retriedAgain = await app.inject({ method: 'POST', url: `/api/webchat/${slug}/messages`, payload: { contactId: chat.contactId, text: 'Mes tickets', messageId: 'same-message-id-1' } });
    expect(retried.json().replies).toHaveLength(1);
    expect(retriedAgain.json()).toEqual({ duplicate: true, replies: [] });
  });

  it('decline: the failure is explained and a retry offered, three attempts at most', async () => {
    const chat = newVisitor();
    const ticket = await orderDay(chat, '690000007');
    for (const attemptNumber of [1, 2, 3]) {
      await sim.decline(await gatewayReferenceOf(ticket.id, attemptNumber));
      const failure = await chat.waitFor(`failure of attempt ${attemptNumber}`, (message) => message.text.includes('n’a pas abouti'));
      if (attemptNumber < 3) {
        expect(failure.choices!.map((choice) => choice.label)).toEqual(['Réessayer', 'Autre numéro', 'Menu']);
        const retried = await chat.say('Réessayer');
        expect(retried.replies[0]!.text).toContain('500 FCFA au +237690000007');
        await chat.waitFor(`the USSD code of attempt ${attemptNumber + 1}`, (message) => message.text.includes('#150*50#'));
      } else {
        expect(failure.text).toContain('nombre d’essais est atteint');
        expect(failure.choices!.map((choice) => choice.label)).not.toContain('Réessayer');
      }
    }
    expect((await latestAttempt(ticket.id)).attemptNumber).toBe(3);
    const vouchers = await services.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.ticketId, ticket.id))));
    expect(vouchers).toEqual([]);
  });

  it('serves the chat page, in the tenant language, with the endpoints it uses', async () => {
    const page = await app.inject({ method: 'GET', url: `/chat/${slug}` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('Wifi Zone Bonapriso');
    expect(page.body).toContain(`/api/webchat/`);
    expect(page.body).toContain('Écrivez votre message');
    expect((await app.inject({ method: 'GET', url: '/chat/no-such-tenant' })).statusCode).toBe(404);
  });

  it('refuses malformed requests with 400 and oversized bodies with 413', async () => {
    const badId = await app.inject({ method: 'POST', url: `/api/webchat/${slug}/messages`, payload: { contactId: 'short', text: 'bonjour' } });
    expect(badId.statusCode).toBe(400);
    const noText = await app.inject({ method: 'POST', url: `/api/webchat/${slug}/messages`, payload: { contactId: 'a'.repeat(20) } });
    expect(noText.statusCode).toBe(400);
    const huge = await app.inject({ method: 'POST', url: `/api/webchat/${slug}/messages`, payload: { contactId: 'a'.repeat(20), text: 'x'.repeat(40_000) } });
    expect(huge.statusCode).toBe(413);
    // Refused before the engine: no contact, no conversation, nothing to read.
    const nothing = await app.inject({ method: 'GET', url: `/api/webchat/${slug}/messages?contactId=${'a'.repeat(20)}` });
    expect(nothing.json().messages).toEqual([]);
  });
});
