import { and, asc, eq, type SQL } from 'drizzle-orm';
import { automations, type Database } from '@relais/db';
import { z } from 'zod';
import { parseInput } from '../../shared/parse-input.js';
import { toAutomation, type Automation } from './automation-input.js';
import { AUTOMATION_EVENTS } from './automation-rules.js';

export const listAutomationsInput = z.object({
  tenantId: z.uuid(),
  event: z.enum(AUTOMATION_EVENTS).optional(),
  activeOnly: z.boolean().default(false),
});

/** The tenant's automations in evaluation order (position, then age). */
export async function listAutomations(deps: { db: Database }, options: z.input<typeof listAutomationsInput>): Promise<Automation[]> {
  const input = parseInput(listAutomationsInput, options);
  const filters: SQL[] = [eq(automations.tenantId, input.tenantId)];
  if (input.event) filters.push(eq(automations.event, input.event));
  if (input.activeOnly) filters.push(eq(automations.active, true));
  const rows = await deps.db.withTenant(input.tenantId, (tx) =>
    tx
      .select()
      .from(automations)
      .where(and(...filters))
      .orderBy(asc(automations.position), asc(automations.createdAt), asc(automations.id)),
  );
  return rows.map(toAutomation);
}
