import type { ChannelSender, SecretBox, SendingChannelAccount } from '@relais/core';
import { openTelegramSecrets } from './telegram-secrets.js';
import { createTelegramSender, type TelegramSenderOptions } from './telegram-sender.js';

/**
 * Senders for Telegram channel accounts, one per account, rebuilt when the account changes
 * (`updatedAt`: a new token). The composition root calls it for accounts of kind 'telegram'.
 * The Bot API root is the account's `settings.apiRoot`, else `options.apiRoot`, else Telegram's.
 */
export function createTelegramSenders(deps: { secrets: SecretBox }, options: Omit<TelegramSenderOptions, 'botToken'> = {}): (account: SendingChannelAccount) => ChannelSender {
  const cache = new Map<string, { version: number; sender: ChannelSender }>();
  return (account) => {
    const version = account.updatedAt.getTime();
    const cached = cache.get(account.id);
    if (cached && cached.version === version) return cached.sender;
    const { botToken } = openTelegramSecrets(deps.secrets, account);
    // An account may name its own Bot API server (a local Bot API server, or a simulator in demos).
    const apiRoot = typeof account.settings.apiRoot === 'string' ? account.settings.apiRoot : options.apiRoot;
    const sender = createTelegramSender({ ...options, apiRoot, botToken });
    cache.set(account.id, { version, sender });
    return sender;
  };
}
