import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { slaPolicies } from '@relais/db';
import { parseInput } from '../../shared/parse-input.js';
import type { TicketDeps } from '../ticket-deps.js';
import { asDefaultConflict, clearDefaultPolicy, loadSlaPolicy, slaPolicyNameSchema, slaTargetsSchema, type SlaPolicy } from './sla-policy.js';

const updateSlaPolicyInput = z.object({
  tenantId: z.uuid(),
  policyId: z.uuid(),
  name: slaPolicyNameSchema.optional(),
  /** Replaces all the targets (a priority left out has none). */
  targets: slaTargetsSchema.optional(),
  /** true makes it the default (replacing the previous one); false leaves the tenant without a default. */
  isDefault: z.boolean().optional(),
});

/**
 * Changes an SLA policy. Open tickets keep their due times until they are next recomputed (a
 * priority or status change): a target change does not move deadlines agents already see.
 */
export async function updateSlaPolicy(deps: TicketDeps, options: z.input<typeof updateSlaPolicyInput>): Promise<SlaPolicy> {
  const input = parseInput(updateSlaPolicyInput, options);
  const now = deps.clock.now();
  try {
    return await deps.db.withTenant(input.tenantId, async (tx) => {
      await loadSlaPolicy(tx, input.tenantId, input.policyId);
      if (input.isDefault) await clearDefaultPolicy(tx, input.tenantId, now, input.policyId);
      await tx
        .update(slaPolicies)
        .set({ name: input.name, targets: input.targets, isDefault: input.isDefault, updatedAt: now })
        .where(and(eq(slaPolicies.tenantId, input.tenantId), eq(slaPolicies.id, input.policyId)));
      return loadSlaPolicy(tx, input.tenantId, input.policyId);
    });
  } catch (error) {
    throw asDefaultConflict(error);
  }
}
