import { contacts, tickets, type Tx } from '@relais/db';

const BATCH = 1_000;

/**
 * Seeds `count` contacts, each with one ticket in `categoryId`, in batches of 1 000 rows (phone
 * numbers unique per tenant index); `onBatch` sees each batch's ticket ids (to add payment rows).
 */
export async function insertContactsWithTickets(
  tx: Tx,
  options: { tenantId: string; tenantIndex: number; categoryId: string; count: number; onBatch?: (ticketIds: string[]) => Promise<void> },
): Promise<string[]> {
  const { tenantId } = options;
  const ids: string[] = [];
  for (let offset = 0; offset < options.count; offset += BATCH) {
    const size = Math.min(BATCH, options.count - offset);
    const contactRows = await tx
      .insert(contacts)
      .values(Array.from({ length: size }, (_, i) => ({ tenantId, name: 'Awa', phoneE164: `+2376${String(options.tenantIndex).padStart(2, '0')}${String(offset + i).padStart(6, '0')}` })))
      .returning({ id: contacts.id });
    const ticketRows = await tx
      .insert(tickets)
      .values(contactRows.map((contact, i) => ({ tenantId, number: offset + i + 1, contactId: contact.id, categoryId: options.categoryId, subject: 'Acheter du WiFi' })))
      .returning({ id: tickets.id });
    const batch = ticketRows.map((ticket) => ticket.id);
    await options.onBatch?.(batch);
    ids.push(...batch);
  }
  return ids;
}

/** Shuffles in place (Fisher-Yates): tenants interleaved, as real traffic arrives. */
export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
