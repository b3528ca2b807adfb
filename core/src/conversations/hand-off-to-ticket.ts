import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import { categories, conversationMessages, conversations, tickets, type Tx } from '@relais/db';
import { addCustomerMessage } from '../tickets/add-customer-message.js';
import { openTicket } from '../tickets/open-ticket.js';
import type { OutboundMessageBody } from '../shared/ports/channel-sender.js';
import type { ConversationLocale } from './conversation-state.js';
import { conversationTexts as T } from './conversation-texts.js';

/** How much of the conversation a hand-off puts on the ticket: enough for the agent to start. */
const TRANSCRIPT_MESSAGES = 10;
const TRANSCRIPT_LINE_LENGTH = 300;

export interface ConversationUnderTicket {
  tenantId: string;
  conversationId: string;
  contactId: string;
  /** conversations.ticket_id as the turn read it (locked). */
  currentTicketId: string | null;
  locale: ConversationLocale;
  now: Date;
}

/**
 * The customer asked for a person: in the turn's transaction, the conversation goes under a
 * ticket agents see. Its current ticket if still open or pending, else its latest open or pending
 * ticket (purchases aside: nobody works those), else a new one (no category) whose description is
 * the last messages of the conversation. A ticket already open gets that transcript as a customer
 * message, so its agent is told the customer is asking again. Sets conversations.ticket_id (the
 * turn writes mode 'agent'). Throws what openTicket throws (PLAN_LIMIT_REACHED...).
 */
export async function handOffToTicket(tx: Tx, options: ConversationUnderTicket): Promise<{ ticketId: string; ticketNumber: number; opened: boolean }> {
  const transcript = await conversationTranscript(tx, options);
  const found = await workingTicketOf(tx, options);
  let handled: { ticketId: string; ticketNumber: number; opened: boolean };
  if (found) {
    const placed = await addCustomerMessage(tx, { tenantId: options.tenantId, ticketId: found.id, contactId: options.contactId, body: transcript, now: options.now });
    handled = { ticketId: placed.ticketId, ticketNumber: placed.ticketNumber, opened: false };
  } else {
    const opened = await openTicket(tx, {
      tenantId: options.tenantId,
      actor: { kind: 'customer', contactId: options.contactId },
      contactId: options.contactId,
      conversationId: options.conversationId,
      subject: T.handOffSubject[options.locale],
      description: transcript,
      now: options.now,
    });
    handled = { ticketId: opened.ticketId, ticketNumber: opened.ticketNumber, opened: true };
  }
  await followTicket(tx, options, handled.ticketId);
  return handled;
}

/**
 * A customer's text while an agent holds the conversation, onto its ticket (the reopen /
 * new-ticket rule of addCustomerMessage applies); a conversation in agent mode with no ticket yet
 * gets one as a hand-off would. conversations.ticket_id follows the ticket the text landed on.
 * `messageId`: the ticket message the text became (none when a hand-off opened the ticket).
 */
export async function relayToTicket(tx: Tx, options: ConversationUnderTicket & { text: string }): Promise<{ ticketId: string; messageId?: string }> {
  const ticketId = options.currentTicketId ?? (await workingTicketOf(tx, options))?.id;
  // A new ticket's description is the transcript: no message of its own for the text.
  if (!ticketId) return { ticketId: (await handOffToTicket(tx, options)).ticketId };
  const placed = await addCustomerMessage(tx, { tenantId: options.tenantId, ticketId, contactId: options.contactId, body: options.text, now: options.now });
  await followTicket(tx, options, placed.ticketId);
  return { ticketId: placed.ticketId, messageId: placed.messageId };
}

async function followTicket(tx: Tx, options: ConversationUnderTicket, ticketId: string): Promise<void> {
  if (ticketId === options.currentTicketId) return;
  await tx
    .update(conversations)
    .set({ ticketId, updatedAt: options.now })
    .where(and(eq(conversations.tenantId, options.tenantId), eq(conversations.id, options.conversationId)));
}

/** The conversation's current ticket if open or pending, else its latest open or pending support ticket. */
async function workingTicketOf(tx: Tx, options: ConversationUnderTicket): Promise<{ id: string } | undefined> {
  const working = inArray(tickets.status, ['open', 'pending']);
  if (options.currentTicketId) {
    const [current] = await tx
      .select({ id: tickets.id })
      .from(tickets)
      .where(and(eq(tickets.tenantId, options.tenantId), eq(tickets.id, options.currentTicketId), eq(tickets.contactId, options.contactId), working));
    if (current) return current;
  }
  const [latest] = await tx
    .select({ id: tickets.id })
    .from(tickets)
    .leftJoin(categories, and(eq(categories.tenantId, tickets.tenantId), eq(categories.id, tickets.categoryId)))
    .where(
      and(
        eq(tickets.tenantId, options.tenantId),
        eq(tickets.conversationId, options.conversationId),
        eq(tickets.contactId, options.contactId),
        working,
        isNull(tickets.mergedIntoId),
        // A WiFi purchase resolves itself on payment: handing the customer to it would hand them back to the bot.
        isNull(categories.wifiPackageId),
      ),
    )
    .orderBy(desc(tickets.createdAt))
    .limit(1);
  return latest;
}

/** The last messages of the conversation, oldest first, one line each, in the contact's language. */
export async function conversationTranscript(tx: Tx, options: { tenantId: string; conversationId: string; locale: ConversationLocale }): Promise<string> {
  const rows = await tx
    .select({ direction: conversationMessages.direction, body: conversationMessages.body })
    .from(conversationMessages)
    .where(and(eq(conversationMessages.tenantId, options.tenantId), eq(conversationMessages.conversationId, options.conversationId)))
    .orderBy(desc(conversationMessages.seq))
    .limit(TRANSCRIPT_MESSAGES);
  const separator = options.locale === 'fr' ? ' : ' : ': ';
  const lines = rows
    .reverse()
    .filter((row) => !(row.body as { unreadable?: string }).unreadable)
    .map((row) => {
      const who = row.direction === 'inbound' ? T.transcriptCustomer : T.transcriptBot;
      const text = ((row.body as OutboundMessageBody).text ?? '').replace(/\s*\n+\s*/g, ' | ').trim();
      const line = text.length > TRANSCRIPT_LINE_LENGTH ? `${text.slice(0, TRANSCRIPT_LINE_LENGTH - 1)}…` : text;
      return `${who[options.locale]}${separator}${line}`;
    });
  return [T.transcriptTitle[options.locale], ...lines].join('\n');
}
