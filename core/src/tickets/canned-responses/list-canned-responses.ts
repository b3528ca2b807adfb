import { and, asc, eq, ilike, or, type SQL } from 'drizzle-orm';
import { cannedResponses, type Database } from '@relais/db';
import { z } from 'zod';
import { parseInput } from '../../shared/parse-input.js';
import { cannedResponseColumns, type CannedResponse } from './canned-response-input.js';

export const listCannedResponsesInput = z.object({
  tenantId: z.uuid(),
  /** What the agent typed: shortcuts starting with it, or titles containing it. */
  search: z.string().trim().max(100).optional(),
});

/** The tenant's canned responses by shortcut, optionally narrowed to what an agent is typing. */
export async function listCannedResponses(deps: { db: Database }, options: z.input<typeof listCannedResponsesInput>): Promise<CannedResponse[]> {
  const input = parseInput(listCannedResponsesInput, options);
  const filters: SQL[] = [eq(cannedResponses.tenantId, input.tenantId)];
  if (input.search) {
    const text = input.search.replace(/^\//, '').replace(/[\\%_]/g, (c) => `\\${c}`);
    filters.push(or(ilike(cannedResponses.shortcut, `${text}%`), ilike(cannedResponses.title, `%${text}%`))!);
  }
  return deps.db.withTenant(input.tenantId, (tx) =>
    tx
      .select(cannedResponseColumns)
      .from(cannedResponses)
      .where(and(...filters))
      .orderBy(asc(cannedResponses.shortcut)),
  );
}
