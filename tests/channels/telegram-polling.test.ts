import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollTelegramUpdates } from '@relais/bots/telegram';
import { createChannelAccount, createTenant, requestMessageDelivery } from '@relais/core';
import { startTelegramSimulator, type TelegramSimulator } from '@relais/sim';
import type { Services } from '../../server/src/services.js';
import { eventually } from '../support/relais-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';

const BOT_TOKEN = '654321:TEST-polling-bot-token-xyz';

// Long polling (local use): the poller removes the webhook, takes the simulator's updates through
// the real Bot API (getUpdates), and the replies go out through the delivery queue.
describe('Telegram long polling', () => {
  let telegram: TelegramSimulator;
  let services: Services;
  const stop = new AbortController();
  let polling: Promise<void>;

  beforeAll(async () => {
    telegram = await startTelegramSimulator({ bots: [{ token: BOT_TOKEN }], rateLimits: false });
    services = await createTestServices(await createTestDatabase(), { telegramApiRoot: telegram.apiRoot });
    const tenantId = (await createTenant({ db: services.db, clock: services.clock }, { name: 'Wifi Zone Logpom', email: 'logpom@example.cm', locale: 'en' })).tenant.id;
    const account = await createChannelAccount({ db: services.db, secrets: services.secrets }, { tenantId, kind: 'telegram', name: 'Logpom bot', settings: { apiRoot: telegram.apiRoot }, secrets: { botToken: BOT_TOKEN } });
    polling = pollTelegramUpdates(services, {
      tenantId,
      channelAccountId: account.id,
      signal: stop.signal,
      onUpdate: async (handled) => {
        if (handled) await requestMessageDelivery({ queue: services.jobs, clock: services.clock });
      },
    });
    await telegram.waitForPolling(BOT_TOKEN, 10_000);
  });
  afterAll(async () => {
    stop.abort();
    await telegram?.close(); // ends the held getUpdates
    await polling?.catch(() => undefined);
    await services?.close();
  });

  it('answers a message taken by getUpdates, in the language buttons first', async () => {
    await telegram.sendUserMessage(BOT_TOKEN, { chatId: 8001, text: 'hello' });
    const reply = await eventually(async () => telegram.sent(BOT_TOKEN, 8001)[0], 30_000, 'a reply');
    expect((reply.inlineKeyboard ?? []).flat().map((button) => button.text)).toEqual(expect.arrayContaining(['Français', 'English']));
  });
});
