import { cannedResponses, violatedUniqueConstraint, type Database } from '@relais/db';
import { parseInput } from '../../shared/parse-input.js';
import type { Clock } from '../../shared/ports/clock.js';
import {
  assertShortcutFree,
  cannedResponseColumns,
  createCannedResponseInput,
  shortcutTaken,
  type CannedResponse,
  type CreateCannedResponseInput,
} from './canned-response-input.js';

/**
 * Saves a canned response (a reply agents insert by its shortcut), in French and English. Its
 * placeholders are checked now: an unknown one or a stray brace is VALIDATION_FAILED naming it.
 */
export async function createCannedResponse(deps: { db: Database; clock: Clock }, options: CreateCannedResponseInput): Promise<CannedResponse> {
  const input = parseInput(createCannedResponseInput, options);
  const now = deps.clock.now();
  try {
    return await deps.db.withTenant(input.tenantId, async (tx) => {
      await assertShortcutFree(tx, input.tenantId, input.shortcut);
      const [row] = await tx
        .insert(cannedResponses)
        .values({ tenantId: input.tenantId, shortcut: input.shortcut, title: input.title, bodyFr: input.bodyFr, bodyEn: input.bodyEn, createdAt: now, updatedAt: now })
        .returning(cannedResponseColumns);
      return row!;
    });
  } catch (error) {
    // Two saves racing past the check meet the unique index instead.
    if (violatedUniqueConstraint(error) === 'canned_responses_shortcut_key') throw shortcutTaken(input.shortcut);
    throw error;
  }
}
