import { z } from 'zod';
import { teams, violatedUniqueConstraint } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import type { TicketDeps } from '../ticket-deps.js';

const createTeamInput = z.object({ tenantId: z.uuid(), name: z.string().trim().min(1, 'name is required').max(80) });

/** A team of agents (tickets can be routed to a team; its round-robin picks among its members). */
export async function createTeam(deps: TicketDeps, options: z.input<typeof createTeamInput>): Promise<{ teamId: string }> {
  const input = parseInput(createTeamInput, options);
  try {
    const [team] = await deps.db.withTenant(input.tenantId, (tx) =>
      tx.insert(teams).values({ tenantId: input.tenantId, name: input.name, createdAt: deps.clock.now() }).returning({ id: teams.id }),
    );
    return { teamId: team!.id };
  } catch (error) {
    if (violatedUniqueConstraint(error) === 'teams_name_key') throw new AppError('CONFLICT', `a team named ${input.name} already exists`);
    throw error;
  }
}

