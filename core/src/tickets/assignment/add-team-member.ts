import { and, eq, isNull } from 'drizzle-orm';
import type { z } from 'zod';
import { teamMembers, teams, users } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import type { TicketDeps } from '../ticket-deps.js';
import { teamMemberInput } from './team-member-input.js';

/** Puts an active user of the tenant in a team (again: no change). */
export async function addTeamMember(deps: TicketDeps, options: z.input<typeof teamMemberInput>): Promise<void> {
  const input = parseInput(teamMemberInput, options);
  await deps.db.withTenant(input.tenantId, async (tx) => {
    const [team] = await tx.select({ id: teams.id }).from(teams).where(and(eq(teams.tenantId, input.tenantId), eq(teams.id, input.teamId)));
    if (!team) throw new AppError('NOT_FOUND', 'team not found');
    const [user] = await tx.select({ id: users.id }).from(users).where(and(eq(users.tenantId, input.tenantId), eq(users.id, input.userId), isNull(users.disabledAt)));
    if (!user) throw new AppError('NOT_FOUND', 'user not found');
    await tx.insert(teamMembers).values(input).onConflictDoNothing();
  });
}

