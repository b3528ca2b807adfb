import { and, eq, isNull, or } from 'drizzle-orm';
import { conversations, ticketMessages, tickets, type Tx } from '@relais/db';
import { notifyUsers } from '../notifications/notify-users.js';
import { AppError } from '../shared/app-error.js';
import { writeToOutbox } from '../shared/outbox.js';
import { recordTicketEvent } from './record-ticket-event.js';
import { refreshTicketSla } from './sla/refresh-ticket-sla.js';
import { assertMayActOnTicket, type TicketActor } from './ticket-actor.js';

/** Outbox topic of a public reply: its consumer sends it on the customer's channel. */
export const TICKET_AGENT_REPLIED_TOPIC = 'ticket.agent_replied';

export const MAX_TICKET_MESSAGE_LENGTH = 10_000;

/**
 * An agent's reply (or an automation's canned reply) or a private note, in the caller's
 * transaction. A public reply leaves through the outbox to the customer's channel, and a person's
 * reply takes the conversation from the bot (it stays with the agent until the ticket is
 * resolved) and, the first time, stops the first-response clock. A private note notifies the
 * users it mentions.
 */
export async function postTicketReply(
  tx: Tx,
  options: { tenantId: string; actor: TicketActor; ticketId: string; body: string; isPrivate?: boolean; mentionedUserIds?: string[]; now: Date },
): Promise<{ messageId: string }> {
  const { tenantId, ticketId, actor, now } = options;
  const body = options.body.trim();
  if (body.length === 0) throw new AppError('VALIDATION_FAILED', 'body: a reply cannot be empty');
  if (body.length > MAX_TICKET_MESSAGE_LENGTH) throw new AppError('VALIDATION_FAILED', `body: at most ${MAX_TICKET_MESSAGE_LENGTH} characters`);
  if (actor.kind === 'customer') throw new AppError('FORBIDDEN', 'customers write through their conversation');
  const user = await assertMayActOnTicket(tx, tenantId, actor, ticketId);
  const [ticket] = await tx
    .select({ number: tickets.number, mergedIntoId: tickets.mergedIntoId, conversationId: tickets.conversationId, firstRespondedAt: tickets.firstRespondedAt })
    .from(tickets)
    .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId)))
    .for('update');
  if (!ticket) throw new AppError('NOT_FOUND', 'ticket not found');
  if (ticket.mergedIntoId) throw new AppError('CONFLICT', 'this ticket was merged into another one: reply there');
  const isPrivate = options.isPrivate ?? false;
  const mentioned = isPrivate ? [...new Set(options.mentionedUserIds ?? [])] : [];
  const [message] = await tx
    .insert(ticketMessages)
    .values({
      tenantId,
      ticketId,
      authorKind: actor.kind === 'user' ? 'agent' : actor.kind === 'automation' ? 'bot' : 'system',
      authorUserId: user?.id ?? null,
      body,
      isPrivate,
      mentionedUserIds: mentioned,
      createdAt: now,
    })
    .returning({ id: ticketMessages.id });
  const messageId = message!.id;

  if (isPrivate) {
    await recordTicketEvent(tx, { tenantId, ticketId, kind: 'note_added', actor, data: { messageId, mentionedUserIds: mentioned }, at: now });
    const others = mentioned.filter((id) => id !== user?.id);
    if (others.length > 0) {
      await notifyUsers(tx, {
        tenantId,
        userIds: others,
        kind: 'ticket.mentioned',
        content: {
          title: { fr: `${user?.name ?? 'Quelqu’un'} vous a mentionné sur le ticket #${ticket.number}`, en: `${user?.name ?? 'Someone'} mentioned you on ticket #${ticket.number}` },
          body: { fr: body.slice(0, 500), en: body.slice(0, 500) },
          ticketId,
          ticketNumber: ticket.number,
        },
        at: now,
      });
    }
    return { messageId };
  }

  const firstResponse = actor.kind === 'user' && ticket.firstRespondedAt === null;
  await tx
    .update(tickets)
    .set({ lastMessageAt: now, updatedAt: now, ...(firstResponse ? { firstRespondedAt: now } : {}) })
    .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId)));
  if (firstResponse) await refreshTicketSla(tx, { tenantId, ticketId, now, reason: 'first_response' });
  if (actor.kind === 'user' && ticket.conversationId) {
    // Unless the conversation is already handled under another of the contact's tickets.
    await tx
      .update(conversations)
      .set({ mode: 'agent', ticketId, updatedAt: now })
      .where(
        and(eq(conversations.tenantId, tenantId), eq(conversations.id, ticket.conversationId), or(isNull(conversations.ticketId), eq(conversations.ticketId, ticketId))),
      );
  }
  await recordTicketEvent(tx, { tenantId, ticketId, kind: 'agent_replied', actor, data: { messageId }, at: now });
  await writeToOutbox(tx, tenantId, { topic: TICKET_AGENT_REPLIED_TOPIC, dedupeKey: `ticket-agent-replied:${messageId}`, payload: { ticketId, messageId } });
  return { messageId };
}
