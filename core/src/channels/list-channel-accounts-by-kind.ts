import { and, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { CHANNEL_KINDS, channelAccountRoutes, channelAccounts, type Database } from '@relais/db';
import { parseInput } from '../shared/parse-input.js';
import type { ChannelAccountSummary } from './create-channel-account.js';
import { toSummary } from './create-channel-account.js';

const listChannelAccountsByKindInput = z.object({
  kind: z.enum(CHANNEL_KINDS),
  status: z.enum(['active', 'paused', 'error']).optional(),
});

/**
 * Every tenant's channel accounts of one kind (no secrets), for a process that keeps connections
 * open on the platform's behalf (WhatsApp sockets). The central routes say which tenants have
 * one; each tenant's rows are then read in that tenant's context.
 */
export async function listChannelAccountsByKind(deps: { db: Database }, options: z.input<typeof listChannelAccountsByKindInput>): Promise<ChannelAccountSummary[]> {
  const input = parseInput(listChannelAccountsByKindInput, options);
  const routes = await deps.db.withPlatform((tx) =>
    tx.select({ tenantId: channelAccountRoutes.tenantId, id: channelAccountRoutes.channelAccountId }).from(channelAccountRoutes).where(eq(channelAccountRoutes.kind, input.kind)),
  );
  const idsByTenant = new Map<string, string[]>();
  for (const route of routes) idsByTenant.set(route.tenantId, [...(idsByTenant.get(route.tenantId) ?? []), route.id]);
  const accounts: ChannelAccountSummary[] = [];
  for (const [tenantId, ids] of idsByTenant) {
    const rows = await deps.db.withTenant(tenantId, (tx) =>
      tx
        .select()
        .from(channelAccounts)
        .where(
          and(
            eq(channelAccounts.tenantId, tenantId),
            inArray(channelAccounts.id, ids),
            eq(channelAccounts.kind, input.kind),
            ...(input.status ? [eq(channelAccounts.status, input.status)] : []),
          ),
        ),
    );
    accounts.push(...rows.map(toSummary));
  }
  return accounts;
}
