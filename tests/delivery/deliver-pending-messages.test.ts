import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalDiskFileStore,
  createMessagePacer,
  createSecretBox,
  deliverPendingMessages,
  DELIVERY_LEASE_MS,
  deliveryRetryDelayMs,
  type DeliverPendingMessagesDeps,
  type FileStore,
  type SecretBox,
} from '@relais/core';
import { conversationMessages, type Database } from '@relais/db';
import { startTelegramSimulator, type TelegramSimulator } from '@relais/sim';
import { createSenderFor } from '../../server/src/channel-senders.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/test-database.js';
import { createChat, createTelegramTenant, largestCountPerSecond, messagesOf, virtualClock, writeOutbound, type TelegramTenant } from './delivery-fixtures.js';

const text = (value: string) => ({ text: value });
/** Runs long enough in simulated time for every due message to go (the clock only moves when we sleep). */
const UNTIL_IDLE = { runForMs: 3_600_000 };

function tinyPng(): Buffer {
  const png = new PNG({ width: 2, height: 2 });
  png.data.fill(0xff);
  return PNG.sync.write(png);
}

describe.each(testDrivers())('deliverPendingMessages on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let sim: TelegramSimulator;
  let secrets: SecretBox;
  let fileStore: FileStore;
  let filesDir: string;
  const clock = virtualClock();
  let chatCounter = 5_000_000;
  let deps: DeliverPendingMessagesDeps;
  let alpha: TelegramTenant;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    // Telegram's own limits (1/s per chat with short bursts, 30/s per bot) on our simulated time.
    sim = await startTelegramSimulator({ now: () => clock.nowMs() });
    secrets = createSecretBox(randomBytes(32));
    filesDir = await mkdtemp(join(tmpdir(), 'relais-delivery-'));
    fileStore = createLocalDiskFileStore(filesDir);
    alpha = await createTelegramTenant({ db, clock, secrets, sim }, 'Wifi Zone Alpha');
  });
  afterAll(async () => {
    await sim?.close();
    await test?.drop();
    if (filesDir) await rm(filesDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    // A fresh pacer per test, as a fresh worker process would have; the composition root's senders.
    deps = { db, clock, fileStore, senderFor: createSenderFor({ secrets }, { telegramApiRoot: sim.apiRoot }), pacer: createMessagePacer(), sleep: clock.sleep };
  });

  const newChat = async (tenant: TelegramTenant = alpha) => {
    const chatId = ++chatCounter;
    return { chatId, conversationId: await createChat({ db, sim }, tenant, chatId) };
  };
  const tooManyRequests = () => sim.requests().filter((request) => request.status === 429);

  it('sends a conversation in seq order: text, buttons, photo with caption', async () => {
    const { chatId, conversationId } = await newChat();
    await fileStore.put('qr/voucher-1.png', tinyPng(), 'image/png');
    const ids = await writeOutbound(
      db,
      alpha,
      conversationId,
      [
        text('Bonjour ! Que voulez-vous faire ?'),
        { text: 'Choisissez un forfait', choices: [{ id: 'pkg:day', label: '1 jour — 500 FCFA' }, { id: 'pkg:week', label: '1 semaine — 2 500 FCFA' }] },
        { text: 'Votre code : ab12cd', image: { fileKey: 'qr/voucher-1.png', mimeType: 'image/png', alt: 'QR code du bon ab12cd' } },
      ],
      clock.now(),
    );

    const report = await deliverPendingMessages(deps, { tenantId: alpha.tenantId, ...UNTIL_IDLE });

    expect(report).toMatchObject({ sent: 3, retried: 0, dead: 0 });
    const sent = sim.sent(alpha.token, chatId);
    expect(sent.map((message) => message.method)).toEqual(['sendMessage', 'sendMessage', 'sendPhoto']);
    expect(sent[0]!.text).toBe('Bonjour ! Que voulez-vous faire ?');
    expect(sent[1]!.inlineKeyboard).toEqual([[{ text: '1 jour — 500 FCFA', callback_data: 'pkg:day' }], [{ text: '1 semaine — 2 500 FCFA', callback_data: 'pkg:week' }]]);
    expect(sent[2]!.caption).toBe('Votre code : ab12cd');
    expect(sent[2]!.photo?.bytes?.equals(tinyPng())).toBe(true);
    const rows = await messagesOf(db, alpha.tenantId, conversationId);
    expect(rows.map((row) => row.id)).toEqual(ids);
    for (const [index, row] of rows.entries()) {
      expect(row).toMatchObject({ status: 'sent', attempts: 1, providerMessageId: `${chatId}/${sent[index]!.messageId}`, lastError: null });
      expect(row.sentAt).not.toBeNull();
    }
  });

  it('paces each chat to one message a second and never overtakes within a conversation', async () => {
    const chats = [await newChat(), await newChat(), await newChat()];
    for (const chat of chats) {
      await writeOutbound(db, alpha, chat.conversationId, Array.from({ length: 6 }, (_, index) => text(`message ${index + 1}`)), clock.now());
    }
    const rejectedBefore = tooManyRequests().length;

    const report = await deliverPendingMessages(deps, { tenantId: alpha.tenantId, ...UNTIL_IDLE });

    expect(report.sent).toBe(18);
    for (const chat of chats) {
      const sent = sim.sent(alpha.token, chat.chatId);
      expect(sent.map((message) => message.text)).toEqual(['message 1', 'message 2', 'message 3', 'message 4', 'message 5', 'message 6']);
      // Counted on the simulator's record of when each message arrived (its clock is ours).
      expect(largestCountPerSecond(sent.map((message) => message.date))).toBe(1);
      expect(new Set(sent.map((message) => message.date)).size).toBe(6);
    }
    expect(tooManyRequests().length).toBe(rejectedBefore);
  });

  it('honours retry_after on a 429 and keeps the rest of the conversation behind the retried message', async () => {
    const { chatId, conversationId } = await newChat();
    const [first, second] = await writeOutbound(db, alpha, conversationId, [text('first'), text('second')], clock.now());
    sim.setFaults({ failNext: { status: 429, retryAfter: 7, method: 'sendMessage' } });
    const failedAt = clock.nowMs();

    const report = await deliverPendingMessages(deps, { tenantId: alpha.tenantId, ...UNTIL_IDLE });

    expect(report).toMatchObject({ sent: 0, retried: 1 });
    let rows = await messagesOf(db, alpha.tenantId, conversationId);
    expect(rows[0]).toMatchObject({ id: first, status: 'failed', attempts: 1 });
    expect(rows[0]!.nextAttemptAt!.getTime()).toBe(failedAt + 7_000);
    expect(rows[0]!.lastError).toContain('429');
    expect(rows[1]).toMatchObject({ id: second, status: 'pending', attempts: 0 });
    expect(sim.sent(alpha.token, chatId)).toEqual([]);

    // Not due yet: nothing goes, and the second message does not overtake.
    clock.advance(6_000);
    expect((await deliverPendingMessages(deps, { tenantId: alpha.tenantId, ...UNTIL_IDLE })).sent).toBe(0);
    clock.advance(1_000);
    expect((await deliverPendingMessages(deps, { tenantId: alpha.tenantId, ...UNTIL_IDLE })).sent).toBe(2);
    expect(sim.sent(alpha.token, chatId).map((message) => message.text)).toEqual(['first', 'second']);
    rows = await messagesOf(db, alpha.tenantId, conversationId);
    expect(rows.map((row) => [row.status, row.attempts, row.lastError])).toEqual([
      ['sent', 2, null],
      ['sent', 1, null],
    ]);
  });

  it('retries with backoff, then dead-letters after maxAttempts; the next message still goes', async () => {
    const { chatId, conversationId } = await newChat();
    await writeOutbound(db, alpha, conversationId, [text('doomed'), text('after')], clock.now());
    sim.setFaults({ failNext: { status: 502, description: 'Bad Gateway', method: 'sendMessage', times: 3 } });

    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const before = clock.nowMs();
      const report = await deliverPendingMessages(deps, { tenantId: alpha.tenantId, maxAttempts: 3, ...UNTIL_IDLE });
      const [doomed] = await messagesOf(db, alpha.tenantId, conversationId);
      expect(doomed!.attempts).toBe(attempt);
      if (attempt < 3) {
        expect(report.retried).toBe(1);
        expect(doomed).toMatchObject({ status: 'failed', lastError: 'Telegram 502: Bad Gateway' });
        expect(doomed!.nextAttemptAt!.getTime()).toBe(before + deliveryRetryDelayMs(attempt));
        clock.advance(deliveryRetryDelayMs(attempt));
      } else {
        expect(report).toMatchObject({ dead: 1, sent: 1 });
      }
    }
    const rows = await messagesOf(db, alpha.tenantId, conversationId);
    expect(rows.map((row) => row.status)).toEqual(['dead', 'sent']);
    expect(rows[0]!.lastError).toBe('Telegram 502: Bad Gateway');
    expect(sim.sent(alpha.token, chatId).map((message) => message.text)).toEqual(['after']);
  });

  it('dead-letters at once on a permanent error (bot blocked), with no secret in last_error', async () => {
    const { chatId, conversationId } = await newChat();
    await writeOutbound(db, alpha, conversationId, [text('anyone there?')], clock.now());
    sim.blockBot(alpha.token, chatId);

    const report = await deliverPendingMessages(deps, { tenantId: alpha.tenantId, ...UNTIL_IDLE });

    expect(report).toMatchObject({ dead: 1, retried: 0, sent: 0 });
    const [row] = await messagesOf(db, alpha.tenantId, conversationId);
    expect(row).toMatchObject({ status: 'dead', attempts: 1, lastError: 'Telegram 403: Forbidden: bot was blocked by the user', nextAttemptAt: null });
    expect(row!.lastError).not.toContain(alpha.token.split(':')[1]!);
  });

  it('takes back a message whose sender died while sending, once its lease has passed', async () => {
    const { chatId, conversationId } = await newChat();
    const [stuck] = await writeOutbound(db, alpha, conversationId, [text('stuck'), text('then me')], clock.now());
    // What a process that claimed the message and died leaves behind.
    await db.withTenant(alpha.tenantId, (tx) =>
      tx
        .update(conversationMessages)
        .set({ status: 'sending', attempts: 1, nextAttemptAt: new Date(clock.nowMs() + DELIVERY_LEASE_MS) })
        .where(and(eq(conversationMessages.tenantId, alpha.tenantId), eq(conversationMessages.id, stuck!))),
    );

    expect((await deliverPendingMessages(deps, { tenantId: alpha.tenantId, ...UNTIL_IDLE })).sent).toBe(0);
    expect(sim.sent(alpha.token, chatId)).toEqual([]);

    clock.advance(DELIVERY_LEASE_MS);
    expect((await deliverPendingMessages(deps, { tenantId: alpha.tenantId, ...UNTIL_IDLE })).sent).toBe(2);
    expect(sim.sent(alpha.token, chatId).map((message) => message.text)).toEqual(['stuck', 'then me']);
    expect((await messagesOf(db, alpha.tenantId, conversationId)).map((row) => [row.status, row.attempts])).toEqual([
      ['sent', 2],
      ['sent', 1],
    ]);
  });

  it("serves tenants in turn: a 200-message burst of one does not hold another's single message", async () => {
    const burst = await createTelegramTenant({ db, clock, secrets, sim }, 'Burst Networks');
    const quiet = await createTelegramTenant({ db, clock, secrets, sim }, 'Quiet Hotspot');
    const burstChats: { chatId: number; conversationId: string }[] = [];
    for (let index = 0; index < 50; index += 1) burstChats.push(await newChat(burst));
    for (const chat of burstChats) {
      await writeOutbound(db, burst, chat.conversationId, [1, 2, 3, 4].map((n) => text(`promo ${n}`)), clock.now());
    }
    const quietChat = await newChat(quiet);
    await writeOutbound(db, quiet, quietChat.conversationId, [text('Votre code : zz99')], clock.now());

    // The burst tenant was created first, so it is served first in every round.
    const firstRound = await deliverPendingMessages(deps, { maxRounds: 1, perTenantBatch: 10 });

    expect(firstRound.rounds).toBe(1);
    expect(firstRound.byTenant[quiet.tenantId]).toMatchObject({ sent: 1 });
    expect(firstRound.byTenant[burst.tenantId]).toMatchObject({ sent: 10 });
    expect(sim.sent(quiet.token).map((message) => message.text)).toEqual(['Votre code : zz99']);

    const rest = await deliverPendingMessages(deps, { perTenantBatch: 10, ...UNTIL_IDLE });
    expect(rest.byTenant[burst.tenantId]).toMatchObject({ sent: 190, retried: 0, dead: 0 });
    for (const chat of burstChats) {
      const sent = sim.sent(burst.token, chat.chatId);
      expect(sent.map((message) => message.text)).toEqual(['promo 1', 'promo 2', 'promo 3', 'promo 4']);
      expect(largestCountPerSecond(sent.map((message) => message.date))).toBe(1);
    }
    // Per bot: never above Telegram's 30 a second.
    expect(largestCountPerSecond(sim.sent(burst.token).map((message) => message.date))).toBeLessThanOrEqual(30);
  });

  it('lets two runs work at once: every message sent exactly once, each conversation in order', async () => {
    const chats = [];
    for (let index = 0; index < 12; index += 1) chats.push(await newChat());
    for (const chat of chats) await writeOutbound(db, alpha, chat.conversationId, [text('un'), text('deux'), text('trois')], clock.now());

    // Two worker processes: each its own pacer, the same database.
    const [one, two] = await Promise.all([
      deliverPendingMessages({ ...deps, pacer: createMessagePacer() }, { tenantId: alpha.tenantId, perTenantBatch: 4, ...UNTIL_IDLE }),
      deliverPendingMessages({ ...deps, pacer: createMessagePacer() }, { tenantId: alpha.tenantId, perTenantBatch: 4, ...UNTIL_IDLE }),
    ]);

    expect(one.sent + two.sent).toBe(36);
    for (const chat of chats) {
      expect(sim.sent(alpha.token, chat.chatId).map((message) => message.text)).toEqual(['un', 'deux', 'trois']);
      expect((await messagesOf(db, alpha.tenantId, chat.conversationId)).map((row) => [row.status, row.attempts])).toEqual([
        ['sent', 1],
        ['sent', 1],
        ['sent', 1],
      ]);
    }
  });

  it("keeps tenants apart: one tenant's run sends nothing of another's, each through its own bot", async () => {
    const other = await createTelegramTenant({ db, clock, secrets, sim }, 'Other Reseller');
    const mine = await newChat();
    const theirs = await newChat(other);
    await writeOutbound(db, alpha, mine.conversationId, [text('pour alpha')], clock.now());
    await writeOutbound(db, other, theirs.conversationId, [text('pour other')], clock.now());

    const report = await deliverPendingMessages(deps, { tenantId: other.tenantId, ...UNTIL_IDLE });

    expect(Object.keys(report.byTenant)).toEqual([other.tenantId]);
    expect(sim.sent(other.token).map((message) => message.text)).toEqual(['pour other']);
    expect((await messagesOf(db, alpha.tenantId, mine.conversationId))[0]).toMatchObject({ status: 'pending', attempts: 0 });
    // Row-level security: the other tenant's context does not even see alpha's conversation.
    expect(await messagesOf(db, other.tenantId, mine.conversationId)).toEqual([]);

    await deliverPendingMessages(deps, { tenantId: alpha.tenantId, ...UNTIL_IDLE });
    expect(sim.sent(alpha.token, mine.chatId).map((message) => message.text)).toEqual(['pour alpha']);
    expect(sim.sent(other.token).map((message) => message.text)).toEqual(['pour other']);
  });
});
