import type { ChannelSender, SecretBox, SendingChannelAccount } from '@relais/core';
import { openWhatsAppCloudSecrets, whatsappCloudSettingsSchema } from './whatsapp-cloud-secrets.js';
import { createWhatsAppCloudSender, type WhatsAppCloudSenderOptions } from './whatsapp-cloud-sender.js';

/**
 * Senders for WhatsApp Cloud channel accounts, one per account, rebuilt when the account changes
 * (`updatedAt`: a new token or base URL). The composition root calls it for kind 'whatsapp_cloud'.
 */
export function createWhatsAppCloudSenders(
  deps: { secrets: SecretBox },
  options: Pick<WhatsAppCloudSenderOptions, 'timeoutMs' | 'limits'> = {},
): (account: SendingChannelAccount) => ChannelSender {
  const cache = new Map<string, { version: number; sender: ChannelSender }>();
  return (account) => {
    const version = account.updatedAt.getTime();
    const cached = cache.get(account.id);
    if (cached && cached.version === version) return cached.sender;
    if (!account.externalId) throw new Error('the WhatsApp Cloud channel account has no phone number id');
    const settings = whatsappCloudSettingsSchema.safeParse(account.settings);
    if (!settings.success) throw new Error('the WhatsApp Cloud channel account settings are invalid (baseUrl, graphVersion)');
    const { accessToken } = openWhatsAppCloudSecrets(deps.secrets, account);
    const sender = createWhatsAppCloudSender({ ...options, phoneNumberId: account.externalId, accessToken, baseUrl: settings.data.baseUrl, graphVersion: settings.data.graphVersion });
    cache.set(account.id, { version, sender });
    return sender;
  };
}
