import { and, desc, eq, ne } from 'drizzle-orm';
import { invoices, subscriptions, tenants, type Tx } from '@relais/db';

/**
 * Locks a reseller's tenant row, live subscription and one invoice, always in that order: the
 * renewal run, payment confirmation and payouts (tenant row first) take them the same way, so
 * they serialise on a reseller's money without deadlocking each other.
 */
export async function lockRenewalRows(tx: Tx, tenantId: string, invoiceId: string) {
  const [tenant] = await tx.select().from(tenants).where(eq(tenants.id, tenantId)).for('update');
  const [subscription] = await tx
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.tenantId, tenantId), ne(subscriptions.status, 'canceled')))
    .orderBy(desc(subscriptions.createdAt))
    .limit(1)
    .for('update');
  const [invoice] = await tx.select().from(invoices).where(eq(invoices.id, invoiceId)).for('update');
  return { tenant, subscription, invoice };
}
