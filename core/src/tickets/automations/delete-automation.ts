import { and, eq } from 'drizzle-orm';
import { automations, type Database } from '@relais/db';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';

export const deleteAutomationInput = z.object({ tenantId: z.uuid(), automationId: z.uuid() });

/**
 * Deletes an automation and its run history (to keep the history, deactivate it with
 * updateAutomation instead). Webhooks still queued for it are dropped by their consumer.
 */
export async function deleteAutomation(deps: { db: Database }, options: z.input<typeof deleteAutomationInput>): Promise<void> {
  const { tenantId, automationId } = parseInput(deleteAutomationInput, options);
  const deleted = await deps.db.withTenant(tenantId, (tx) =>
    tx
      .delete(automations)
      .where(and(eq(automations.tenantId, tenantId), eq(automations.id, automationId)))
      .returning({ id: automations.id }),
  );
  if (deleted.length === 0) throw new AppError('NOT_FOUND', 'automation not found');
}
