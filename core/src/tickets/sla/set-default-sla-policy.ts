import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { slaPolicies } from '@relais/db';
import { parseInput } from '../../shared/parse-input.js';
import type { TicketDeps } from '../ticket-deps.js';
import { asDefaultConflict, clearDefaultPolicy, loadSlaPolicy } from './sla-policy.js';

const setDefaultSlaPolicyInput = z.object({
  tenantId: z.uuid(),
  /** null: no default (tickets of categories without a policy get no due times). */
  policyId: z.uuid().nullable(),
});

/** Chooses the policy of tickets whose category names none (one default per tenant). */
export async function setDefaultSlaPolicy(deps: TicketDeps, options: z.input<typeof setDefaultSlaPolicyInput>): Promise<void> {
  const input = parseInput(setDefaultSlaPolicyInput, options);
  const now = deps.clock.now();
  try {
    await deps.db.withTenant(input.tenantId, async (tx) => {
      if (input.policyId) await loadSlaPolicy(tx, input.tenantId, input.policyId);
      await clearDefaultPolicy(tx, input.tenantId, now, input.policyId ?? undefined);
      if (input.policyId) {
        await tx
          .update(slaPolicies)
          .set({ isDefault: true, updatedAt: now })
          .where(and(eq(slaPolicies.tenantId, input.tenantId), eq(slaPolicies.id, input.policyId), eq(slaPolicies.isDefault, false)));
      }
    });
  } catch (error) {
    throw asDefaultConflict(error);
  }
}
