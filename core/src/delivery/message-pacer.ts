import type { SendLimits } from '../shared/ports/channel-sender.js';

/**
 * Books send times so that each chat and each channel account stays within its sender's limits.
 * Sends are spaced evenly (1 / rate apart, plus jitter on the account), never bursted: providers
 * tolerate short bursts, but spacing keeps us clear of their 429s and WhatsApp's ban heuristics.
 *
 * State lives in this process's memory: one pacer per worker process, shared by every run of the
 * delivery job. Several worker processes would each pace on their own (docs/decisions).
 */
export interface MessagePacer {
  /**
   * The earliest time (ms since epoch) a send to `chatKey` on `accountKey` respects both limits.
   * Booked (the next send goes after it) only when it is at most `maxWaitMs` away; otherwise the
   * caller defers the message to that time and asks again then.
   */
  reserve(request: { accountKey: string; chatKey: string; limits: SendLimits; nowMs: number; maxWaitMs: number }): { atMs: number; booked: boolean };
  /** Nothing goes to this chat before `untilMs`: the provider asked us to wait (429 retry_after). */
  holdOffChat(accountKey: string, chatKey: string, untilMs: number): void;
}

/** Above this many tracked keys, the ones whose next free time has passed are forgotten. */
const PRUNE_ABOVE_KEYS = 10_000;

export function createMessagePacer(options: { random?: () => number } = {}): MessagePacer {
  const random = options.random ?? Math.random;
  /** key -> earliest ms the next send to it may start. */
  const nextFreeMs = new Map<string, number>();
  const chatKeyOf = (accountKey: string, chatKey: string) => `chat:${accountKey}:${chatKey}`;
  const accountKeyOf = (accountKey: string) => `account:${accountKey}`;

  const prune = (nowMs: number) => {
    if (nextFreeMs.size <= PRUNE_ABOVE_KEYS) return;
    for (const [key, at] of nextFreeMs) if (at <= nowMs) nextFreeMs.delete(key);
  };

  return {
    reserve({ accountKey, chatKey, limits, nowMs, maxWaitMs }) {
      const chat = chatKeyOf(accountKey, chatKey);
      const account = accountKeyOf(accountKey);
      const atMs = Math.max(nowMs, nextFreeMs.get(chat) ?? nowMs, nextFreeMs.get(account) ?? nowMs);
      if (atMs - nowMs > maxWaitMs) return { atMs, booked: false };
      const jitterMs = limits.jitterMs ? Math.floor(random() * limits.jitterMs) : 0;
      // Whole milliseconds, rounded up: never a hair faster than the limit.
      nextFreeMs.set(chat, atMs + Math.ceil(1000 / limits.perChatPerSecond));
      nextFreeMs.set(account, atMs + Math.ceil(1000 / limits.perAccountPerSecond) + jitterMs);
      prune(nowMs);
      return { atMs, booked: true };
    },
    holdOffChat(accountKey, chatKey, untilMs) {
      const chat = chatKeyOf(accountKey, chatKey);
      nextFreeMs.set(chat, Math.max(nextFreeMs.get(chat) ?? 0, untilMs));
    },
  };
}
