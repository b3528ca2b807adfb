import { randomBytes } from 'node:crypto';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox, type SendRequest } from '@relais/core';
import { createTelegramSender, createTelegramSenders, openTelegramSecrets, sealTelegramSecrets, TELEGRAM_CAPABILITIES, TELEGRAM_MAX_CAPTION_LENGTH } from '@relais/bots/telegram';
import { startTelegramSimulator, type TelegramSimulator } from '@relais/sim';
import { freePort } from '../support/relais-process.js';
import { newBotToken } from './delivery-fixtures.js';
import { sendErrorOf } from '../support/app-error-of.js';

const TENANT_ID = '8a4c2a52-1f0e-4bd4-9f5c-0a8f6d1f2b3c';
const ACCOUNT_ID = '0d6f7c1e-52b8-4a1c-8a8e-3c1e2f4a5b6d';

function png(): Buffer {
  const image = new PNG({ width: 3, height: 3 });
  image.data.fill(0x80);
  return PNG.sync.write(image);
}


describe('Telegram sender against the Bot API simulator', () => {
  let sim: TelegramSimulator;
  const token = newBotToken();
  const chatId = 424242;
  let request: (body: SendRequest['body'], extra?: Partial<SendRequest>) => SendRequest;

  beforeAll(async () => {
    // No rate limits here: these tests are about rendering and error mapping, not pacing.
    sim = await startTelegramSimulator({ bots: [{ token }], rateLimits: false });
    await sim.sendUserMessage(token, { chatId, text: '/start' });
    request = (body, extra = {}) => ({ tenantId: TENANT_ID, channelAccountId: ACCOUNT_ID, recipient: String(chatId), body, messageId: 'm-1', ...extra });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('declares what Telegram shows and how fast it may be written to', () => {
    const sender = createTelegramSender({ botToken: token, apiRoot: sim.apiRoot });
    expect(sender.capabilities).toEqual(TELEGRAM_CAPABILITIES);
    expect(sender.capabilities).toMatchObject({ buttons: true, images: true, maxTextLength: 4096 });
    expect(sender.limits).toEqual({ perChatPerSecond: 1, perAccountPerSecond: 30 });
  });

  it('renders text, choices as an inline keyboard, and an image as a photo with its caption', async () => {
    const sender = createTelegramSender({ botToken: token, apiRoot: sim.apiRoot });
    const before = sim.sent(token, chatId).length;
    const plain = await sender.send(request({ text: 'Bonjour' }));
    const menu = await sender.send(request({ text: 'Menu', choices: [{ id: 'buy', label: 'Acheter du WiFi' }, { id: 'help', label: 'Aide' }] }));
    const photo = await sender.send(
      request({ text: 'Code : xy77', image: { fileKey: 'qr/x.png', mimeType: 'image/png', alt: 'QR xy77' }, choices: [{ id: 'menu', label: 'Menu' }] }, { imageBytes: png() }),
    );

    const sent = sim.sent(token, chatId).slice(before);
    expect(sent.map((message) => [message.method, message.text ?? message.caption])).toEqual([
      ['sendMessage', 'Bonjour'],
      ['sendMessage', 'Menu'],
      ['sendPhoto', 'Code : xy77'],
    ]);
    expect(sent[0]!.inlineKeyboard).toBeUndefined();
    expect(sent[1]!.inlineKeyboard).toEqual([[{ text: 'Acheter du WiFi', callback_data: 'buy' }], [{ text: 'Aide', callback_data: 'help' }]]);
    expect(sent[2]!.inlineKeyboard).toEqual([[{ text: 'Menu', callback_data: 'menu' }]]);
    expect(sent[2]!.photo).toMatchObject({ source: 'upload', width: 3, height: 3 });
    expect(sent[2]!.photo!.bytes!.equals(png())).toBe(true);
    expect([plain, menu, photo].map((result) => result.providerMessageId)).toEqual(sent.map((message) => `${chatId}/${message.messageId}`));
  });

  it('sends a text too long for a caption after the photo, with the buttons on the text', async () => {
    const sender = createTelegramSender({ botToken: token, apiRoot: sim.apiRoot });
    const before = sim.sent(token, chatId).length;
    const longText = 'Comment se connecter : '.padEnd(TELEGRAM_MAX_CAPTION_LENGTH + 50, '.');
    await sender.send(request({ text: longText, image: { fileKey: 'qr/y.png', mimeType: 'image/png', alt: 'QR code' }, choices: [{ id: 'menu', label: 'Menu' }] }, { imageBytes: png() }));

    const sent = sim.sent(token, chatId).slice(before);
    expect(sent.map((message) => message.method)).toEqual(['sendPhoto', 'sendMessage']);
    expect(sent[0]!.caption).toBe('QR code');
    expect(sent[1]).toMatchObject({ text: longText, inlineKeyboard: [[{ text: 'Menu', callback_data: 'menu' }]] });
  });

  it('maps 429 to a retry after retry_after, 5xx to a retry, 400/403 to permanent failures', async () => {
    const sender = createTelegramSender({ botToken: token, apiRoot: sim.apiRoot });
    sim.setFaults({ failNext: { status: 429, retryAfter: 12 } });
    expect(await sendErrorOf(sender.send(request({ text: 'x' })))).toMatchObject({ permanent: false, retryAfterMs: 12_000 });

    sim.setFaults({ failNext: { status: 500 } });
    expect(await sendErrorOf(sender.send(request({ text: 'x' })))).toMatchObject({ permanent: false, retryAfterMs: undefined });

    const unknownChat = await sendErrorOf(sender.send(request({ text: 'x' }, { recipient: '999000111' })));
    expect(unknownChat).toMatchObject({ permanent: true, message: 'Telegram 400: Bad Request: chat not found' });

    const blockedChat = 515151;
    await sim.sendUserMessage(token, { chatId: blockedChat, text: 'hi' });
    sim.blockBot(token, blockedChat);
    expect(await sendErrorOf(sender.send(request({ text: 'x' }, { recipient: String(blockedChat) })))).toMatchObject({
      permanent: true,
      message: 'Telegram 403: Forbidden: bot was blocked by the user',
    });

    // Our own check: Telegram would refuse the button (64 bytes at most), so never retry it.
    expect(await sendErrorOf(sender.send(request({ text: 'x', choices: [{ id: 'c'.repeat(65), label: 'Trop long' }] })))).toMatchObject({ permanent: true });
  });

  it('never puts the bot token in an error, whatever failed', async () => {
    const secretPart = token.split(':')[1]!;
    // A refused token (401) and a Bot API that is not there at all (connection refused).
    const refused = await sendErrorOf(createTelegramSender({ botToken: newBotToken(), apiRoot: sim.apiRoot }).send(request({ text: 'x' })));
    expect(refused).toMatchObject({ permanent: false, message: 'Telegram 401: Unauthorized' });
    const unreachable = await sendErrorOf(createTelegramSender({ botToken: token, apiRoot: `http://127.0.0.1:${await freePort()}` }).send(request({ text: 'x' })));
    expect(unreachable.permanent).toBe(false);
    for (const error of [refused, unreachable]) {
      expect(`${error.message} ${error.stack ?? ''} ${String(error.cause ?? '')}`).not.toContain(secretPart);
    }
  });

  it('opens the bot token sealed for the tenant, and builds one sender per account version', () => {
    const secrets = createSecretBox(randomBytes(32));
    const sealed = sealTelegramSecrets(secrets, TENANT_ID, { botToken: token });
    expect(sealed).not.toContain(secretPartOf(token));
    const account = { tenantId: TENANT_ID, id: ACCOUNT_ID, kind: 'telegram', externalId: null, settings: {}, secretsEnc: sealed, updatedAt: new Date(1_000) };
    expect(openTelegramSecrets(secrets, account).botToken).toBe(token);
    // Sealed for one tenant, useless in another's row.
    expect(() => openTelegramSecrets(secrets, { ...account, tenantId: '3b1d7a4e-2c6f-4e8a-9d0b-1f2e3d4c5b6a' })).toThrow(/cannot be decrypted/);

    const senders = createTelegramSenders({ secrets }, { apiRoot: sim.apiRoot });
    expect(senders(account)).toBe(senders(account));
    expect(senders({ ...account, updatedAt: new Date(2_000) })).not.toBe(senders(account));
  });
});

const secretPartOf = (botToken: string) => botToken.split(':')[1]!;
