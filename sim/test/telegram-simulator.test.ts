import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { Markup, Telegraf, TelegramError } from 'telegraf';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelegramSimulator, type TelegramSimulator, type TelegramSimulatorOptions } from '../src/index.js';

// The Telegram simulator driven by the real telegraf client over HTTP (its apiRoot points at it).

const TOKEN = '7000000001:AAsimulatedTokenOne-abcdefghijk';
const OTHER_TOKEN = '7000000002:AAsimulatedTokenTwo-abcdefghijk';
const CHAT = 237_670_000_001;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function simulator(options: TelegramSimulatorOptions = {}): Promise<TelegramSimulator> {
  const sim = await startTelegramSimulator({ bots: [{ token: TOKEN, username: 'relais_demo_bot' }, { token: OTHER_TOKEN }], ...options });
  cleanups.push(() => sim.close());
  return sim;
}

function telegraf(sim: TelegramSimulator, token = TOKEN): Telegraf {
  // webhookReply false: every call goes to the API, so errors surface (INTEGRATIONS.md).
  return new Telegraf(token, { telegram: { apiRoot: sim.apiRoot, webhookReply: false } });
}

/** A valid PNG of the given size (one grey row repeated), built here so the test needs no fixture file. */
function png(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.concat(Array.from({ length: height }, () => Buffer.concat([Buffer.from([0]), Buffer.alloc(width, 0x80)])));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** Our webhook endpoint stand-in: telegraf's own webhookCallback on a plain node:http server. */
async function webhookServer(bot: Telegraf, path: string, secretToken: string, failFirst = 0): Promise<{ url: string; statuses: number[] }> {
  const callback = bot.webhookCallback(path, { secretToken });
  const statuses: number[] = [];
  let toFail = failFirst;
  const server: Server = createServer((request, response) => {
    response.on('finish', () => statuses.push(response.statusCode));
    if (toFail > 0) {
      toFail -= 1;
      response.statusCode = 500;
      response.end();
      return;
    }
    void callback(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, statuses };
}

async function telegramError(promise: Promise<unknown>): Promise<TelegramError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(TelegramError);
  return error as TelegramError;
}

describe('Telegram Bot API simulator', () => {
  it('answers getMe per token and 401 Unauthorized for an unknown one', async () => {
    const sim = await simulator();
    expect(await telegraf(sim).telegram.getMe()).toMatchObject({ id: 7000000001, is_bot: true, username: 'relais_demo_bot' });
    expect((await telegraf(sim, OTHER_TOKEN).telegram.getMe()).id).toBe(7000000002);
    const error = await telegramError(telegraf(sim, '7000000009:AAunknownToken-abcdefghijklmn').telegram.getMe());
    expect(error.code).toBe(401);
    expect(error.description).toBe('Unauthorized');
  });

  it('records text with an inline keyboard, and refuses chats that never wrote', async () => {
    const sim = await simulator();
    const bot = telegraf(sim);
    expect((await telegramError(bot.telegram.sendMessage(CHAT, 'Bonjour'))).description).toBe('Bad Request: chat not found');

    await sim.sendUserMessage(TOKEN, { chatId: CHAT, text: 'bonjour' });
    const keyboard = Markup.inlineKeyboard([[Markup.button.callback('Acheter du WiFi', 'menu:buy')], [Markup.button.callback('Mon WiFi', 'menu:mine')]]);
    const message = await bot.telegram.sendMessage(CHAT, 'Que voulez-vous faire ?', keyboard);
    expect(message).toMatchObject({ chat: { id: CHAT, type: 'private' }, text: 'Que voulez-vous faire ?', from: { is_bot: true } });

    const [sent] = sim.sent(TOKEN, CHAT);
    expect(sent).toMatchObject({ method: 'sendMessage', text: 'Que voulez-vous faire ?', messageId: message.message_id });
    expect(sent!.inlineKeyboard).toEqual([[{ text: 'Acheter du WiFi', callback_data: 'menu:buy' }], [{ text: 'Mon WiFi', callback_data: 'menu:mine' }]]);
    expect(sim.sent(OTHER_TOKEN)).toEqual([]); // bots are isolated

    const tooLong = Markup.inlineKeyboard([Markup.button.callback('x', 'd'.repeat(65))]);
    expect((await telegramError(bot.telegram.sendMessage(CHAT, 'x', tooLong))).description).toBe('Bad Request: BUTTON_DATA_INVALID');
  });

  it('takes a photo uploaded from a Buffer, then the same photo by file_id, and rejects bytes that are no image', async () => {
    const sim = await simulator();
    const bot = telegraf(sim);
    await sim.sendUserMessage(TOKEN, { chatId: CHAT, text: '/start' });
    const qr = png(120, 120);

    const first = await bot.telegram.sendPhoto(CHAT, { source: qr, filename: 'voucher.png' }, { caption: 'Code : 7KQ2-91XA' });
    expect(first.photo.at(-1)).toMatchObject({ width: 120, height: 120, file_size: qr.length });
    const fileId = first.photo.at(-1)!.file_id;
    const again = await bot.telegram.sendPhoto(CHAT, fileId);
    expect(again.photo.at(-1)!.file_id).toBe(fileId);

    const [upload, reuse] = sim.sent(TOKEN, CHAT);
    expect(upload!.photo).toMatchObject({ source: 'upload', size: qr.length, width: 120, height: 120, fileName: 'voucher.png' });
    expect(upload!.photo!.bytes!.equals(qr)).toBe(true);
    expect(upload!.caption).toBe('Code : 7KQ2-91XA');
    expect(reuse!.photo).toMatchObject({ source: 'file_id', fileId });

    expect((await telegramError(bot.telegram.sendPhoto(CHAT, { source: Buffer.from('not an image') }))).description).toBe('Bad Request: IMAGE_PROCESS_FAILED');
    expect((await telegramError(bot.telegram.sendPhoto(CHAT, 'AgACnope'))).description).toBe('Bad Request: wrong file identifier/HTTP URL specified');
  });

  it('answers 429 with retry_after once a chat goes over its rate, until the (simulated) clock moves on', async () => {
    let now = Date.UTC(2025, 0, 1);
    const sim = await simulator({ now: () => now, rateLimits: { perChat: { perSecond: 1, burst: 2 }, perBot: { perSecond: 30, burst: 30 } } });
    const bot = telegraf(sim);
    await sim.sendUserMessage(TOKEN, { chatId: CHAT, text: 'hi' });
    await bot.telegram.sendMessage(CHAT, 'un');
    await bot.telegram.sendMessage(CHAT, 'deux');
    const error = await telegramError(bot.telegram.sendMessage(CHAT, 'trois'));
    expect(error.code).toBe(429);
    expect(error.description).toBe('Too Many Requests: retry after 1');
    expect(error.parameters).toEqual({ retry_after: 1 });

    now += 1_000;
    await bot.telegram.sendMessage(CHAT, 'trois');
    expect(sim.sent(TOKEN, CHAT).map((entry) => entry.text)).toEqual(['un', 'deux', 'trois']);
  });

  it('limits each bot to its rate across chats, and can be turned off', async () => {
    const now = Date.UTC(2025, 0, 1);
    const limited = await simulator({ now: () => now, rateLimits: { perChat: { perSecond: 1, burst: 5 }, perBot: { perSecond: 2, burst: 2 } } });
    const bot = telegraf(limited);
    for (const chat of [1, 2, 3]) await limited.sendUserMessage(TOKEN, { chatId: chat, text: 'hi' });
    await bot.telegram.sendMessage(1, 'a');
    await bot.telegram.sendMessage(2, 'b');
    expect((await telegramError(bot.telegram.sendMessage(3, 'c'))).code).toBe(429);

    const unlimited = await simulator({ now: () => now, rateLimits: false });
    const free = telegraf(unlimited);
    await unlimited.sendUserMessage(TOKEN, { chatId: CHAT, text: 'hi' });
    for (let index = 0; index < 40; index++) await free.telegram.sendMessage(CHAT, `message ${index}`);
    expect(unlimited.sent(TOKEN, CHAT)).toHaveLength(40);
  });

  it('delivers updates to the webhook with the secret-token header; telegraf answers, presses and edits', async () => {
    const sim = await simulator();
    const bot = telegraf(sim);
    bot.start((ctx) => ctx.reply('Bienvenue !', Markup.inlineKeyboard([Markup.button.callback('Acheter du WiFi', 'menu:buy')])));
    bot.action('menu:buy', async (ctx) => {
      await ctx.answerCbQuery('OK');
      await ctx.editMessageReplyMarkup(undefined);
      await ctx.reply('Choisissez un forfait');
    });
    const secretToken = randomBytes(16).toString('hex');
    const hook = await webhookServer(bot, '/webhooks/telegram/channel-1', secretToken);
    await bot.telegram.setWebhook(hook.url, { secret_token: secretToken });
    expect(sim.webhook(TOKEN)).toMatchObject({ url: hook.url, secretToken });
    expect(await bot.telegram.getWebhookInfo()).toMatchObject({ url: hook.url, pending_update_count: 0 });

    const update = await sim.sendUserMessage(TOKEN, { chatId: CHAT, from: { firstName: 'Awa', languageCode: 'fr' }, text: '/start' });
    expect(update).toMatchObject({ message: { text: '/start', entities: [{ type: 'bot_command', offset: 0, length: 6 }], chat: { id: CHAT, type: 'private' }, from: { first_name: 'Awa', is_bot: false } } });
    const [welcome] = await sim.waitForSent(TOKEN, { chatId: CHAT });
    expect(welcome!.inlineKeyboard).toEqual([[{ text: 'Acheter du WiFi', callback_data: 'menu:buy' }]]);

    const press = await sim.pressButton(TOKEN, { chatId: CHAT, callbackData: 'menu:buy' });
    expect(press).toMatchObject({ callback_query: { data: 'menu:buy', message: { message_id: welcome!.messageId }, from: { id: CHAT } } });
    const after = await sim.waitForSent(TOKEN, { chatId: CHAT, count: 2 });
    expect(after[1]!.text).toBe('Choisissez un forfait');
    expect(after[0]).toMatchObject({ edits: 1, inlineKeyboard: undefined });
    expect(sim.callbackAnswers(TOKEN)).toEqual([{ callbackQueryId: (press as { callback_query: { id: string } }).callback_query.id, text: 'OK', showAlert: undefined }]);
    expect(sim.webhookDeliveries(TOKEN).map((delivery) => delivery.status)).toEqual([200, 200]);

    // Telegraf refuses an update without the right secret: what a forged call would get.
    const forged = await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': 'wrong' }, body: JSON.stringify(update) });
    expect(forged.status).toBe(403);
  });

  it('keeps an update the webhook rejected and sends it again, showing the error in getWebhookInfo', async () => {
    const sim = await simulator({ webhookRetryMs: 5 });
    const bot = telegraf(sim);
    bot.on('message', (ctx) => ctx.reply('reçu'));
    const hook = await webhookServer(bot, '/hook', 'secret', 2);
    await bot.telegram.setWebhook(hook.url, { secret_token: 'secret' });
    await sim.sendUserMessage(TOKEN, { chatId: CHAT, text: 'allo' });
    expect(sim.webhookDeliveries(TOKEN).map((delivery) => delivery.outcome)).toEqual(['rejected', 'rejected', 'accepted']);
    expect(await bot.telegram.getWebhookInfo()).toMatchObject({ pending_update_count: 0, last_error_message: 'Wrong response from the webhook: 500' });
    expect((await sim.waitForSent(TOKEN, { chatId: CHAT }))[0]!.text).toBe('reçu');
    expect((await telegramError(bot.telegram.callApi('getUpdates', {}))).code).toBe(409);
  });

  it('serves long polling: getUpdates holds until an update comes, offsets confirm, telegraf launch/stop works', async () => {
    const sim = await simulator();
    const raw = telegraf(sim);
    const held = raw.telegram.callApi('getUpdates', { timeout: 30 });
    await sim.sendUserMessage(TOKEN, { chatId: CHAT, text: 'premier' });
    const [first] = await held;
    expect(first).toMatchObject({ message: { text: 'premier' } });
    await sim.sendUserMessage(TOKEN, { chatId: CHAT, text: 'second' });
    const again = await raw.telegram.callApi('getUpdates', { offset: first!.update_id + 1, timeout: 0 });
    expect(again.map((update) => ('message' in update && update.message && 'text' in update.message ? update.message.text : undefined))).toEqual(['second']);
    expect(sim.pendingUpdates(TOKEN)).toHaveLength(1);
    await raw.telegram.callApi('getUpdates', { offset: again[0]!.update_id + 1, timeout: 0 });

    const bot = telegraf(sim);
    bot.on('text', (ctx) => ctx.reply(`écho : ${ctx.message.text}`));
    const launched = new Promise<void>((resolve) => void bot.launch(() => resolve()).catch(() => undefined));
    await launched;
    await sim.sendUserMessage(TOKEN, { chatId: CHAT, text: 'menu' });
    expect((await sim.waitForSent(TOKEN, { chatId: CHAT }))[0]!.text).toBe('écho : menu');
    bot.stop('test over');
  });

  it('answers a second concurrent getUpdates by terminating the first with 409', async () => {
    const sim = await simulator();
    const bot = telegraf(sim);
    const first = bot.telegram.callApi('getUpdates', { timeout: 30 });
    // Let the first request reach the simulator before the second one.
    await sim.waitForPolling(TOKEN);
    const second = bot.telegram.callApi('getUpdates', { timeout: 30 });
    expect((await telegramError(first)).description).toContain('terminated by other getUpdates request');
    await sim.sendUserMessage(TOKEN, { chatId: CHAT, text: 'x' });
    expect(await second).toHaveLength(1);
  });

  it('injects failures and refuses blocked chats', async () => {
    const sim = await simulator();
    const bot = telegraf(sim);
    await sim.sendUserMessage(TOKEN, { chatId: CHAT, text: 'hi' });
    sim.setFaults({ failNext: { status: 502, method: 'sendMessage' } });
    expect((await telegramError(bot.telegram.sendMessage(CHAT, 'x'))).code).toBe(502);
    await bot.telegram.sendMessage(CHAT, 'y');
    sim.setFaults({ failNext: { status: 429, retryAfter: 7, times: 2 } });
    const limited = await telegramError(bot.telegram.sendMessage(CHAT, 'z'));
    expect(limited.parameters).toEqual({ retry_after: 7 });
    expect((await telegramError(bot.telegram.getMe())).code).toBe(429);
    await bot.telegram.getMe();

    sim.blockBot(TOKEN, CHAT);
    const blocked = await telegramError(bot.telegram.sendMessage(CHAT, 'encore'));
    expect(blocked.code).toBe(403);
    expect(blocked.description).toBe('Forbidden: bot was blocked by the user');
    expect(sim.sent(TOKEN, CHAT).map((entry) => entry.text)).toEqual(['y']);
  });
});
