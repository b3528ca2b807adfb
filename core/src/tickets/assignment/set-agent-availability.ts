import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { users } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import type { TicketDeps } from '../ticket-deps.js';

const setAgentAvailabilityInput = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  availability: z.enum(['available', 'away', 'offline']).optional(),
  maxOpenTickets: z.number().int().min(1).max(1_000).optional(),
});

/** An agent goes available, away or offline (only available agents get new tickets), or gets another capacity. */
export async function setAgentAvailability(deps: TicketDeps, options: z.input<typeof setAgentAvailabilityInput>): Promise<void> {
  const input = parseInput(setAgentAvailabilityInput, options);
  const updated = await deps.db.withTenant(input.tenantId, (tx) =>
    tx
      .update(users)
      .set({
        ...(input.availability ? { availability: input.availability } : {}),
        ...(input.maxOpenTickets ? { maxOpenTickets: input.maxOpenTickets } : {}),
        updatedAt: deps.clock.now(),
      })
      .where(and(eq(users.tenantId, input.tenantId), eq(users.id, input.userId)))
      .returning({ id: users.id }),
  );
  if (updated.length === 0) throw new AppError('NOT_FOUND', 'user not found');
}
