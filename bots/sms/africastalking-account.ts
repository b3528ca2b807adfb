import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError, findChannelAccountRoute, loadChannelAccount, type SecretBox } from '@relais/core';
import type { Database } from '@relais/db';

/** Africa's Talking's live API; its sandbox is https://api.sandbox.africastalking.com, tests use the simulator. */
export const AFRICAS_TALKING_LIVE_BASE_URL = 'https://api.africastalking.com';

/**
 * channel_accounts.settings of an Africa's Talking account (SMS or USSD). The base URL lives per
 * account because the official SDK's sandbox switch is process-wide (sim/README.md).
 */
export const africasTalkingSettingsSchema = z.looseObject({
  baseUrl: z.url({ protocol: /^https?$/ }).default(AFRICAS_TALKING_LIVE_BASE_URL),
  username: z.string().min(1),
  /** Alphanumeric sender id or short code the SMS come from; absent: Africa's Talking's default. */
  senderId: z.string().min(1).optional(),
});

/** channel_accounts.secrets_enc, opened: the API key and the secret our callback URLs carry. */
export const africasTalkingSecretsSchema = z.looseObject({
  apiKey: z.string().min(1),
  webhookSecret: z.string().min(16).optional(),
});

export type AfricasTalkingSettings = z.output<typeof africasTalkingSettingsSchema>;
export type AfricasTalkingSecrets = z.output<typeof africasTalkingSecretsSchema>;

export interface AuthenticatedChannel {
  tenantId: string;
  channelAccountId: string;
}

/**
 * The channel account a callback URL names, once its `?secret=` matches the account's sealed
 * webhook secret (constant time). Africa's Talking signs nothing, so this secret is the only
 * proof: unknown id or another kind -> NOT_FOUND, wrong or missing secret -> UNAUTHENTICATED,
 * both before anything is stored.
 */
export async function authenticateAfricasTalkingCallback(
  deps: { db: Database; secrets: SecretBox },
  options: { channelAccountId: string; kinds: readonly ('sms' | 'ussd')[]; secret: string | undefined },
): Promise<AuthenticatedChannel> {
  const route = await findChannelAccountRoute(deps, options.channelAccountId);
  if (!(options.kinds as readonly string[]).includes(route.kind)) throw new AppError('NOT_FOUND', 'no such channel account');
  const account = await loadChannelAccount(deps, { tenantId: route.tenantId, channelAccountId: options.channelAccountId });
  if (account.status !== 'active') throw new AppError('NOT_FOUND', 'no such channel account');
  if (!secretMatches(account.secrets.webhookSecret, options.secret)) throw new AppError('UNAUTHENTICATED', 'wrong or missing callback secret');
  return { tenantId: route.tenantId, channelAccountId: account.id };
}

function secretMatches(expected: string | undefined, given: string | undefined): boolean {
  // An account without a webhook secret accepts no callback at all: never an open endpoint.
  if (!expected || given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** E.164 as the engine takes it; Africa's Talking sends "+237..." for phones. */
export const E164 = /^\+[1-9]\d{6,14}$/;
