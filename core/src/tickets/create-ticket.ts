import { z } from 'zod';
import type { Database } from '@relais/db';
import { createGroupCommit, groupCommitPerTenant } from '../shared/group-commit.js';
import { parseInput } from '../shared/parse-input.js';
import { openTickets, type OpenedTicket, type OpenTicketOptions } from './open-ticket.js';
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

/**
 * An agent opens a ticket for a contact of the tenant; numbered, SLA set, assigned (by hand or
 * round-robin). The tenant's openings submitted while one of its batches commits are opened
 * together in the next one (`openTickets`: four statements and one WAL flush for the batch,
 * numbered and assigned in submission order): a tenant's openings all queue on its ticket
 * counter row, so one short lock per batch instead of one per ticket.
 */
export async function createTicket(deps: TicketDeps, options: z.input<typeof createTicketInput>): Promise<OpenedTicket> {
  const input = parseInput(createTicketInput, options);
  const { userId, ...rest } = input;
  const opened = await openingBatches(deps.db, input.tenantId).submit({ ...rest, actor: { kind: 'user', userId }, now: deps.clock.now() });
  if (opened instanceof Error) throw opened;
  return opened;
}

/** Most openings in one transaction: enough to absorb a burst, small enough to keep a batch's lock short. */
const MAX_BATCH = 32;

/**
 * One group commit per database handle and tenant, one batch at a time each (a tenant's batches
 * queue on its counter row anyway). A batch that throws before its COMMIT (a plan with a quota:
 * `OneAtATime`, a lost deadlock...) rolled back and is retried one opening per transaction, so
 * only the culprit fails; refusals (unknown contact, category...) come back per opening and do
 * not stop the others.
 */
const openingBatches = groupCommitPerTenant((db: Database, tenantId: string) =>
  createGroupCommit<OpenTicketOptions, OpenedTicket | Error>({
    flush: async (openings) => {
      let written = false;
      try {
        return await db.withTenant<(OpenedTicket | Error)[]>(tenantId, async (tx) => {
          const results = await openTickets(tx, openings);
          written = true;
          return results;
        });
      } catch (error) {
        // COMMIT failed: whether it took effect is unknown, so the openings are not retried
        // (that could open them twice); each caller gets the error, as one opening alone would.
        if (written) return openings.map(() => (error instanceof Error ? error : new Error(String(error))));
        throw error;
      }
    },
    maxBatch: MAX_BATCH,
    maxConcurrentFlushes: 1,
  }),
);
