import { z } from 'zod';
import type { Database } from '@relais/db';
import { parseInput } from '../../shared/parse-input.js';
import { loadSlaPolicies, type SlaPolicy } from './sla-policy.js';

const listSlaPoliciesInput = z.object({ tenantId: z.uuid() });

/** The tenant's SLA policies, by name. */
export async function listSlaPolicies(deps: { db: Database }, options: z.input<typeof listSlaPoliciesInput>): Promise<SlaPolicy[]> {
  const input = parseInput(listSlaPoliciesInput, options);
  return deps.db.withTenant(input.tenantId, (tx) => loadSlaPolicies(tx, input.tenantId));
}
