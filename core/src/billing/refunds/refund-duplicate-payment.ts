import { and, eq, sql } from 'drizzle-orm';
import { payments, paymentSplits, tenants, type Database } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import type { Clock } from '../../shared/ports/clock.js';
import { parseCameroonMobile } from '../../payments/cameroon-msisdn.js';
import { PLATFORM_GATEWAY_APP_ID, type GatewayDirectory } from '../../payments/gateway-directory.js';
import { postJournalEntry } from '../ledger/post-journal-entry.js';
import { WITHDRAW_LEASE_MS } from '../payouts/payout-withdrawal.js';
import { PAYOUT_PENDING_TIMEOUT_MS, startWithdrawal, type RequestedPayout } from '../payouts/request-payout.js';

/**
 * Sends a customer's money back when a second payment for an already paid ticket succeeded (a
 * late success, see docs/decisions/005). In one platform transaction, under the tenant-row lock
 * payouts also take: the platform returns the fee it booked on that payment, then the gross is
 * held from the wallet (so both are back where they were before the duplicate), and a `refund`
 * withdrawal to the payer is recorded; then CamPay is asked to pay it, and the payouts sweep
 * settles it like any withdrawal. Idempotent: one refund per payment, whatever calls it again.
 * The wallet is debited even if the reseller already withdrew the money: the platform pays the
 * customer back at once and the negative balance is netted against the reseller's next sales.
 */
export async function refundDuplicatePayment(
  deps: { db: Database; gateways: GatewayDirectory; clock: Clock },
  options: { paymentId: string },
): Promise<RequestedPayout | 'already_refunded'> {
  const app = await deps.gateways.get(PLATFORM_GATEWAY_APP_ID);
  if (!app) throw new AppError('DEPENDENCY_UNAVAILABLE', 'refunds are unavailable: the platform payment gateway is not configured');
  const now = deps.clock.now();
  const externalReference = `refund:${options.paymentId}`;

  const refund = await deps.db.withPlatform(async (tx) => {
    const [original] = await tx.select().from(payments).where(eq(payments.id, options.paymentId));
    if (!original || original.kind !== 'customer_payment' || original.status !== 'successful' || !original.tenantId) {
      throw new AppError('NOT_FOUND', 'no successful customer payment to refund');
    }
    await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, original.tenantId)).for('update');
    const [existing] = await tx.select({ id: payments.id }).from(payments).where(eq(payments.externalReference, externalReference));
    if (existing) return undefined;

    const [fee] = await tx
      .select({ total: sql<string>`coalesce(sum(${paymentSplits.amountXaf}), 0)` })
      .from(paymentSplits)
      .where(and(eq(paymentSplits.paymentId, original.id), eq(paymentSplits.account, 'platform_revenue')));
    const platformFeeXaf = 0 - Number(fee!.total);
    const [row] = await tx
      .insert(payments)
      .values({
        tenantId: original.tenantId,
        kind: 'refund',
        gatewayAppId: app.id,
        externalReference,
        phone: original.phone,
        amountXaf: original.amountXaf,
        operator: original.operator,
        status: 'pending',
        expiresAt: new Date(now.getTime() + PAYOUT_PENDING_TIMEOUT_MS),
        nextCheckAt: new Date(now.getTime() + WITHDRAW_LEASE_MS),
      })
      .returning();
    // Subscription-mode resellers paid no fee on it: nothing to return then.
    if (platformFeeXaf > 0) await postJournalEntry(tx, {
      description: 'duplicate payment refunded: platform fee returned',
      paymentId: row!.id,
      lines: [
        { account: 'platform_revenue', amountXaf: platformFeeXaf },
        { account: 'tenant_wallet', tenantId: original.tenantId, amountXaf: -platformFeeXaf },
      ],
    });
    await postJournalEntry(tx, {
      description: 'duplicate payment refunded (held)',
      paymentId: row!.id,
      lines: [
        { account: 'tenant_wallet', tenantId: original.tenantId, amountXaf: original.amountXaf },
        { account: 'payouts', amountXaf: -original.amountXaf },
      ],
    });
    return row!;
  });
  if (!refund) return 'already_refunded';
  return startWithdrawal(deps, refund, parseCameroonMobile(refund.phone).operator, now);
}
