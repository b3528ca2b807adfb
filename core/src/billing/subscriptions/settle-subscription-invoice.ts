import { and, desc, eq } from 'drizzle-orm';
import { invoices, subscriptions, tenants, tenantStatusHistory, type PlatformContext, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { writeToOutbox } from '../../shared/outbox.js';
import { postJournalEntry } from '../ledger/post-journal-entry.js';
import { periodOfDates } from './billing-calendar.js';
import { lockRenewalRows } from './lock-renewal-rows.js';

/** The status history reason of a suspension for non-payment: only those are lifted by a payment. */
export const SUBSCRIPTION_SUSPENSION_REASON = 'subscription_grace_expired';

/** Where the money for a subscription invoice came from. */
export type SubscriptionPaymentSource =
  | { kind: 'wallet' }
  /** A Mobile Money payment (payments.kind 'subscription') the gateway confirmed. */
  | { kind: 'gateway'; paymentId: string; amountXaf: number };

export type SettleSubscriptionOutcome =
  /** The invoice is paid now; the subscription runs for its period and the tenant is active. */
  | 'paid'
  /** The invoice was already paid (wallet source): nothing was done. */
  | 'already_paid'
  /** Money arrived for an invoice paid another way: kept as credit in the reseller's wallet. */
  | 'credited_to_wallet';

export interface SettledSubscriptionInvoice {
  outcome: SettleSubscriptionOutcome;
  /** true when the tenant went from grace or suspended back to active. */
  reactivated: boolean;
}

/**
 * Settles one open subscription invoice inside the caller's platform transaction: the ledger
 * entry (wallet: tenant_wallet +fee / platform_revenue -fee; Mobile Money: gateway_clearing +fee /
 * platform_revenue -fee), the invoice marked paid, the subscription moved to the invoice's period
 * and active, the tenant reactivated (with a status history row) if it was in grace or suspended,
 * and a "subscription.renewed" message in the tenant's outbox.
 *
 * Locks the tenant, then its subscription, then the invoice: the renewal check takes them in
 * the same order, so the two never deadlock.
 */
export async function settleSubscriptionInvoice(
  tx: Tx,
  platform: PlatformContext,
  options: { invoiceId: string; now: Date; source: SubscriptionPaymentSource },
): Promise<SettledSubscriptionInvoice> {
  const { now, source } = options;
  const [target] = await tx
    .select({ tenantId: invoices.tenantId })
    .from(invoices)
    .where(eq(invoices.id, options.invoiceId));
  if (!target) throw new AppError('INTERNAL', `subscription invoice ${options.invoiceId} not found`);
  const tenantId = target.tenantId;

  const { tenant, subscription, invoice } = await lockRenewalRows(tx, tenantId, options.invoiceId);
  if (!invoice || invoice.kind !== 'subscription') throw new AppError('INTERNAL', `invoice ${options.invoiceId} is not a subscription invoice`);

  if (invoice.status !== 'open') {
    if (source.kind === 'wallet') return { outcome: 'already_paid', reactivated: false };
    // Paid twice (e.g. from the wallet while a Mobile Money push was still pending, then the push
    // succeeded late): the platform keeps nothing extra, the reseller's wallet is credited.
    await postJournalEntry(tx, {
      description: `subscription payment for invoice ${invoice.number}, already paid: credited to the wallet`,
      paymentId: source.paymentId,
      lines: [
        { account: 'gateway_clearing', amountXaf: source.amountXaf },
        { account: 'tenant_wallet', tenantId, amountXaf: -source.amountXaf },
      ],
    });
    await platform.enterTenant(tenantId);
    await writeToOutbox(tx, tenantId, {
      topic: 'subscription.payment_credited',
      dedupeKey: `subscription-credited:${source.paymentId}`,
      payload: { invoiceId: invoice.id, invoiceNumber: invoice.number, paymentId: source.paymentId, amountXaf: source.amountXaf },
    });
    return { outcome: 'credited_to_wallet', reactivated: false };
  }

  const amountXaf = source.kind === 'gateway' ? source.amountXaf : invoice.amountXaf;
  if (amountXaf !== invoice.amountXaf) {
    throw new AppError('INTERNAL', `payment of ${amountXaf} XAF does not match invoice ${invoice.number} (${invoice.amountXaf} XAF)`);
  }
  if (amountXaf > 0) {
    await postJournalEntry(tx, {
      description: source.kind === 'wallet' ? `subscription invoice ${invoice.number} paid from the wallet` : `subscription invoice ${invoice.number} paid by Mobile Money`,
      paymentId: source.kind === 'gateway' ? source.paymentId : undefined,
      lines: [
        source.kind === 'wallet' ? { account: 'tenant_wallet', tenantId, amountXaf } : { account: 'gateway_clearing', amountXaf },
        { account: 'platform_revenue', amountXaf: -amountXaf },
      ],
    });
  }
  await tx.update(invoices).set({ status: 'paid', paidAt: now }).where(eq(invoices.id, invoice.id));

  const period = periodOfDates(invoice.periodStart, invoice.periodEnd);
  if (subscription) {
    // An invoice for an earlier period (paid late) never moves the subscription backwards.
    const advances = subscription.currentPeriodEnd < period.end;
    await tx
      .update(subscriptions)
      .set({
        status: 'active',
        graceUntil: null,
        updatedAt: now,
        ...(advances ? { currentPeriodStart: period.start, currentPeriodEnd: period.end } : {}),
      })
      .where(eq(subscriptions.id, subscription.id));
  }

  const fromStatus = tenant?.status;
  const reactivated = fromStatus === 'grace' || (fromStatus === 'suspended' && (await suspendedForNonPayment(tx, tenantId)));
  if (reactivated) {
    await tx.update(tenants).set({ status: 'active', updatedAt: now }).where(eq(tenants.id, tenantId));
    await tx.insert(tenantStatusHistory).values({
      tenantId,
      fromStatus: fromStatus!,
      toStatus: 'active',
      reason: 'subscription_paid',
      details: { invoiceId: invoice.id, invoiceNumber: invoice.number, via: source.kind, paymentId: source.kind === 'gateway' ? source.paymentId : null },
    });
  }

  await platform.enterTenant(tenantId);
  await writeToOutbox(tx, tenantId, {
    topic: 'subscription.renewed',
    dedupeKey: `subscription-paid:${invoice.id}`,
    payload: {
      invoiceId: invoice.id,
      invoiceNumber: invoice.number,
      amountXaf,
      periodStart: invoice.periodStart,
      periodEnd: invoice.periodEnd,
      via: source.kind,
      reactivated,
    },
  });
  return { outcome: 'paid', reactivated };
}

/** Whether the tenant's latest suspension was for non-payment (not, say, an administrator's decision). */
async function suspendedForNonPayment(tx: Tx, tenantId: string): Promise<boolean> {
  const [latest] = await tx
    .select({ reason: tenantStatusHistory.reason })
    .from(tenantStatusHistory)
    .where(and(eq(tenantStatusHistory.tenantId, tenantId), eq(tenantStatusHistory.toStatus, 'suspended')))
    .orderBy(desc(tenantStatusHistory.createdAt))
    .limit(1);
  return latest?.reason === SUBSCRIPTION_SUSPENSION_REASON;
}
