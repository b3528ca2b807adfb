import { and, eq } from 'drizzle-orm';
import type { z } from 'zod';
import { teamMembers } from '@relais/db';
import { parseInput } from '../../shared/parse-input.js';
import type { TicketDeps } from '../ticket-deps.js';
import { teamMemberInput } from './team-member-input.js';

/** Takes a user out of a team (its tickets stay assigned). */
export async function removeTeamMember(deps: TicketDeps, options: z.input<typeof teamMemberInput>): Promise<void> {
  const input = parseInput(teamMemberInput, options);
  await deps.db.withTenant(input.tenantId, (tx) =>
    tx.delete(teamMembers).where(and(eq(teamMembers.tenantId, input.tenantId), eq(teamMembers.teamId, input.teamId), eq(teamMembers.userId, input.userId))),
  );
}
