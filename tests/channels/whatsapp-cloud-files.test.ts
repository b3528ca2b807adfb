import { randomBytes } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentRejectionText, createAgent, createChannelAccount, createTenant, readTicketAttachment } from '@relais/core';
import { attachments, categories, ticketMessages } from '@relais/db';
import { JOB_SCHEDULES } from '@relais/workers';
import { startWhatsAppCloudSimulator, type SentWaMessage, type WhatsAppCloudSimulator } from '@relais/sim';
import { build } from '../../server/src/app.js';
import type { Services } from '../../server/src/services.js';
import { eventually, freePort } from '../support/relais-process.js';
import { latestTicket } from '../support/purchase-harness.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';
import { oversizedJpeg, randomPng } from '../support/test-files.js';

const PHONE_NUMBER_ID = '108800223344';
const ACCESS_TOKEN = `EAAL${'fIlEs0'.repeat(14)}`;
// Random per run: nothing in the repository looks like a secret.
const APP_SECRET = randomBytes(16).toString('hex');

const textOf = (message: SentWaMessage) => message.text ?? message.interactive?.body.text ?? message.image?.caption ?? '';

// Photos sent on WhatsApp with every real part: the Cloud API simulator posts signed events, the
// adapter looks the media up on Graph and downloads it with the number's token (capped), and the
// engine puts it on the ticket or refuses it with a message.
describe('WhatsApp Cloud: photos become ticket attachments', () => {
  let wa: WhatsAppCloudSimulator;
  let services: Services;
  let app: FastifyInstance;
  let tenantId: string;
  let agentId: string;
  let categoryId: string;

  beforeAll(async () => {
    const port = await freePort();
    wa = await startWhatsAppCloudSimulator({ webhookRetryMs: 200 });
    services = await createTestServices(await createTestDatabase());
    app = await build(services, { adminWebBuildDirectory: false });
    await app.listen({ host: '127.0.0.1', port });
    const delivery = JOB_SCHEDULES.find((schedule) => schedule.scheduleId === 'messages-deliver')!;
    await services.jobs.schedule(delivery.name, '* * * * * *', { scheduleId: delivery.scheduleId });
    tenantId = (await createTenant({ db: services.db, clock: services.clock }, { name: 'Wifi Zone Bepanda', email: 'files-bepanda@example.cm' })).tenant.id;
    categoryId = (await services.db.withTenant(tenantId, (tx) => tx.insert(categories).values({ tenantId, nameFr: 'Panne', nameEn: 'Outage' }).returning()))[0]!.id;
    agentId = (await createAgent(services, { tenantId, email: 'ines@example.cm', name: 'Ines Tchoua' })).userId;
    const account = await createChannelAccount(services, {
      tenantId,
      kind: 'whatsapp_cloud',
      name: 'WhatsApp Bepanda',
      externalId: PHONE_NUMBER_ID,
      settings: { baseUrl: wa.url },
      secrets: { accessToken: ACCESS_TOKEN, appSecret: APP_SECRET },
    });
    wa.addPhoneNumber({ id: PHONE_NUMBER_ID, displayPhoneNumber: '237699334455', accessToken: ACCESS_TOKEN, appSecret: APP_SECRET, webhookUrl: `http://127.0.0.1:${port}/webhooks/whatsapp/${account.id}` });
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    await wa?.close();
  });

  const waitForMessage = (to: string, what: string, test: (message: SentWaMessage) => boolean) => eventually(async () => wa.sent({ to }).find(test), 30_000, what);
  const attachmentsOf = (ticketId: string) =>
    services.db.withTenant(tenantId, (tx) => tx.select().from(attachments).where(and(eq(attachments.tenantId, tenantId), eq(attachments.ticketId, ticketId))));
  const allAttachments = () => services.db.withTenant(tenantId, (tx) => tx.select().from(attachments).where(eq(attachments.tenantId, tenantId)));
  const messagesOf = (ticketId: string) =>
    services.db.withTenant(tenantId, (tx) =>
      tx.select().from(ticketMessages).where(and(eq(ticketMessages.tenantId, tenantId), eq(ticketMessages.ticketId, ticketId))).orderBy(asc(ticketMessages.createdAt)),
    );

  /** A customer who chose French, "open a ticket" and the category: the bot asks for a description. */
  async function describing(from: string) {
    await wa.customerText(PHONE_NUMBER_ID, { from, text: 'bonjour' });
    await waitForMessage(from, 'the language choice', (message) => textOf(message).includes('Choisissez votre langue'));
    await wa.customerChoice(PHONE_NUMBER_ID, { from, choiceId: 'lang:fr' });
    await waitForMessage(from, 'the menu', (message) => textOf(message).includes('Que voulez-vous faire'));
    await wa.customerChoice(PHONE_NUMBER_ID, { from, choiceId: 'menu:open_ticket' });
    await waitForMessage(from, 'the categories', (message) => textOf(message).includes('Pour quel sujet'));
    await wa.customerChoice(PHONE_NUMBER_ID, { from, choiceId: `category:${categoryId}` });
    await waitForMessage(from, 'the description question', (message) => textOf(message).includes('Décrivez votre demande'));
  }

  it('an image sent while an agent holds the conversation lands on the ticket once, even when Meta delivers the event twice', async () => {
    const from = '237670002001';
    await wa.customerText(PHONE_NUMBER_ID, { from, text: 'bonjour' });
    await waitForMessage(from, 'the language choice', (message) => textOf(message).includes('Choisissez votre langue'));
    await wa.customerChoice(PHONE_NUMBER_ID, { from, choiceId: 'lang:fr' });
    await wa.customerText(PHONE_NUMBER_ID, { from, text: 'agent' });
    await waitForMessage(from, 'the hand-off', (message) => textOf(message).includes('Un agent va vous répondre'));
    const ticket = await latestTicket(services, tenantId);

    const photo = randomPng(40, 30);
    wa.setFaults({ duplicateEvents: 2 });
    await wa.customerMedia(PHONE_NUMBER_ID, { from, type: 'image', bytes: photo, caption: 'Le câble est coupé' });
    wa.setFaults({ duplicateEvents: 1 });
    const [attached] = await eventually(async () => {
      const rows = await attachmentsOf(ticket.id);
      return rows.length > 0 ? rows : undefined;
    }, 30_000, 'the attachment');
    const last = (await messagesOf(ticket.id)).at(-1)!;
    expect(last).toMatchObject({ authorKind: 'customer', body: 'Le câble est coupé' });
    expect(attached).toMatchObject({ messageId: last.id, contentType: 'image/png', sizeBytes: photo.length });
    expect((await readTicketAttachment(services, { tenantId, userId: agentId, attachmentId: attached!.id })).bytes.equals(photo)).toBe(true);
    await wa.settled();
    expect(await attachmentsOf(ticket.id)).toHaveLength(1);
    expect((await messagesOf(ticket.id)).filter((message) => message.body === 'Le câble est coupé')).toHaveLength(1);
  });

  it('an image at "describe your request" opens the ticket with it and the customer gets the number', async () => {
    const from = '237670002002';
    await describing(from);
    const photo = randomPng();
    await wa.customerMedia(PHONE_NUMBER_ID, { from, type: 'image', bytes: photo });
    const opened = await waitForMessage(from, 'the ticket number', (message) => /Votre ticket n° \d+ est ouvert/.test(textOf(message)));
    const ticket = await latestTicket(services, tenantId);
    expect(textOf(opened)).toContain(`n° ${ticket.number}`);
    const [description] = await messagesOf(ticket.id);
    expect(description!.body).toBe('Photo');
    const [attached] = await attachmentsOf(ticket.id);
    expect(attached).toMatchObject({ messageId: description!.id, contentType: 'image/png' });
    expect((await readTicketAttachment(services, { tenantId, userId: agentId, attachmentId: attached!.id })).bytes.equals(photo)).toBe(true);
  });

  it('an image of 10 MB + 1 byte is refused: not downloaded when Graph declares its size, never read past the limit when it does not', async () => {
    const from = '237670002003';
    await describing(from);
    const before = await allAttachments();
    const refusal = attachmentRejectionText('too_large').fr;
    const earlier = wa.mediaDownloads().length;

    await wa.customerMedia(PHONE_NUMBER_ID, { from, type: 'image', bytes: oversizedJpeg() });
    await waitForMessage(from, 'the first refusal', (message) => textOf(message).includes(refusal));
    expect(wa.mediaDownloads()).toHaveLength(earlier);

    // Graph declares nothing (no file_size, no content-length): the read stops one byte past the limit.
    const total = 40 * 1024 * 1024;
    await wa.customerMedia(PHONE_NUMBER_ID, { from, type: 'image', bytes: oversizedJpeg(total - 10 * 1024 * 1024), declareSize: false });
    await eventually(async () => (wa.sent({ to: from }).filter((message) => textOf(message).includes(refusal)).length === 2 ? true : undefined), 30_000, 'the second refusal');
    await wa.settled();
    const [download, ...more] = wa.mediaDownloads().slice(earlier);
    expect(more).toEqual([]);
    expect(download).toMatchObject({ totalBytes: total, completed: false });
    expect(download!.bytesWritten).toBeLessThan(total);
    expect(await allAttachments()).toEqual(before);
  });
});
