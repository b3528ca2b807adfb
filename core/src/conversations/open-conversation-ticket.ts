import { and, asc, eq } from 'drizzle-orm';
import { categories, wifiPackages, type Tx } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { openTicket } from '../tickets/open-ticket.js';
import { lockKey } from '../shared/transaction-lock.js';

/**
 * Opens a ticket for a conversation in the caller's transaction (see `openTicket`): in the given
 * category, or for buying a WiFi package in the category that sells it (created the first time a
 * package is sold in a chat, its price kept equal to the package's: the customer was shown the
 * package's price). A purchase is not work for an agent: it is not auto-assigned.
 */
export async function openConversationTicket(
  tx: Tx,
  options: { tenantId: string; contactId: string; conversationId: string; categoryId?: string; packageId?: string; subject: string; description?: string; now: Date },
): Promise<{ ticketId: string; ticketNumber: number }> {
  const { tenantId } = options;
  const categoryId = options.packageId ? await categoryForPackage(tx, tenantId, options.packageId) : options.categoryId;
  if (!categoryId) throw new AppError('VALIDATION_FAILED', 'a ticket needs a category or a package');
  const opened = await openTicket(tx, {
    tenantId,
    actor: { kind: 'customer', contactId: options.contactId },
    contactId: options.contactId,
    categoryId,
    conversationId: options.conversationId,
    subject: options.subject,
    description: options.description,
    autoAssign: !options.packageId,
    now: options.now,
  });
  return { ticketId: opened.ticketId, ticketNumber: opened.ticketNumber };
}

async function categoryForPackage(tx: Tx, tenantId: string, packageId: string): Promise<string> {
  const [item] = await tx
    .select({ nameFr: wifiPackages.nameFr, nameEn: wifiPackages.nameEn, priceXaf: wifiPackages.priceXaf })
    .from(wifiPackages)
    .where(and(eq(wifiPackages.tenantId, tenantId), eq(wifiPackages.id, packageId)));
  if (!item) throw new AppError('NOT_FOUND', 'package not found');
  // Two first sales of a package at once must not create two categories for it.
  await lockKey(tx, `category-for-package:${tenantId}:${packageId}`);
  const [existing] = await tx
    .select({ id: categories.id, priceXaf: categories.priceXaf })
    .from(categories)
    .where(and(eq(categories.tenantId, tenantId), eq(categories.wifiPackageId, packageId), eq(categories.active, true)))
    .orderBy(asc(categories.createdAt))
    .limit(1);
  if (existing) {
    if (existing.priceXaf !== item.priceXaf) {
      await tx.update(categories).set({ priceXaf: item.priceXaf }).where(and(eq(categories.tenantId, tenantId), eq(categories.id, existing.id)));
    }
    return existing.id;
  }
  const [created] = await tx
    .insert(categories)
    .values({ tenantId, nameFr: `WiFi ${item.nameFr}`, nameEn: `WiFi ${item.nameEn}`, priceXaf: item.priceXaf, wifiPackageId: packageId })
    .returning({ id: categories.id });
  return created!.id;
}
