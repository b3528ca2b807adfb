import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { attachments, contacts, ticketEvents, ticketMessages, tickets } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import { loadActingUser } from './ticket-actor.js';
import type { TicketDeps } from './ticket-deps.js';

const getTicketDetailInput = z.object({ tenantId: z.uuid(), userId: z.uuid(), ticketId: z.uuid() });

/**
 * A ticket as the inbox shows it to one of the tenant's users: the ticket, its contact, its
 * messages in order (private notes included: every user of the tenant may read them) with their
 * attachments, and its activity.
 */
export async function getTicketDetail(deps: TicketDeps, options: z.input<typeof getTicketDetailInput>) {
  const input = parseInput(getTicketDetailInput, options);
  const { tenantId, ticketId } = input;
  return deps.db.withTenant(tenantId, async (tx) => {
    await loadActingUser(tx, tenantId, input.userId);
    const [ticket] = await tx.select().from(tickets).where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId)));
    if (!ticket) throw new AppError('NOT_FOUND', 'ticket not found');
    const [contact] = await tx
      .select({ id: contacts.id, name: contacts.name, phoneE164: contacts.phoneE164, email: contacts.email, locale: contacts.locale })
      .from(contacts)
      .where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, ticket.contactId)));
    const messages = await tx
      .select()
      .from(ticketMessages)
      .where(and(eq(ticketMessages.tenantId, tenantId), eq(ticketMessages.ticketId, ticketId)))
      .orderBy(asc(ticketMessages.createdAt), asc(ticketMessages.id));
    const files = await tx
      .select({ id: attachments.id, messageId: attachments.messageId, fileName: attachments.fileName, contentType: attachments.contentType, sizeBytes: attachments.sizeBytes })
      .from(attachments)
      .where(and(eq(attachments.tenantId, tenantId), eq(attachments.ticketId, ticketId)));
    const events = await tx
      .select()
      .from(ticketEvents)
      .where(and(eq(ticketEvents.tenantId, tenantId), eq(ticketEvents.ticketId, ticketId)))
      .orderBy(asc(ticketEvents.createdAt), asc(ticketEvents.id));
    return {
      ticket,
      contact: contact!,
      messages: messages.map((message) => ({ ...message, attachments: files.filter((file) => file.messageId === message.id) })),
      /** Files attached to the ticket rather than to one message. */
      attachments: files.filter((file) => file.messageId === null),
      events,
    };
  });
}
