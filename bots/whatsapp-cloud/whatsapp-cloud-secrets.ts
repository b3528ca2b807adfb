import { z } from 'zod';
import type { SecretBox, SendingChannelAccount } from '@relais/core';

/**
 * What channel_accounts.secrets_enc holds for a WhatsApp Cloud number: JSON sealed with the
 * tenant id as owner. The access token sends, the app secret checks X-Hub-Signature-256, the
 * verify token answers Meta's subscription handshake.
 */
export const whatsappCloudSecretsSchema = z.looseObject({
  accessToken: z.string().min(1),
  appSecret: z.string().min(1),
  verifyToken: z.string().min(1).optional(),
});

export type WhatsAppCloudSecrets = z.output<typeof whatsappCloudSecretsSchema>;

/** Non-secret settings of the account (channel_accounts.settings). */
export const whatsappCloudSettingsSchema = z.looseObject({
  /** Graph API origin; tests and demo mode point it at the simulator. */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** "v21.0" or "21.0". */
  graphVersion: z
    .string()
    .regex(/^v?\d+\.\d+$/)
    .optional(),
});

export function sealWhatsAppCloudSecrets(secrets: SecretBox, tenantId: string, value: z.input<typeof whatsappCloudSecretsSchema>): string {
  return secrets.seal(JSON.stringify(whatsappCloudSecretsSchema.parse(value)), tenantId);
}

/** Throws without quoting the plaintext: a failed parse must not put a token in a log. */
export function openWhatsAppCloudSecrets(secrets: SecretBox, account: Pick<SendingChannelAccount, 'tenantId' | 'secretsEnc'>): WhatsAppCloudSecrets {
  if (!account.secretsEnc) throw new Error('the WhatsApp Cloud channel account has no secrets');
  let value: unknown;
  try {
    value = JSON.parse(secrets.open(account.secretsEnc, account.tenantId));
  } catch (error) {
    if (error instanceof SyntaxError) throw new Error('the WhatsApp Cloud channel account secrets are not JSON');
    throw error;
  }
  return parseWhatsAppCloudSecrets(value);
}

export function parseWhatsAppCloudSecrets(value: unknown): WhatsAppCloudSecrets {
  const parsed = whatsappCloudSecretsSchema.safeParse(value);
  if (!parsed.success) throw new Error('the WhatsApp Cloud channel account secrets need an access token and an app secret');
  return parsed.data;
}
