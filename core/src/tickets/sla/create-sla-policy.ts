import { z } from 'zod';
import { slaPolicies } from '@relais/db';
import { parseInput } from '../../shared/parse-input.js';
import type { TicketDeps } from '../ticket-deps.js';
import { asDefaultConflict, clearDefaultPolicy, slaPolicyColumns, slaPolicyNameSchema, slaTargetsSchema, toSlaPolicy, type SlaPolicy } from './sla-policy.js';

const createSlaPolicyInput = z.object({
  tenantId: z.uuid(),
  name: slaPolicyNameSchema,
  targets: slaTargetsSchema,
  /** The policy of tickets whose category names none; it replaces the previous default. */
  isDefault: z.boolean().default(false),
});

/**
 * An SLA policy: first-response and resolution targets per priority, in business minutes.
 * Tickets pick it up when their due times are next computed (creation, priority or status change).
 */
export async function createSlaPolicy(deps: TicketDeps, options: z.input<typeof createSlaPolicyInput>): Promise<SlaPolicy> {
  const input = parseInput(createSlaPolicyInput, options);
  const now = deps.clock.now();
  try {
    return await deps.db.withTenant(input.tenantId, async (tx) => {
      if (input.isDefault) await clearDefaultPolicy(tx, input.tenantId, now);
      const [row] = await tx
        .insert(slaPolicies)
        .values({ tenantId: input.tenantId, name: input.name, targets: input.targets, isDefault: input.isDefault, createdAt: now, updatedAt: now })
        .returning(slaPolicyColumns);
      return toSlaPolicy(row!);
    });
  } catch (error) {
    throw asDefaultConflict(error);
  }
}
