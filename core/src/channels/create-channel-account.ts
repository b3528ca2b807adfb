import { z } from 'zod';
import { CHANNEL_KINDS, channelAccountRoutes, channelAccounts, type Database } from '@relais/db';
import { parseInput } from '../shared/parse-input.js';
import type { SecretBox } from '../shared/secret-box.js';

export const createChannelAccountInput = z.object({
  tenantId: z.uuid(),
  kind: z.enum(CHANNEL_KINDS),
  name: z.string().trim().min(1).max(100),
  /** Provider-side identity: phone number id, bot username, short code... */
  externalId: z.string().trim().max(200).optional(),
  /** Non-secret settings (base URLs, sender id, verify-token hint...). */
  settings: z.record(z.string(), z.unknown()).default({}),
  /** Tokens, keys and webhook secrets: sealed with APP_KEY, bound to the tenant. */
  secrets: z.record(z.string(), z.string()).default({}),
});

export interface ChannelAccountSummary {
  id: string;
  tenantId: string;
  kind: (typeof CHANNEL_KINDS)[number];
  name: string;
  externalId: string | null;
  settings: Record<string, unknown>;
  status: 'active' | 'paused' | 'error';
}

/** Connects a channel (a Telegram bot, an SMS short code, a WhatsApp number...) to a tenant. */
export async function createChannelAccount(deps: { db: Database; secrets: SecretBox }, options: z.input<typeof createChannelAccountInput>): Promise<ChannelAccountSummary> {
  const input = parseInput(createChannelAccountInput, options);
  const secretsEnc = Object.keys(input.secrets).length > 0 ? deps.secrets.seal(JSON.stringify(input.secrets), input.tenantId) : null;
  // The account and its route (how a webhook carrying only the account id finds the tenant) together.
  return deps.db.withPlatform(async (tx, platform) => {
    await platform.enterTenant(input.tenantId);
    const [account] = await tx
      .insert(channelAccounts)
      .values({ tenantId: input.tenantId, kind: input.kind, name: input.name, externalId: input.externalId ?? null, settings: input.settings, secretsEnc })
      .returning();
    await tx.insert(channelAccountRoutes).values({ channelAccountId: account!.id, tenantId: input.tenantId, kind: input.kind });
    return toSummary(account!);
  });
}

export function toSummary(row: typeof channelAccounts.$inferSelect): ChannelAccountSummary {
  return {
    id: row.id,
    tenantId: row.tenantId,
    kind: row.kind,
    name: row.name,
    externalId: row.externalId,
    settings: row.settings as Record<string, unknown>,
    status: row.status,
  };
}
