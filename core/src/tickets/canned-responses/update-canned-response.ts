import { and, eq } from 'drizzle-orm';
import { cannedResponses, violatedUniqueConstraint, type Database } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import type { Clock } from '../../shared/ports/clock.js';
import {
  assertShortcutFree,
  cannedResponseColumns,
  shortcutTaken,
  updateCannedResponseInput,
  type CannedResponse,
  type UpdateCannedResponseInput,
} from './canned-response-input.js';

/** Changes the given fields of a canned response (omitted ones stay), with the same checks as creation. */
export async function updateCannedResponse(deps: { db: Database; clock: Clock }, options: UpdateCannedResponseInput): Promise<CannedResponse> {
  const input = parseInput(updateCannedResponseInput, options);
  const { tenantId, cannedResponseId } = input;
  try {
    return await deps.db.withTenant(tenantId, async (tx) => {
      if (input.shortcut !== undefined) await assertShortcutFree(tx, tenantId, input.shortcut, cannedResponseId);
      const changes = Object.fromEntries((['shortcut', 'title', 'bodyFr', 'bodyEn'] as const).filter((field) => input[field] !== undefined).map((field) => [field, input[field]]));
      const [row] = await tx
        .update(cannedResponses)
        .set({ ...changes, updatedAt: deps.clock.now() })
        .where(and(eq(cannedResponses.tenantId, tenantId), eq(cannedResponses.id, cannedResponseId)))
        .returning(cannedResponseColumns);
      if (!row) throw new AppError('NOT_FOUND', 'canned response not found');
      return row;
    });
  } catch (error) {
    if (violatedUniqueConstraint(error) === 'canned_responses_shortcut_key') throw shortcutTaken(input.shortcut!);
    throw error;
  }
}
