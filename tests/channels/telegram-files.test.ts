import { randomBytes } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { Telegram } from 'telegraf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentRejectionText, createAgent, createChannelAccount, createTenant, readTicketAttachment } from '@relais/core';
import { attachments, categories, ticketMessages } from '@relais/db';
import { startTelegramSimulator, type SentMessage, type TelegramSimulator } from '@relais/sim';
import type { Services } from '../../server/src/services.js';
import { eventually } from '../support/relais-process.js';
import { latestTicket, startPurchaseHarness, type PurchaseHarness } from '../support/purchase-harness.js';
import { oversizedJpeg, randomPng } from '../support/test-files.js';

const BOT_TOKEN = '654321:TEST-relais-files-bot-token';
const WEBHOOK_SECRET = randomBytes(16).toString('hex');

// Photos and documents sent on Telegram, with every real part: the Bot API simulator posts updates
// to our webhook, the adapter fetches the file with getFile and the file URL through telegraf's
// client, and the engine puts it on the ticket.
describe('Telegram: photos and documents become ticket attachments', () => {
  let telegram: TelegramSimulator;
  let harness: PurchaseHarness;
  let services: Services;
  let tenantId: string;
  let agentId: string;

  beforeAll(async () => {
    telegram = await startTelegramSimulator({ bots: [{ token: BOT_TOKEN, username: 'files_zone_bot' }], rateLimits: false });
    harness = await startPurchaseHarness({ telegramApiRoot: telegram.apiRoot });
    services = harness.services;
    tenantId = (await createTenant({ db: services.db, clock: services.clock }, { name: 'Wifi Zone Bali', email: 'files-bali@example.cm', mode: 'commission' })).tenant.id;
    await services.db.withTenant(tenantId, (tx) => tx.insert(categories).values({ tenantId, nameFr: 'Panne', nameEn: 'Outage' }));
    agentId = (await createAgent(services, { tenantId, email: 'nadia@example.cm', name: 'Nadia Mbarga' })).userId;
    const account = await createChannelAccount(
      { db: services.db, secrets: services.secrets },
      { tenantId, kind: 'telegram', name: 'Bali bot', externalId: 'files_zone_bot', settings: { apiRoot: telegram.apiRoot }, secrets: { botToken: BOT_TOKEN, webhookSecret: WEBHOOK_SECRET } },
    );
    await new Telegram(BOT_TOKEN, { apiRoot: telegram.apiRoot }).setWebhook(`${harness.base}/webhooks/telegram/${account.id}`, { secret_token: WEBHOOK_SECRET });
  });
  afterAll(async () => {
    await harness?.close();
    await telegram?.close();
  });

  const waitForMessage = (chatId: number, what: string, test: (message: SentMessage) => boolean) => eventually(async () => telegram.sent(BOT_TOKEN, chatId).find(test), 30_000, what);
  const buttons = (message: SentMessage) => (message.inlineKeyboard ?? []).flat();
  const press = async (chatId: number, label: string) => {
    const offering = await waitForMessage(chatId, `a button "${label}"`, (message) => buttons(message).some((button) => button.text === label));
    await telegram.pressButton(BOT_TOKEN, { chatId, callbackData: buttons(offering).find((button) => button.text === label)!.callback_data!, messageId: offering.messageId });
  };
  const attachmentsOf = (ticketId: string) =>
    services.db.withTenant(tenantId, (tx) => tx.select().from(attachments).where(and(eq(attachments.tenantId, tenantId), eq(attachments.ticketId, ticketId))));
  const messagesOf = (ticketId: string) =>
    services.db.withTenant(tenantId, (tx) =>
      tx.select().from(ticketMessages).where(and(eq(ticketMessages.tenantId, tenantId), eq(ticketMessages.ticketId, ticketId))).orderBy(asc(ticketMessages.createdAt)),
    );

  it('a photo sent while an agent holds the conversation lands on the ticket (its largest size, its caption as the message)', async () => {
    const chatId = 8101;
    await telegram.sendUserMessage(BOT_TOKEN, { chatId, text: 'bonjour', from: { firstName: 'Paul' } });
    await press(chatId, 'Français');
    await telegram.sendUserMessage(BOT_TOKEN, { chatId, text: 'agent' });
    await waitForMessage(chatId, 'the hand-off', (message) => (message.text ?? '').includes('Un agent va vous répondre'));
    const ticket = await latestTicket(services, tenantId);

    const photo = randomPng(32, 24);
    await telegram.sendUserMessage(BOT_TOKEN, { chatId, photo, text: 'Voici le routeur' });
    const [attached] = await eventually(async () => {
      const rows = await attachmentsOf(ticket.id);
      return rows.length > 0 ? rows : undefined;
    }, 30_000, 'the attachment');
    const last = (await messagesOf(ticket.id)).at(-1)!;
    expect(last).toMatchObject({ authorKind: 'customer', body: 'Voici le routeur' });
    expect(attached).toMatchObject({ messageId: last.id, contentType: 'image/png', sizeBytes: photo.length });
    expect((await readTicketAttachment(services, { tenantId, userId: agentId, attachmentId: attached!.id })).bytes.equals(photo)).toBe(true);
    expect(telegram.fileDownloads(BOT_TOKEN).map((download) => download.bytes)).toContain(photo.length);
  });

  it('a PDF sent as a document at "describe your request" opens the ticket with it; an oversized one is refused before any download', async () => {
    const chatId = 8102;
    await telegram.sendUserMessage(BOT_TOKEN, { chatId, text: 'hello', from: { firstName: 'Grace' } });
    await press(chatId, 'English');
    await press(chatId, 'Open a ticket');
    await press(chatId, 'Outage');
    await waitForMessage(chatId, 'the description question', (message) => (message.text ?? '').includes('Describe your request'));

    const downloadsBefore = telegram.fileDownloads(BOT_TOKEN).length;
    const getFilesBefore = telegram.requests().filter((request) => request.method === 'getFile').length;
    await telegram.sendUserMessage(BOT_TOKEN, { chatId, document: { bytes: oversizedJpeg(), fileName: 'big.jpg', mimeType: 'image/jpeg' } });
    await waitForMessage(chatId, 'the refusal', (message) => (message.text ?? '').includes(attachmentRejectionText('too_large').en));
    expect(telegram.fileDownloads(BOT_TOKEN)).toHaveLength(downloadsBefore);
    expect(telegram.requests().filter((request) => request.method === 'getFile')).toHaveLength(getFilesBefore);

    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n', 'latin1'), randomBytes(2048)]);
    await telegram.sendUserMessage(BOT_TOKEN, { chatId, document: { bytes: pdf, fileName: 'facture.pdf', mimeType: 'application/pdf' }, text: 'My invoice' });
    const opened = await waitForMessage(chatId, 'the ticket number', (message) => /Your ticket #\d+ is open/.test(message.text ?? ''));
    const ticket = await latestTicket(services, tenantId);
    expect(opened.text).toContain(`#${ticket.number}`);
    const [description] = await messagesOf(ticket.id);
    expect(description!.body).toBe('My invoice');
    const [attached] = await attachmentsOf(ticket.id);
    expect(attached).toMatchObject({ messageId: description!.id, contentType: 'application/pdf', fileName: 'facture.pdf' });
    expect((await readTicketAttachment(services, { tenantId, userId: agentId, attachmentId: attached!.id })).bytes.equals(pdf)).toBe(true);
  });
});
