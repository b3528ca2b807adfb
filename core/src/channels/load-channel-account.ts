import { and, eq } from 'drizzle-orm';
import { channelAccountRoutes, channelAccounts, type Database } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import type { SecretBox } from '../shared/secret-box.js';
import { toSummary, type ChannelAccountSummary } from './create-channel-account.js';

export interface ChannelAccountWithSecrets extends ChannelAccountSummary {
  /** Decrypted; keep them in memory only, never in logs, job payloads or errors. */
  secrets: Record<string, string>;
}

/**
 * A channel account with its secrets opened, for an adapter that must check a webhook's secret
 * or call the provider. Webhook routes know only the channel account id (from the URL) and the
 * tenant it belongs to comes from the routing lookup; NOT_FOUND for an unknown or other tenant's id.
 */
export async function loadChannelAccount(deps: { db: Database; secrets: SecretBox }, options: { tenantId: string; channelAccountId: string }): Promise<ChannelAccountWithSecrets> {
  const [row] = await deps.db.withTenant(options.tenantId, (tx) =>
    tx
      .select()
      .from(channelAccounts)
      .where(and(eq(channelAccounts.tenantId, options.tenantId), eq(channelAccounts.id, options.channelAccountId))),
  );
  if (!row) throw new AppError('NOT_FOUND', 'no such channel account');
  const secrets = row.secretsEnc ? (JSON.parse(deps.secrets.open(row.secretsEnc, row.tenantId)) as Record<string, string>) : {};
  return { ...toSummary(row), secrets };
}

/**
 * The tenant and kind of a channel account, from the id a provider webhook's URL carries. NOT_FOUND
 * for an unknown id, so a webhook route answers 404 without touching any tenant's rows.
 */
export async function findChannelAccountRoute(deps: { db: Database }, channelAccountId: string): Promise<{ tenantId: string; kind: string }> {
  const parsed = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(channelAccountId);
  if (!parsed) throw new AppError('NOT_FOUND', 'no such channel account');
  const [route] = await deps.db.withPlatform((tx) =>
    tx.select({ tenantId: channelAccountRoutes.tenantId, kind: channelAccountRoutes.kind }).from(channelAccountRoutes).where(eq(channelAccountRoutes.channelAccountId, channelAccountId)),
  );
  if (!route) throw new AppError('NOT_FOUND', 'no such channel account');
  return route;
}
