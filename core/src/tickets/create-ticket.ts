import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { contacts } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import { openTicket, type OpenedTicket } from './open-ticket.js';
import { loadActingUser } from './ticket-actor.js';
import type { TicketDeps } from './ticket-deps.js';
import { tagSchema, ticketPrioritySchema } from './ticket-values.js';

const createTicketInput = z.object({
  tenantId: z.uuid(),
  /** The agent or admin opening it (a phone call, a walk-in); tickets from chats are opened by the conversation engine. */
  userId: z.uuid(),
  contactId: z.uuid(),
  categoryId: z.uuid().optional(),
  subject: z.string().trim().min(1, 'subject is required').max(200),
  description: z.string().trim().max(10_000).optional(),
  priority: ticketPrioritySchema.optional(),
  teamId: z.uuid().optional(),
  assigneeId: z.uuid().optional(),
  tags: z.array(tagSchema).max(20).optional(),
});

/** An agent opens a ticket for a contact of the tenant; numbered, SLA set, assigned (by hand or round-robin). */
export async function createTicket(deps: TicketDeps, options: z.input<typeof createTicketInput>): Promise<OpenedTicket> {
  const input = parseInput(createTicketInput, options);
  const now = deps.clock.now();
  return deps.db.withTenant(input.tenantId, async (tx) => {
    await loadActingUser(tx, input.tenantId, input.userId);
    const [contact] = await tx.select({ id: contacts.id }).from(contacts).where(and(eq(contacts.tenantId, input.tenantId), eq(contacts.id, input.contactId)));
    if (!contact) throw new AppError('NOT_FOUND', 'contact not found');
    return openTicket(tx, { ...input, actor: { kind: 'user', userId: input.userId }, now });
  });
}
