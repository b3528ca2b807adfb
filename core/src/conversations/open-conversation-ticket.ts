import { and, asc, eq, sql } from 'drizzle-orm';
import { categories, executeRows, ticketMessages, tickets, wifiPackages, type Tx } from '@relais/db';
import { assertCanOpenTicket } from '../billing/plan-limits/assert-can-open-ticket.js';
import { AppError } from '../shared/app-error.js';
import { lockKey } from './conversation-records.js';

/** The tenant_counters row that numbers tickets (#1, #2...). */
export const TICKET_NUMBER_COUNTER = 'ticket';

/**
 * Opens a ticket for a conversation in the caller's transaction: in the given category, or for
 * buying a WiFi package in the category that sells it (created the first time a package is sold
 * in a chat, its price kept equal to the package's: the customer was shown the package's price).
 * Counts against the plan's monthly tickets (PLAN_LIMIT_REACHED when full). Numbers are gap-free:
 * the counter row stays locked until commit.
 */
export async function openConversationTicket(
  tx: Tx,
  options: { tenantId: string; contactId: string; conversationId: string; categoryId?: string; packageId?: string; subject: string; description?: string; now: Date },
): Promise<{ ticketId: string; ticketNumber: number }> {
  const { tenantId, now } = options;
  await assertCanOpenTicket(tx, tenantId, now);
  const categoryId = options.packageId ? await categoryForPackage(tx, tenantId, options.packageId) : options.categoryId;
  if (!categoryId) throw new AppError('VALIDATION_FAILED', 'a ticket needs a category or a package');
  const [category] = await tx.select({ priority: categories.defaultPriority }).from(categories).where(and(eq(categories.tenantId, tenantId), eq(categories.id, categoryId)));
  if (!category) throw new AppError('NOT_FOUND', 'category not found');
  const [counter] = await executeRows(
    tx,
    sql`insert into tenant_counters (tenant_id, name, value) values (${tenantId}, ${TICKET_NUMBER_COUNTER}, 1)
        on conflict (tenant_id, name) do update set value = tenant_counters.value + 1
        returning value`,
  );
  const [ticket] = await tx
    .insert(tickets)
    .values({
      tenantId,
      number: Number(counter!.value),
      contactId: options.contactId,
      categoryId,
      conversationId: options.conversationId,
      subject: options.subject.slice(0, 200),
      priority: category.priority,
      createdAt: now,
      updatedAt: now,
    })
    .returning({ id: tickets.id, number: tickets.number });
  if (options.description) {
    await tx.insert(ticketMessages).values({ tenantId, ticketId: ticket!.id, authorKind: 'customer', body: options.description, createdAt: now });
  }
  return { ticketId: ticket!.id, ticketNumber: ticket!.number };
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
