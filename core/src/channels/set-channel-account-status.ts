import { and, eq, ne } from 'drizzle-orm';
import { z } from 'zod';
import { channelAccounts, type Database } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';

const setChannelAccountStatusInput = z.object({
  tenantId: z.uuid(),
  channelAccountId: z.uuid(),
  /** active: messages flow; paused: waiting (not paired yet); error: needs the reseller (logged out, banned). */
  status: z.enum(['active', 'paused', 'error']),
});

/**
 * Records what an adapter learnt about its connection (a WhatsApp number paired, logged out).
 * Returns whether the status changed; writing the same status again touches nothing.
 */
export async function setChannelAccountStatus(deps: { db: Database }, options: z.input<typeof setChannelAccountStatusInput>): Promise<boolean> {
  const input = parseInput(setChannelAccountStatusInput, options);
  return deps.db.withTenant(input.tenantId, async (tx) => {
    const changed = await tx
      .update(channelAccounts)
      .set({ status: input.status, updatedAt: new Date() })
      .where(and(eq(channelAccounts.tenantId, input.tenantId), eq(channelAccounts.id, input.channelAccountId), ne(channelAccounts.status, input.status)))
      .returning({ id: channelAccounts.id });
    if (changed.length > 0) return true;
    const [exists] = await tx
      .select({ id: channelAccounts.id })
      .from(channelAccounts)
      .where(and(eq(channelAccounts.tenantId, input.tenantId), eq(channelAccounts.id, input.channelAccountId)));
    if (!exists) throw new AppError('NOT_FOUND', 'no such channel account');
    return false;
  });
}
