import { z } from 'zod';
import { parseInput } from '../shared/parse-input.js';
import { applyTicketChanges } from './apply-ticket-changes.js';
import type { TicketDeps } from './ticket-deps.js';
import { tagSchema, ticketPrioritySchema, ticketStatusSchema } from './ticket-values.js';

const updateTicketInput = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  ticketId: z.uuid(),
  changes: z
    .object({
      status: ticketStatusSchema.optional(),
      priority: ticketPrioritySchema.optional(),
      addTags: z.array(tagSchema).max(20).optional(),
      removeTags: z.array(tagSchema).max(20).optional(),
      teamId: z.uuid().nullable().optional(),
      assigneeId: z.uuid().nullable().optional(),
    })
    .strict(),
});

/** An agent changes a ticket's status, priority, tags, team or assignee (manual reassignment included). */
export async function updateTicket(deps: TicketDeps, options: z.input<typeof updateTicketInput>): Promise<{ changed: string[] }> {
  const input = parseInput(updateTicketInput, options);
  const now = deps.clock.now();
  return deps.db.withTenant(input.tenantId, (tx) =>
    applyTicketChanges(tx, { tenantId: input.tenantId, actor: { kind: 'user', userId: input.userId }, ticketId: input.ticketId, changes: input.changes, now }),
  );
}
