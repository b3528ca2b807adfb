import { randomBytes } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannelAccount, createTenant } from '@relais/core';
import { contactIdentities, contacts, conversationMessages, conversations } from '@relais/db';
import { JOB_SCHEDULES } from '@relais/workers';
import { hubSignature256, startWhatsAppCloudSimulator, type WhatsAppCloudSimulator } from '@relais/sim';
import { build } from '../../server/src/app.js';
import type { Services } from '../../server/src/services.js';
import { eventually, freePort } from '../support/relais-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';

const PHONE_NUMBER_ID = '107700112233';
const ACCESS_TOKEN = `EAAK${'dEiD0'.repeat(16)}`;
// Random per run: nothing in the repository looks like a secret.
const APP_SECRET = randomBytes(16).toString('hex');
const VERIFY_TOKEN = 'verify-deido-7f3a';

// The webhook's edges with the real app on a real port and the Cloud API simulator posting events
// as Meta writes and signs them: the handshake, signatures on raw bytes, malformed payloads,
// duplicates, media the bot cannot read, statuses.
describe('WhatsApp Cloud webhook', () => {
  let wa: WhatsAppCloudSimulator;
  let services: Services;
  let app: FastifyInstance;
  let tenantId: string;
  let channelAccountId: string;
  let webhookUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    wa = await startWhatsAppCloudSimulator({ webhookRetryMs: 100 });
    services = await createTestServices(await createTestDatabase());
    app = await build(services, { adminWebBuildDirectory: false });
    await app.listen({ host: '127.0.0.1', port });
    // The delivery queue every second (production: every 5 s, and at once after each inbound message).
    const delivery = JOB_SCHEDULES.find((schedule) => schedule.scheduleId === 'messages-deliver')!;
    await services.jobs.schedule(delivery.name, '* * * * * *', { scheduleId: delivery.scheduleId });
    tenantId = (await createTenant({ db: services.db, clock: services.clock }, { name: 'Deido Connect', email: 'wa-deido@example.cm' })).tenant.id;
    const account = await createChannelAccount(services, {
      tenantId,
      kind: 'whatsapp_cloud',
      name: 'WhatsApp Deido',
      externalId: PHONE_NUMBER_ID,
      settings: { baseUrl: wa.url },
      secrets: { accessToken: ACCESS_TOKEN, appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN },
    });
    channelAccountId = account.id;
    webhookUrl = `http://127.0.0.1:${port}/webhooks/whatsapp/${account.id}`;
    wa.addPhoneNumber({ id: PHONE_NUMBER_ID, displayPhoneNumber: '237699001122', accessToken: ACCESS_TOKEN, appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN, webhookUrl });
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    await wa?.close();
  });

  async function messagesOf(waId: string) {
    return services.db.withTenant(tenantId, async (tx) => {
      const [identity] = await tx
        .select({ contactId: contactIdentities.contactId })
        .from(contactIdentities)
        .where(and(eq(contactIdentities.tenantId, tenantId), eq(contactIdentities.channelKind, 'whatsapp_cloud'), eq(contactIdentities.externalId, waId)));
      if (!identity) return { contact: undefined, inbound: [], outbound: [] };
      const [contact] = await tx.select().from(contacts).where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, identity.contactId)));
      const rows = await tx
        .select({ message: conversationMessages })
        .from(conversationMessages)
        .innerJoin(conversations, and(eq(conversations.tenantId, conversationMessages.tenantId), eq(conversations.id, conversationMessages.conversationId)))
        .where(and(eq(conversationMessages.tenantId, tenantId), eq(conversationMessages.channelAccountId, channelAccountId), eq(conversations.contactId, identity.contactId)))
        .orderBy(asc(conversationMessages.seq));
      const own = rows.map((row) => row.message);
      return { contact, inbound: own.filter((row) => row.direction === 'inbound'), outbound: own.filter((row) => row.direction === 'outbound') };
    });
  }

  const post = (body: string, signature: string | undefined, url = webhookUrl) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) }, body });

  function textEvent(from: string, id: string, text: string, phoneNumberId = PHONE_NUMBER_ID) {
    return JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '237699001122', phone_number_id: phoneNumberId },
                contacts: [{ wa_id: from, profile: { name: 'Test' } }],
                messages: [{ from, id, timestamp: '1764000000', type: 'text', text: { body: text } }],
              },
            },
          ],
        },
      ],
    });
  }

  it('answers the verification handshake with the challenge, and 403 to a wrong token or mode', async () => {
    const verified = await wa.verifyWebhook(PHONE_NUMBER_ID);
    expect(verified).toMatchObject({ status: 200, verified: true });
    const response = await fetch(`${webhookUrl}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toBe('1158201444');

    const wrongToken = await wa.verifyWebhook(PHONE_NUMBER_ID, { verifyToken: 'guess' });
    expect(wrongToken).toMatchObject({ status: 403, verified: false });
    expect((await fetch(`${webhookUrl}?hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`)).status).toBe(403);
    expect((await fetch(`${webhookUrl}?hub.mode=subscribe&hub.challenge=1`)).status).toBe(403);
    const unknown = webhookUrl.replace(channelAccountId, '00000000-0000-4000-8000-000000000000');
    expect((await fetch(`${unknown}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`)).status).toBe(404);
  });

  it('refuses a forged or missing signature with 401 and stores nothing', async () => {
    const waId = '237670001001';
    const body = textEvent(waId, 'wamid.forged-1', 'bonjour');
    expect((await post(body, hubSignature256(body, 'not-the-app-secret'))).status).toBe(401);
    expect((await post(body, undefined)).status).toBe(401);
    expect((await post(body, 'sha256=zz')).status).toBe(401);
    // A signature of other bytes (the body re-serialised with a space) does not carry over.
    expect((await post(body.replace('"bonjour"', '"bonjour" '), hubSignature256(body, APP_SECRET))).status).toBe(401);

    // The simulator signing with another secret: Meta's retries are refused until the secret matches.
    wa.setFaults({ signWith: 'rotated-secret' });
    const delivery = wa.customerText(PHONE_NUMBER_ID, { from: waId, text: 'bonjour' });
    await eventually(async () => (wa.deliveries(PHONE_NUMBER_ID).some((entry) => entry.status === 401 && entry.body.includes(waId)) ? true : undefined), 10_000, 'a refused delivery');
    expect(await messagesOf(waId)).toEqual({ contact: undefined, inbound: [], outbound: [] });
    wa.setFaults({ signWith: null });
    await delivery;
    expect((await messagesOf(waId)).inbound).toHaveLength(1);
  });

  it('verifies the raw bytes: Meta’s \\u-escaped non-ASCII body is accepted and read as written', async () => {
    const waId = '237670001002';
    const text = 'Bonjour, ça coûte combien ? 1 jour / 1 semaine 😀';
    const event = await wa.customerText(PHONE_NUMBER_ID, { from: waId, text, name: 'Amélie Ngô' });
    const delivery = wa.deliveries(PHONE_NUMBER_ID).findLast((entry) => entry.kind === 'message' && entry.body.includes(waId))!;
    expect(delivery).toMatchObject({ outcome: 'accepted', status: 200 });
    // As Meta writes it: re-serialising the parsed body gives other bytes, hence another HMAC.
    expect(delivery.body).toContain('\\u00e7');
    expect(delivery.body).toContain('\\/');
    expect(JSON.stringify(JSON.parse(delivery.body))).not.toBe(delivery.body);
    expect(JSON.parse(delivery.body)).toEqual(event);

    const { contact, inbound, outbound } = await messagesOf(waId);
    expect(contact).toMatchObject({ name: 'Amélie Ngô', phoneE164: '+237670001002' });
    expect(inbound.map((row) => [row.providerMessageId, (row.body as { text: string }).text])).toEqual([[event.entry[0]!.changes[0]!.value.messages![0]!.id, text]]);
    expect(outbound.length).toBeGreaterThan(0);
  });

  it('answers the same wamid once, whether Meta sends copies at once or again later', async () => {
    const waId = '237670001003';
    wa.setFaults({ duplicateEvents: 3 });
    try {
      await wa.customerText(PHONE_NUMBER_ID, { from: waId, text: 'bonjour' });
    } finally {
      wa.setFaults({ duplicateEvents: 1 });
    }
    const copies = wa.deliveries(PHONE_NUMBER_ID).filter((entry) => entry.body.includes(waId) && entry.kind === 'message');
    expect(copies.map((entry) => entry.status)).toEqual([200, 200, 200]);
    const first = await messagesOf(waId);
    expect(first.inbound).toHaveLength(1);
    expect(first.outbound).toHaveLength(1);

    // A redelivery of the exact signed bytes later on: acknowledged, nothing new.
    expect((await post(copies[0]!.body, copies[0]!.signature)).status).toBe(200);
    const again = await messagesOf(waId);
    expect(again.inbound).toHaveLength(1);
    expect(again.outbound.map((row) => row.id)).toEqual(first.outbound.map((row) => row.id));
  });

  it('answers media it cannot read politely, and ignores reactions', async () => {
    const waId = '237670001004';
    const event = (message: Record<string, unknown>) =>
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: PHONE_NUMBER_ID }, messages: [{ from: waId, timestamp: '1764000000', ...message }] } }] }],
      });
    const photo = event({ id: 'wamid.photo-1', type: 'image', image: { id: '998877', mime_type: 'image/jpeg', sha256: 'abc' } });
    expect((await post(photo, hubSignature256(photo, APP_SECRET))).status).toBe(200);
    const reaction = event({ id: 'wamid.reaction-1', type: 'reaction', reaction: { message_id: 'wamid.photo-1', emoji: '👍' } });
    expect((await post(reaction, hubSignature256(reaction, APP_SECRET))).status).toBe(200);

    const { inbound, outbound } = await messagesOf(waId);
    expect(inbound.map((row) => row.providerMessageId)).toEqual(['wamid.photo-1']);
    expect((inbound[0]!.body as { text: string }).text).toContain('[image]');
    expect(outbound.map((row) => (row.body as { text: string }).text)).toEqual(['Désolé, je ne peux pas lire ce message. Écrivez « menu » pour voir les choix.']);
  });

  it('refuses malformed payloads with 400 (signed or not, nothing stored) and ignores another number’s events', async () => {
    const waId = '237670001005';
    const broken = [
      'not json at all',
      JSON.stringify({ object: 'page', entry: [] }),
      JSON.stringify({ object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'messages', value: { metadata: { phone_number_id: PHONE_NUMBER_ID }, messages: [{ from: waId }] } }] }] }),
      JSON.stringify({ object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'messages', value: { messages: [] } }] }] }),
    ];
    for (const body of broken) {
      const response = await post(body, hubSignature256(body, APP_SECRET));
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    }
    const otherNumber = textEvent(waId, 'wamid.other-number', 'bonjour', '100000000009');
    expect((await post(otherNumber, hubSignature256(otherNumber, APP_SECRET))).status).toBe(200);
    expect(await messagesOf(waId)).toEqual({ contact: undefined, inbound: [], outbound: [] });
    // Account updates and other fields are acknowledged, not read.
    const accountUpdate = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'account_update', value: { event: 'VERIFIED_ACCOUNT' } }] }] });
    expect((await post(accountUpdate, hubSignature256(accountUpdate, APP_SECRET))).status).toBe(200);
  });

  it('records statuses on the outbound rows: delivered, read; a late failure or a stranger’s wamid changes nothing', async () => {
    const waId = '237670001006';
    await wa.customerText(PHONE_NUMBER_ID, { from: waId, text: 'bonjour' });
    const [welcome] = await wa.waitForSent({ phoneNumberId: PHONE_NUMBER_ID, to: waId, timeoutMs: 15_000 });
    const rowOf = async () => (await messagesOf(waId)).outbound.find((row) => row.providerMessageId === welcome!.id);
    const delivered = await eventually(async () => ((await rowOf())?.status === 'delivered' ? rowOf() : undefined), 15_000, 'delivered');
    expect(delivered!.deliveredAt).toBeInstanceOf(Date);
    await wa.postStatus(welcome!.id, 'read');
    expect((await rowOf())!.status).toBe('read');

    await wa.customerText(PHONE_NUMBER_ID, { from: waId, text: 'menu' });
    const sent = await wa.waitForSent({ phoneNumberId: PHONE_NUMBER_ID, to: waId, count: 2, timeoutMs: 15_000 });
    const menu = sent.at(-1)!;
    await eventually(async () => ((await messagesOf(waId)).outbound.find((row) => row.providerMessageId === menu.id && row.status === 'delivered') ? true : undefined), 15_000, 'menu delivered');
    // A status after delivery is final for the delivery report: the failure changes nothing then.
    await wa.postStatus(menu.id, 'failed');
    expect((await messagesOf(waId)).outbound.find((row) => row.providerMessageId === menu.id)!.status).toBe('delivered');

    // A status for a wamid we never sent (another tool on the same number): acknowledged, nothing changes.
    const stray = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'messages', value: { metadata: { phone_number_id: PHONE_NUMBER_ID }, statuses: [{ id: 'wamid.not-ours', status: 'read', timestamp: '1764000000', recipient_id: waId }] } }] }],
    });
    expect((await post(stray, hubSignature256(stray, APP_SECRET))).status).toBe(200);
  });
});
