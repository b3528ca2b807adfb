import { z } from 'zod';
import { parseInput } from '../shared/parse-input.js';
import { MAX_TICKET_MESSAGE_LENGTH, postTicketReply } from './post-ticket-reply.js';
import type { TicketDeps } from './ticket-deps.js';

const replyToTicketInput = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  ticketId: z.uuid(),
  body: z.string().trim().min(1, 'body: a reply cannot be empty').max(MAX_TICKET_MESSAGE_LENGTH),
  isPrivate: z.boolean().default(false),
  mentionedUserIds: z.array(z.uuid()).max(20).default([]),
});

/** An agent answers the customer (sent on the customer's channel) or leaves a private note. */
export async function replyToTicket(deps: TicketDeps, options: z.input<typeof replyToTicketInput>): Promise<{ messageId: string }> {
  const input = parseInput(replyToTicketInput, options);
  const now = deps.clock.now();
  return deps.db.withTenant(input.tenantId, (tx) => postTicketReply(tx, { ...input, actor: { kind: 'user', userId: input.userId }, now }));
}
