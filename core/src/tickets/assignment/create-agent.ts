import { z } from 'zod';
import { users, violatedUniqueConstraint } from '@relais/db';
import { generateOneTimePassword, hashPassword } from '../../auth/password.js';
import { assertCanAddAgent } from '../../billing/plan-limits/assert-can-add-agent.js';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import type { TicketDeps } from '../ticket-deps.js';

const createAgentInput = z.object({
  tenantId: z.uuid(),
  email: z.email('email must be a valid address').max(254).transform((email) => email.toLowerCase()),
  name: z.string().trim().min(1, 'name is required').max(120),
  role: z.enum(['agent', 'admin']).default('agent'),
  locale: z.enum(['fr', 'en']).default('fr'),
  maxOpenTickets: z.number().int().min(1).max(1_000).default(20),
});

/**
 * Adds a user to the tenant's helpdesk. Agents take a seat of the plan (PLAN_LIMIT_REACHED when
 * all are taken; admins at 80 % and 100 %). The one-time password is returned once, never stored.
 */
export async function createAgent(deps: TicketDeps, options: z.input<typeof createAgentInput>): Promise<{ userId: string; oneTimePassword: string }> {
  const input = parseInput(createAgentInput, options);
  const now = deps.clock.now();
  const oneTimePassword = generateOneTimePassword();
  const passwordHash = await hashPassword(oneTimePassword);
  try {
    return await deps.db.withTenant(input.tenantId, async (tx) => {
      if (input.role === 'agent') await assertCanAddAgent(tx, input.tenantId, now);
      const [user] = await tx
        .insert(users)
        .values({ tenantId: input.tenantId, email: input.email, name: input.name, role: input.role, locale: input.locale, maxOpenTickets: input.maxOpenTickets, passwordHash, createdAt: now, updatedAt: now })
        .returning({ id: users.id });
      return { userId: user!.id, oneTimePassword };
    });
  } catch (error) {
    if (violatedUniqueConstraint(error) === 'users_email_key') throw new AppError('CONFLICT', `a user with the email ${input.email} already exists`);
    throw error;
  }
}
