import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { tickets } from '@relais/db';
import { applyConversationEvent } from '../../conversations/apply-conversation-event.js';
import { parseInput } from '../../shared/parse-input.js';
import { loadHelpdeskBehaviour } from '../helpdesk-settings.js';
import type { TicketDeps } from '../ticket-deps.js';

const requestTicketRatingInput = z.object({ tenantId: z.uuid(), ticketId: z.uuid(), eventKey: z.string().min(1) });

export type TicketRatingRequest =
  | { requested: true }
  | {
      requested: false;
      /** not_asked: this delivery was applied already, or an agent holds the conversation under another ticket. */
      reason: 'csat_disabled' | 'not_found' | 'no_conversation' | 'not_resolved' | 'nobody_worked_on_it' | 'already_rated' | 'not_asked';
    };

/**
 * After a resolution (`ticket.resolved`): the customer is asked, in the ticket's conversation, to
 * rate the help 1 to 5 — when the tenant has the survey on, a person worked on the ticket (it has
 * an assignee or a public agent reply: a WiFi purchase resolved by its payment is not rated), it is
 * still resolved and not rated yet. Once per `eventKey` (the outbox delivery).
 */
export async function requestTicketRating(deps: TicketDeps, options: z.input<typeof requestTicketRatingInput>): Promise<TicketRatingRequest> {
  const input = parseInput(requestTicketRatingInput, options);
  const { tenantId, ticketId } = input;
  const found = await deps.db.withTenant(tenantId, async (tx) => {
    if (!(await loadHelpdeskBehaviour(tx, tenantId)).csatEnabled) return 'csat_disabled' as const;
    const [ticket] = await tx
      .select({
        number: tickets.number,
        status: tickets.status,
        conversationId: tickets.conversationId,
        assigneeId: tickets.assigneeId,
        // Written out: drizzle leaves a column of the single table in the select unqualified, which the subquery would read as its own.
        agentReplied: sql<boolean>`exists (select 1 from ticket_messages m where m.tenant_id = tickets.tenant_id and m.ticket_id = tickets.id
          and m.author_kind = 'agent' and not m.is_private)`,
        rated: sql<boolean>`exists (select 1 from csat_responses r where r.tenant_id = tickets.tenant_id and r.ticket_id = tickets.id)`,
      })
      .from(tickets)
      .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId)));
    return ticket ?? ('not_found' as const);
  });
  if (typeof found === 'string') return { requested: false, reason: found };
  if (!found.conversationId) return { requested: false, reason: 'no_conversation' };
  // Reopened before this ran: the customer is talking to the agent again.
  if (found.status !== 'resolved' && found.status !== 'closed') return { requested: false, reason: 'not_resolved' };
  if (!found.assigneeId && !found.agentReplied) return { requested: false, reason: 'nobody_worked_on_it' };
  if (found.rated) return { requested: false, reason: 'already_rated' };
  const replies = await applyConversationEvent(deps, {
    tenantId,
    conversationId: found.conversationId,
    eventKey: input.eventKey,
    input: { kind: 'csat_request', ticketId, ticketNumber: found.number },
  });
  return replies.length > 0 ? { requested: true } : { requested: false, reason: 'not_asked' };
}
