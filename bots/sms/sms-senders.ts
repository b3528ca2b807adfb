import type { ChannelSender, SecretBox, SendingChannelAccount } from '@relais/core';
import { africasTalkingSecretsSchema, africasTalkingSettingsSchema } from './africastalking-account.js';
import { createAfricasTalkingSmsSender } from './sms-sender.js';

/**
 * SMS senders for Africa's Talking accounts, one per channel account, rebuilt when the account
 * changes (`updatedAt`). Used for 'sms' accounts and for 'ussd' ones: a USSD service belongs to an
 * Africa's Talking app whose key also sends SMS, which is how what a USSD conversation says after
 * its session (payment prompt, voucher) reaches the phone.
 */
export function createAfricasTalkingSmsSenders(deps: { secrets: SecretBox }): (account: SendingChannelAccount) => ChannelSender {
  const cache = new Map<string, { version: number; sender: ChannelSender }>();
  return (account) => {
    const version = account.updatedAt.getTime();
    const cached = cache.get(account.id);
    if (cached && cached.version === version) return cached.sender;
    const settings = africasTalkingSettingsSchema.safeParse(account.settings);
    if (!settings.success) throw new Error("the Africa's Talking channel account has no valid username or base URL");
    const sender = createAfricasTalkingSmsSender({ ...settings.data, ...openApiKey(deps.secrets, account) });
    cache.set(account.id, { version, sender });
    return sender;
  };
}

/** Throws without quoting the plaintext: a failed parse must not put the key in a log. */
function openApiKey(secrets: SecretBox, account: Pick<SendingChannelAccount, 'tenantId' | 'secretsEnc'>): { apiKey: string } {
  if (!account.secretsEnc) throw new Error("the Africa's Talking channel account has no API key");
  let value: unknown;
  try {
    value = JSON.parse(secrets.open(account.secretsEnc, account.tenantId));
  } catch (error) {
    if (error instanceof SyntaxError) throw new Error("the Africa's Talking channel account secrets are not JSON");
    throw error;
  }
  const parsed = africasTalkingSecretsSchema.safeParse(value);
  if (!parsed.success) throw new Error("the Africa's Talking channel account secrets have no API key");
  return { apiKey: parsed.data.apiKey };
}
