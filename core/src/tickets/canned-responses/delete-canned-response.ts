import { and, asc, eq, sql } from 'drizzle-orm';
import { automations, cannedResponses, type Database } from '@relais/db';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';

export const deleteCannedResponseInput = z.object({ tenantId: z.uuid(), cannedResponseId: z.uuid() });

/**
 * Deletes a canned response. Refused (CONFLICT, naming them) while an automation sends it: the
 * rule would otherwise fail on every run until someone noticed.
 */
export async function deleteCannedResponse(deps: { db: Database }, options: z.input<typeof deleteCannedResponseInput>): Promise<void> {
  const { tenantId, cannedResponseId } = parseInput(deleteCannedResponseInput, options);
  await deps.db.withTenant(tenantId, async (tx) => {
    const users = await tx
      .select({ name: automations.name })
      .from(automations)
      .where(and(eq(automations.tenantId, tenantId), sql`${automations.actions} @> ${JSON.stringify([{ type: 'send_canned', cannedResponseId }])}::jsonb`))
      .orderBy(asc(automations.name));
    if (users.length > 0) {
      throw new AppError('CONFLICT', `this canned response is sent by automation ${users.map((user) => `"${user.name}"`).join(', ')}: change or delete it first`);
    }
    const deleted = await tx
      .delete(cannedResponses)
      .where(and(eq(cannedResponses.tenantId, tenantId), eq(cannedResponses.id, cannedResponseId)))
      .returning({ id: cannedResponses.id });
    if (deleted.length === 0) throw new AppError('NOT_FOUND', 'canned response not found');
  });
}
