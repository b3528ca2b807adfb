import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { createTenant, type Clock, type OutboundMessageBody, type SecretBox } from '@relais/core';
import { channelAccounts, contactIdentities, contacts, conversationMessages, conversations, type Database } from '@relais/db';
import { sealTelegramSecrets } from '@relais/bots/telegram';
import type { TelegramSimulator } from '@relais/sim';

/**
 * A clock that only moves when the code under test sleeps (or the test advances it). Shared with
 * the Telegram simulator (its `now` option), so the simulator's rate limiter and the dates it
 * records follow the same time as our pacer: pacing is checked on those dates, with no real wait.
 */
export function virtualClock(startMs = Date.now()): Clock & { nowMs(): number; advance(ms: number): void; sleep(ms: number): Promise<void> } {
  let nowMs = startMs;
  return {
    now: () => new Date(nowMs),
    nowMs: () => nowMs,
    advance: (ms) => {
      nowMs += ms;
    },
    async sleep(ms) {
      const wakeAtMs = nowMs + ms;
      // Let the other sends of the round book and start first, as a real timer would.
      await new Promise((resolve) => setImmediate(resolve));
      nowMs = Math.max(nowMs, wakeAtMs);
    },
  };
}

let botCounter = 0;
export const newBotToken = () => `${700000 + ++botCounter}:${randomBytes(24).toString('base64url')}`;

export interface TelegramTenant {
  tenantId: string;
  accountId: string;
  token: string;
}

/** A tenant with one Telegram bot (its token sealed in the channel account), known to the simulator. */
export async function createTelegramTenant(deps: { db: Database; clock: Clock; secrets: SecretBox; sim: TelegramSimulator }, name: string): Promise<TelegramTenant> {
  const { tenant } = await createTenant({ db: deps.db, clock: deps.clock }, { name, email: `${randomUUID()}@example.cm`, mode: 'commission' });
  const token = newBotToken();
  deps.sim.addBot({ token });
  const [account] = await deps.db.withTenant(tenant.id, (tx) =>
    tx
      .insert(channelAccounts)
      .values({ tenantId: tenant.id, kind: 'telegram', name: `${name} bot`, secretsEnc: sealTelegramSecrets(deps.secrets, tenant.id, { botToken: token }) })
      .returning({ id: channelAccounts.id }),
  );
  return { tenantId: tenant.id, accountId: account!.id, token };
}

/** A contact who wrote to the bot from `chatId` (so Telegram lets the bot answer), and its conversation. */
export async function createChat(deps: { db: Database; sim: TelegramSimulator }, tenant: TelegramTenant, chatId: number): Promise<string> {
  await deps.sim.sendUserMessage(tenant.token, { chatId, text: 'bonjour' });
  return deps.db.withTenant(tenant.tenantId, async (tx) => {
    const [contact] = await tx.insert(contacts).values({ tenantId: tenant.tenantId }).returning({ id: contacts.id });
    await tx.insert(contactIdentities).values({ tenantId: tenant.tenantId, contactId: contact!.id, channelKind: 'telegram', externalId: String(chatId) });
    const [conversation] = await tx
      .insert(conversations)
      .values({ tenantId: tenant.tenantId, channelAccountId: tenant.accountId, contactId: contact!.id })
      .returning({ id: conversations.id });
    return conversation!.id;
  });
}

/** Outbound messages as the conversation engine writes them: pending, due now, `seq` in the given order. */
export async function writeOutbound(db: Database, tenant: TelegramTenant, conversationId: string, bodies: OutboundMessageBody[], now: Date): Promise<string[]> {
  return db.withTenant(tenant.tenantId, async (tx) => {
    const ids: string[] = [];
    for (const body of bodies) {
      const [row] = await tx
        .insert(conversationMessages)
        .values({ tenantId: tenant.tenantId, conversationId, channelAccountId: tenant.accountId, direction: 'outbound', body, status: 'pending', nextAttemptAt: now, createdAt: now })
        .returning({ id: conversationMessages.id });
      ids.push(row!.id);
    }
    return ids;
  });
}

export function messagesOf(db: Database, tenantId: string, conversationId: string) {
  return db.withTenant(tenantId, (tx) =>
    tx
      .select()
      .from(conversationMessages)
      .where(and(eq(conversationMessages.tenantId, tenantId), eq(conversationMessages.conversationId, conversationId)))
      .orderBy(asc(conversationMessages.seq)),
  );
}

/** Sent messages per chat per (simulated) second, from the dates the simulator recorded. */
export function largestCountPerSecond(dates: number[]): number {
  const perSecond = new Map<number, number>();
  for (const date of dates) perSecond.set(date, (perSecond.get(date) ?? 0) + 1);
  return Math.max(0, ...perSecond.values());
}
