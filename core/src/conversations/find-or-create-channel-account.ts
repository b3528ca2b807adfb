import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { CHANNEL_KINDS, channelAccounts, type Database } from '@relais/db';
import { parseInput } from '../shared/parse-input.js';
import { lockKey } from '../shared/transaction-lock.js';

const findOrCreateChannelAccountInput = z.object({
  tenantId: z.uuid(),
  kind: z.enum(CHANNEL_KINDS),
  name: z.string().trim().min(1).max(100),
});

/**
 * The tenant's (first) channel account of a kind, created on first use: for channels that need
 * no provider setup, where every tenant has exactly one. Concurrent first uses make one account.
 */
export async function findOrCreateChannelAccount(deps: { db: Database }, options: z.input<typeof findOrCreateChannelAccountInput>): Promise<{ id: string; status: string }> {
  const input = parseInput(findOrCreateChannelAccountInput, options);
  return deps.db.withTenant(input.tenantId, async (tx) => {
    const find = async () =>
      (
        await tx
          .select({ id: channelAccounts.id, status: channelAccounts.status })
          .from(channelAccounts)
          .where(and(eq(channelAccounts.tenantId, input.tenantId), eq(channelAccounts.kind, input.kind)))
          .orderBy(asc(channelAccounts.createdAt))
          .limit(1)
      )[0];
    const existing = await find();
    if (existing) return existing;
    await lockKey(tx, `channel-account:${input.tenantId}:${input.kind}`);
    const raced = await find();
    if (raced) return raced;
    const [created] = await tx.insert(channelAccounts).values({ tenantId: input.tenantId, kind: input.kind, name: input.name }).returning({ id: channelAccounts.id, status: channelAccounts.status });
    return created!;
  });
}
