import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { ticketMessages, tickets, users, type Database } from '@relais/db';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';
import { applyConversationEvent } from './apply-conversation-event.js';

const deliverAgentReplyInput = z.object({ tenantId: z.uuid(), ticketId: z.uuid(), messageId: z.uuid(), eventKey: z.string().min(1) });

/**
 * An agent's public reply (`ticket.agent_replied`) goes to the customer in the conversation of the
 * ticket the message is on now (a merge may have moved it), through the delivery queue like any
 * bot message, signed with the agent's first name. Private notes and tickets opened outside a chat
 * send nothing. Once per `eventKey`. Returns whether a message was written.
 */
export async function deliverAgentReply(deps: { db: Database; clock: Clock }, options: z.input<typeof deliverAgentReplyInput>): Promise<{ delivered: boolean }> {
  const input = parseInput(deliverAgentReplyInput, options);
  const [reply] = await deps.db.withTenant(input.tenantId, (tx) =>
    tx
      .select({ body: ticketMessages.body, isPrivate: ticketMessages.isPrivate, conversationId: tickets.conversationId, authorName: users.name })
      .from(ticketMessages)
      .innerJoin(tickets, and(eq(tickets.tenantId, ticketMessages.tenantId), eq(tickets.id, ticketMessages.ticketId)))
      .leftJoin(users, and(eq(users.tenantId, ticketMessages.tenantId), eq(users.id, ticketMessages.authorUserId)))
      .where(and(eq(ticketMessages.tenantId, input.tenantId), eq(ticketMessages.id, input.messageId))),
  );
  if (!reply || reply.isPrivate || !reply.conversationId) return { delivered: false };
  const written = await applyConversationEvent(deps, {
    tenantId: input.tenantId,
    conversationId: reply.conversationId,
    eventKey: input.eventKey,
    input: { kind: 'agent_message', text: reply.body, agentName: firstNameOf(reply.authorName) },
  });
  return { delivered: written.length > 0 };
}

/** "Awa Ngono" -> "Awa": enough for the customer to know a person answers, no more of the agent's identity. */
function firstNameOf(name: string | null): string | undefined {
  return name?.trim().split(/\s+/)[0] || undefined;
}
