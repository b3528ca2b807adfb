import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Telegram } from 'telegraf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannelAccount, createTenant, generateVouchers } from '@relais/core';
import { conversationMessages, wifiVouchers } from '@relais/db';
import { startTelegramSimulator, type CampaySimulator, type SentMessage, type TelegramSimulator } from '@relais/sim';
import type { Services } from '../../server/src/services.js';
import { eventually } from '../support/relais-process.js';
import { insertWifiPackage } from '../support/wifi-fixtures.js';
import { gatewayReferenceOf, latestTicket, startPurchaseHarness, type PurchaseHarness } from '../support/purchase-harness.js';
import { decodeQrPng } from '../support/qr-code.js';

const BOT_TOKEN = '123456:TEST-relais-bot-token-abcdef';
const WEBHOOK_SECRET = randomBytes(16).toString('hex');


// The purchase on Telegram with every real part: the Telegram Bot API simulator posts updates to
// our webhook (secret token header) and receives the bot's replies from the delivery queue
// through telegraf; the CamPay simulator takes the payment.
describe('Telegram: buying WiFi end to end', () => {
  let telegram: TelegramSimulator;
  let campay: CampaySimulator;
  let services: Services;
  let app: FastifyInstance;
  let tenantId: string;
  let channelId: string;
  let harness: PurchaseHarness;

  beforeAll(async () => {
    telegram = await startTelegramSimulator({ bots: [{ token: BOT_TOKEN, username: 'wifi_zone_bot' }], rateLimits: false });
    harness = await startPurchaseHarness({ telegramApiRoot: telegram.apiRoot });
    ({ campay, services, app } = harness);
    tenantId = (await createTenant({ db: services.db, clock: services.clock }, { name: 'Wifi Zone Makepe', email: 'makepe@example.cm', mode: 'commission' })).tenant.id;
    const { id: packageId } = await insertWifiPackage(services.db, tenantId);
    await generateVouchers({ db: services.db }, { tenantId, packageId, count: 3 });
    const account = await createChannelAccount(
      { db: services.db, secrets: services.secrets },
      { tenantId, kind: 'telegram', name: 'Makepe bot', externalId: 'wifi_zone_bot', settings: { apiRoot: telegram.apiRoot }, secrets: { botToken: BOT_TOKEN, webhookSecret: WEBHOOK_SECRET } },
    );
    channelId = account.id;
    // As an operator would: register the webhook with its secret token through the Bot API.
    await new Telegram(BOT_TOKEN, { apiRoot: telegram.apiRoot }).setWebhook(`${harness.base}/webhooks/telegram/${channelId}`, { secret_token: WEBHOOK_SECRET });
  });
  afterAll(async () => {
    await harness?.close();
    await telegram?.close();
  });

  const sentTo = (chatId: number) => telegram.sent(BOT_TOKEN, chatId);
  const waitForMessage = (chatId: number, what: string, test: (message: SentMessage) => boolean) =>
    eventually(async () => sentTo(chatId).find(test), 30_000, what);
  const buttons = (message: SentMessage) => (message.inlineKeyboard ?? []).flat();

  it('menu buttons, package, phone number asked, USSD code, then the voucher code and QR photo', async () => {
    const chatId = 7001;
    await telegram.sendUserMessage(BOT_TOKEN, { chatId, text: 'bonjour', from: { firstName: 'Awa' } });
    const languages = await waitForMessage(chatId, 'language choice', (message) => buttons(message).some((button) => button.text === 'Français'));
    await telegram.pressButton(BOT_TOKEN, { chatId, callbackData: buttons(languages).find((button) => button.text === 'Français')!.callback_data! });
    const menu = await waitForMessage(chatId, 'menu', (message) => buttons(message).some((button) => button.text === 'Acheter du WiFi'));
    await telegram.pressButton(BOT_TOKEN, { chatId, callbackData: buttons(menu).find((button) => button.text === 'Acheter du WiFi')!.callback_data! });
    const packages = await waitForMessage(chatId, 'packages', (message) => buttons(message).some((button) => button.text === '1 jour - 500 FCFA'));
    await telegram.pressButton(BOT_TOKEN, { chatId, callbackData: buttons(packages).find((button) => button.text === '1 jour - 500 FCFA')!.callback_data! });
    // Telegram does not give the customer's number: the bot asks for it.
    await waitForMessage(chatId, 'phone question', (message) => (message.text ?? '').includes('Quel numéro'));
    await telegram.sendUserMessage(BOT_TOKEN, { chatId, text: '670000011' });
    await waitForMessage(chatId, 'USSD code', (message) => (message.text ?? '').includes('*126#'));
    // Button presses were acknowledged (the spinner stops).
    expect(telegram.callbackAnswers(BOT_TOKEN).length).toBeGreaterThanOrEqual(3);

    const ticket = await latestTicket(services, tenantId);
    const reference = await gatewayReferenceOf(services, tenantId, ticket.id);
    await campay.approve(reference);

    const photo = await waitForMessage(chatId, 'voucher photo', (message) => message.method === 'sendPhoto');
    const [voucher] = await services.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.ticketId, ticket.id))));
    const said = sentTo(chatId).map((message) => `${message.text ?? ''} ${message.caption ?? ''}`).join('\n');
    expect(said).toContain(voucher!.username);
    expect(decodeQrPng(photo.photo!.bytes!)).toBe(voucher!.username);
  });

  it('refuses an update without the right secret token, and stores nothing', async () => {
    const update = { update_id: 990001, message: { message_id: 1, date: 1_700_000_000, chat: { id: 7002, type: 'private' }, from: { id: 7002, first_name: 'Eve' }, text: 'bonjour' } };
    for (const headers of [{}, { 'x-telegram-bot-api-secret-token': 'wrong' }]) {
      const response = await app.inject({ method: 'POST', url: `/webhooks/telegram/${channelId}`, payload: update, headers });
      expect(response.statusCode).toBe(401);
    }
    const unknown = await app.inject({ method: 'POST', url: `/webhooks/telegram/${randomBytes(4).toString('hex')}`, payload: update, headers: { 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET } });
    expect(unknown.statusCode).toBe(404);
    const stored = await services.db.withTenant(tenantId, (tx) => tx.select().from(conversationMessages).where(eq(conversationMessages.providerMessageId, 'update:990001')));
    expect(stored).toEqual([]);
  });

  it('the same update delivered twice gets one reply; a malformed body is a 400', async () => {
    const headers = { 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET };
    const update = await telegram.sendUserMessage(BOT_TOKEN, { chatId: 7003, text: 'hello', from: { firstName: 'Ali' } });
    // Telegram retries an update it thinks was lost: the same update_id again.
    expect((await app.inject({ method: 'POST', url: `/webhooks/telegram/${channelId}`, payload: update, headers })).statusCode).toBe(200);
    await eventually(async () => (sentTo(7003).length > 0 ? true : undefined), 30_000, 'a reply');
    const outbound = await services.db.withTenant(tenantId, (tx) => tx.select().from(conversationMessages).where(eq(conversationMessages.direction, 'outbound')));
    const inbound = await services.db.withTenant(tenantId, (tx) => tx.select().from(conversationMessages).where(eq(conversationMessages.providerMessageId, `update:${update.update_id}`)));
    expect(inbound).toHaveLength(1);
    expect(outbound.filter((row) => row.conversationId === inbound[0]!.conversationId)).toHaveLength(1);
    const malformed = await app.inject({ method: 'POST', url: `/webhooks/telegram/${channelId}`, payload: { nope: true }, headers });
    expect(malformed.statusCode).toBe(400);
  });
});
