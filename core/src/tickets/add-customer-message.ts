import { and, eq } from 'drizzle-orm';
import { ticketMessages, tickets, type Tx } from '@relais/db';
import { notifyUsers } from '../notifications/notify-users.js';
import { AppError } from '../shared/app-error.js';
import { applyTicketChanges } from './apply-ticket-changes.js';
import { loadHelpdeskBehaviour } from './helpdesk-settings.js';
import { openTicket } from './open-ticket.js';
import { recordTicketEvent } from './record-ticket-event.js';
import { SYSTEM_ACTOR } from './ticket-actor.js';

/** Merges chain at most this deep (a merge never points back: this only bounds a damaged chain). */
const MAX_MERGE_HOPS = 10;

export interface CustomerMessagePlacement {
  /** The ticket the message landed on: the one given, the one it was merged into, or a new one. */
  ticketId: string;
  ticketNumber: number;
  messageId: string;
  reopened: boolean;
  /** Set when the message opened a new ticket (the old one was closed, or resolved too long ago). */
  previousTicketId?: string;
}

/**
 * A customer's message on a ticket, in the caller's transaction. It never vanishes: a merged
 * ticket forwards it; a resolved ticket within the tenant's reopen window is reopened; a closed
 * ticket, or one resolved longer ago, gives way to a new ticket in the same category; a pending
 * ticket is open again (the customer answered). Records `customer_replied` and notifies the
 * assignee.
 */
export async function addCustomerMessage(
  tx: Tx,
  options: { tenantId: string; ticketId: string; contactId: string; body: string; providerMessageId?: string; now: Date },
): Promise<CustomerMessagePlacement> {
  const { tenantId, contactId, now } = options;
  let ticket = await loadTicket(tx, tenantId, options.ticketId);
  for (let hop = 0; ticket.mergedIntoId && hop < MAX_MERGE_HOPS; hop += 1) ticket = await loadTicket(tx, tenantId, ticket.mergedIntoId);
  if (ticket.contactId !== contactId) throw new AppError('FORBIDDEN', 'this ticket belongs to another contact');

  let reopened = false;
  let previousTicketId: string | undefined;
  if (ticket.status === 'resolved' || ticket.status === 'closed') {
    const { reopenWindowHours } = await loadHelpdeskBehaviour(tx, tenantId);
    const resolvedAt = ticket.resolvedAt ?? ticket.updatedAt;
    const withinWindow = ticket.status === 'resolved' && now.getTime() - resolvedAt.getTime() <= reopenWindowHours * 3_600_000;
    if (withinWindow) {
      await applyTicketChanges(tx, { tenantId, actor: SYSTEM_ACTOR, ticketId: ticket.id, changes: { status: 'open' }, now });
      reopened = true;
    } else {
      previousTicketId = ticket.id;
      const opened = await openTicket(tx, {
        tenantId,
        actor: { kind: 'customer', contactId },
        contactId,
        categoryId: ticket.categoryId,
        conversationId: ticket.conversationId,
        subject: ticket.subject,
        now,
      });
      ticket = await loadTicket(tx, tenantId, opened.ticketId);
    }
  } else if (ticket.status === 'pending') {
    await applyTicketChanges(tx, { tenantId, actor: SYSTEM_ACTOR, ticketId: ticket.id, changes: { status: 'open' }, now });
  }

  const [message] = await tx
    .insert(ticketMessages)
    .values({ tenantId, ticketId: ticket.id, authorKind: 'customer', body: options.body, providerMessageId: options.providerMessageId ?? null, createdAt: now })
    .returning({ id: ticketMessages.id });
  await tx.update(tickets).set({ lastMessageAt: now, updatedAt: now }).where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticket.id)));
  await recordTicketEvent(tx, {
    tenantId,
    ticketId: ticket.id,
    kind: 'customer_replied',
    actor: { kind: 'customer', contactId },
    data: { messageId: message!.id, ...(previousTicketId ? { previousTicketId } : {}), ...(reopened ? { reopened } : {}) },
    at: now,
  });
  if (ticket.assigneeId) {
    await notifyUsers(tx, {
      tenantId,
      userIds: [ticket.assigneeId],
      kind: 'ticket.customer_replied',
      content: {
        title: { fr: `Nouvelle réponse du client sur le ticket #${ticket.number}`, en: `New customer reply on ticket #${ticket.number}` },
        body: { fr: options.body.slice(0, 500), en: options.body.slice(0, 500) },
        ticketId: ticket.id,
        ticketNumber: ticket.number,
      },
      at: now,
    });
  }
  return { ticketId: ticket.id, ticketNumber: ticket.number, messageId: message!.id, reopened, previousTicketId };
}

async function loadTicket(tx: Tx, tenantId: string, ticketId: string) {
  const [ticket] = await tx.select().from(tickets).where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId))).for('update');
  if (!ticket) throw new AppError('NOT_FOUND', 'ticket not found');
  return ticket;
}
