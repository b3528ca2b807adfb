import { randomUUID } from 'node:crypto';
import { categories, contacts, tickets, type Database } from '@relais/db';

/**
 * A contact with a ticket in a category priced `priceXaf`: a paid support request, or buying WiFi
 * when the category sells `wifiPackageId`.
 */
export async function createPricedTicket(db: Database, tenantId: string, priceXaf = 500, wifiPackageId?: string): Promise<{ ticketId: string; contactId: string }> {
  return db.withTenant(tenantId, async (tx) => {
    const [contact] = await tx.insert(contacts).values({ tenantId, name: 'Awa', phoneE164: `+2376${randomUUID().replace(/\D/g, '').slice(0, 8).padEnd(8, '0')}` }).returning();
    const [category] = await tx.insert(categories).values({ tenantId, nameFr: 'Forfait WiFi', nameEn: 'WiFi package', priceXaf, wifiPackageId }).returning();
    const number = Math.floor(Math.random() * 1_000_000);
    const [ticket] = await tx
      .insert(tickets)
      .values({ tenantId, number, contactId: contact!.id, categoryId: category!.id, subject: 'Acheter du WiFi' })
      .returning();
    return { ticketId: ticket!.id, contactId: contact!.id };
  });
}
