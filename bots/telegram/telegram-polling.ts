import { Telegram } from 'telegraf';
import { AppError, loadChannelAccount, type Clock, type FileStore, type SecretBox } from '@relais/core';
import type { Database } from '@relais/db';
import { answerTelegramCallback, receiveTelegramUpdate } from './telegram-inbound.js';

/** Telegram holds a getUpdates call this long when there is nothing new (its documented long poll). */
const LONG_POLL_SECONDS = 25;
const RETRY_AFTER_ERROR_MS = 3_000;

export interface TelegramPollingOptions {
  tenantId: string;
  channelAccountId: string;
  signal: AbortSignal;
  /** After each update taken in: delivery of the replies, progress output. */
  onUpdate?: (handled: boolean) => Promise<void> | void;
  onError?: (error: unknown) => void;
}

/**
 * Long polling, for local use without a public URL: removes the bot's webhook (Telegram refuses
 * getUpdates while one is set), then takes updates in order and receives each like the webhook
 * does. The offset moves past an update only once it was received, so a crash replays it, and
 * the engine's dedupe by update id answers it once. Runs until `signal` aborts.
 */
export async function pollTelegramUpdates(deps: { db: Database; clock: Clock; secrets: SecretBox; fileStore: FileStore }, options: TelegramPollingOptions): Promise<void> {
  const account = await loadChannelAccount(deps, { tenantId: options.tenantId, channelAccountId: options.channelAccountId });
  if (account.kind !== 'telegram' || !account.secrets.botToken) throw new AppError('NOT_FOUND', 'no Telegram channel with a bot token');
  const apiRoot = typeof account.settings.apiRoot === 'string' ? account.settings.apiRoot : undefined;
  const telegram = new Telegram(account.secrets.botToken, { ...(apiRoot ? { apiRoot } : {}), webhookReply: false });
  await telegram.deleteWebhook();
  let offset = 0;
  while (!options.signal.aborted) {
    try {
      const updates = await telegram.getUpdates(LONG_POLL_SECONDS, 100, offset, ['message', 'callback_query']);
      for (const update of updates) {
        const result = await receiveTelegramUpdate(deps, account, update).catch((error: unknown) => {
          // One unreadable update must not block the ones after it.
          options.onError?.(error);
          return { handled: false, callback: undefined };
        });
        offset = update.update_id + 1;
        if (result.callback) await answerTelegramCallback(result.callback).catch((error: unknown) => options.onError?.(error));
        await options.onUpdate?.(result.handled);
      }
    } catch (error) {
      if (options.signal.aborted) break;
      options.onError?.(error);
      await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_ERROR_MS));
    }
  }
}
