import { and, eq, inArray } from 'drizzle-orm';
import { categories, tickets, type Database } from '@relais/db';
import { isAppError } from '../shared/app-error.js';
import { writeToOutbox } from '../shared/outbox.js';
import type { Clock } from '../shared/ports/clock.js';
import { claimVoucherForTicket } from './vouchers/claim-voucher-for-ticket.js';

export type PaidWifiTicketOutcome = 'not_wifi' | 'delivered' | 'out_of_stock';

/**
 * What "ticket.paid" means for a ticket whose category sells a WiFi package: claim its voucher
 * (exactly once: the claim is idempotent per ticket), ask for it to be delivered on the
 * customer's channel (`wifi.voucher_ready`, which carries ids only — the code is read at send
 * time, so no credential sits in the outbox) and resolve the ticket. Safe to run again: the
 * outbox is at-least-once. Out of stock was already recorded by the claim (customer told,
 * refund requested, reseller alerted): nothing more to do here.
 */
export async function deliverPaidWifiTicket(deps: { db: Database; clock: Clock }, options: { tenantId: string; ticketId: string }): Promise<PaidWifiTicketOutcome> {
  const { tenantId, ticketId } = options;
  const [ticket] = await deps.db.withTenant(tenantId, (tx) =>
    tx
      .select({ packageId: categories.wifiPackageId, contactId: tickets.contactId, conversationId: tickets.conversationId })
      .from(tickets)
      .leftJoin(categories, and(eq(categories.tenantId, tickets.tenantId), eq(categories.id, tickets.categoryId)))
      .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId))),
  );
  if (!ticket?.packageId) return 'not_wifi';

  let claimed;
  try {
    claimed = await claimVoucherForTicket(deps, { tenantId, ticketId });
  } catch (error) {
    if (isAppError(error) && error.code === 'VOUCHER_OUT_OF_STOCK') return 'out_of_stock';
    throw error;
  }
  const now = deps.clock.now();
  await deps.db.withTenant(tenantId, async (tx) => {
    await writeToOutbox(tx, tenantId, {
      topic: 'wifi.voucher_ready',
      dedupeKey: `wifi-voucher-ready:${ticketId}`,
      payload: { ticketId, voucherId: claimed.voucherId, contactId: ticket.contactId, conversationId: ticket.conversationId, onRouter: claimed.onRouter },
    });
    // Paying the ticket was buying WiFi: once the voucher is the customer's, the request is done.
    await tx
      .update(tickets)
      .set({ status: 'resolved', resolvedAt: now, updatedAt: now })
      .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId), inArray(tickets.status, ['open', 'pending'])));
  });
  return 'delivered';
}
