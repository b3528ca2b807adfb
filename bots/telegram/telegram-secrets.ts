import { z } from 'zod';
import type { SecretBox, SendingChannelAccount } from '@relais/core';

/**
 * What channel_accounts.secrets_enc holds for a Telegram bot: JSON sealed with the tenant id as
 * owner (core/src/shared/secret-box.ts). Extra fields are kept for the inbound side.
 */
export const telegramSecretsSchema = z.looseObject({
  botToken: z.string().regex(/^\d+:[A-Za-z0-9_-]{10,}$/, 'a bot token looks like 123456:ABC-DEF...'),
  /** X-Telegram-Bot-Api-Secret-Token expected on webhook calls. */
  webhookSecret: z.string().optional(),
});

export type TelegramSecrets = z.output<typeof telegramSecretsSchema>;

export function sealTelegramSecrets(secrets: SecretBox, tenantId: string, value: z.input<typeof telegramSecretsSchema>): string {
  return secrets.seal(JSON.stringify(telegramSecretsSchema.parse(value)), tenantId);
}

/** Throws without quoting the plaintext: a failed parse must not put the token in a log. */
export function openTelegramSecrets(secrets: SecretBox, account: Pick<SendingChannelAccount, 'tenantId' | 'secretsEnc'>): TelegramSecrets {
  if (!account.secretsEnc) throw new Error('the Telegram channel account has no bot token');
  let value: unknown;
  try {
    value = JSON.parse(secrets.open(account.secretsEnc, account.tenantId));
  } catch (error) {
    if (error instanceof SyntaxError) throw new Error('the Telegram channel account secrets are not JSON');
    throw error;
  }
  const parsed = telegramSecretsSchema.safeParse(value);
  if (!parsed.success) throw new Error('the Telegram channel account secrets have no valid bot token');
  return parsed.data;
}
