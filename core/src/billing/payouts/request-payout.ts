import { randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { auditLog, payments, tenants, type Database } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { MobileOperator } from '../../shared/ports/payment-gateway.js';
import { parseCameroonMobile } from '../../payments/cameroon-msisdn.js';
import { nextCheckDelayMs } from '../../payments/confirm-payment.js';
import { PLATFORM_GATEWAY_APP_ID, type GatewayDirectory } from '../../payments/gateway-directory.js';
import { walletBalance } from '../ledger/ledger-balances.js';
import { postJournalEntry } from '../ledger/post-journal-entry.js';
import { sendWithdrawal, WITHDRAW_LEASE_MS } from './payout-withdrawal.js';
import { failUnsentPayout, settlePayout } from './settle-payout.js';

/**
 * Smallest payout, in XAF. Each payout costs a CamPay withdrawal (about 1% fee, unconfirmed, plus
 * the operator's own minimums), a row, status polls and a notification; below the price of the
 * cheapest voucher (a 1-day pass is 500 FCFA) that cost is out of proportion, and a floor also
 * keeps the platform's CamPay float from being drained in a stream of tiny withdrawals. 500 XAF
 * still lets a reseller who made one sale take the money out.
 */
export const PAYOUT_MIN_XAF = 500;

/**
 * A payout CamPay never acknowledged is re-sent until this long after the request, then failed
 * and its money returned. Longer than a customer payment's 5 minutes: nobody is waiting at a USSD
 * prompt, and a short CamPay outage should not bounce a reseller's withdrawal.
 */
export const PAYOUT_PENDING_TIMEOUT_MS = 30 * 60 * 1000;

const requestPayoutInput = z.object({
  tenantId: z.uuid(),
  // Checked below, to answer PAYMENT_AMOUNT_INVALID for any amount that is not a whole number of XAF.
  amountXaf: z.unknown(),
  phone: z.string().max(40),
  requestedByUserId: z.uuid().optional(),
});

export interface RequestPayoutOptions {
  tenantId: string;
  /** Whole XAF, at least PAYOUT_MIN_XAF. */
  amountXaf: number;
  /** The recipient's MTN or Orange number, in any usual Cameroonian form. */
  phone: string;
  /** The reseller's user who asked, for the audit log; absent for system-initiated payouts. */
  requestedByUserId?: string;
}

export interface RequestedPayout {
  paymentId: string;
  amountXaf: number;
  /** E.164 */
  phone: string;
  operator: MobileOperator;
  /** pending: sent (or to be re-sent) and awaiting CamPay's word; failed: CamPay refused it, the money is back in the wallet. */
  status: 'pending' | 'successful' | 'failed';
  gatewayReference?: string;
  /** The AppError code of CamPay's refusal, when failed at once (e.g. PAYMENT_INSUFFICIENT_FUNDS for ER301). */
  failureReason?: string;
  /** true when CamPay could not be reached: the settle-payouts sweep sends it again shortly. */
  gatewayDelayed: boolean;
}

/**
 * A reseller takes money out of its wallet to an MTN or Orange number, paid from the platform's
 * CamPay account. Everything is checked before anything is written. One platform transaction
 * locks the tenant's row (so two payouts of one tenant cannot both spend the same balance),
 * checks the wallet, records the payout and moves the amount from the wallet to the `payouts`
 * account (the hold), and audits the request. Only after commit is CamPay asked to pay: a crash
 * or an outage leaves a pending payout that settlePayout finishes or fails.
 */
export async function requestPayout(
  deps: { db: Database; gateways: GatewayDirectory; clock: Clock },
  options: RequestPayoutOptions,
): Promise<RequestedPayout> {
  const parsed = requestPayoutInput.safeParse(options);
  if (!parsed.success) {
    throw new AppError('VALIDATION_FAILED', `invalid payout request: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  }
  const input = parsed.data;
  const amountXaf = input.amountXaf;
  if (typeof amountXaf !== 'number' || !Number.isSafeInteger(amountXaf) || amountXaf < PAYOUT_MIN_XAF) {
    throw new AppError('PAYMENT_AMOUNT_INVALID', `A payout is a whole number of XAF, at least ${PAYOUT_MIN_XAF} XAF`, {
      details: { minimumXaf: PAYOUT_MIN_XAF },
    });
  }
  const recipient = parseCameroonMobile(input.phone);
  const app = await deps.gateways.get(PLATFORM_GATEWAY_APP_ID);
  if (!app) throw new AppError('DEPENDENCY_UNAVAILABLE', 'payouts are unavailable: the platform payment gateway is not configured');
  const now = deps.clock.now();

  const payout = await deps.db.withPlatform(async (tx, platform) => {
    const [tenant] = await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, input.tenantId)).for('update');
    if (!tenant) throw new AppError('NOT_FOUND', 'tenant not found');
    const availableXaf = await walletBalance(tx, input.tenantId);
    if (availableXaf < amountXaf) {
      throw new AppError('PAYMENT_INSUFFICIENT_FUNDS', `The wallet holds ${availableXaf} XAF, less than the ${amountXaf} XAF asked for`, {
        details: { availableXaf, requestedXaf: amountXaf },
      });
    }
    const [row] = await tx
      .insert(payments)
      .values({
        tenantId: input.tenantId,
        kind: 'payout',
        gatewayAppId: app.id,
        externalReference: randomUUID(),
        phone: recipient.e164,
        amountXaf: amountXaf,
        operator: recipient.operator,
        status: 'pending',
        expiresAt: new Date(now.getTime() + PAYOUT_PENDING_TIMEOUT_MS),
        // Leased to this request's own withdraw call, so the sweep does not send a second one
        // while it is in flight; if we crash, the sweep takes over when the lease ends.
        nextCheckAt: new Date(now.getTime() + WITHDRAW_LEASE_MS),
      })
      .returning();
    await postJournalEntry(tx, {
      description: 'payout requested (held)',
      paymentId: row!.id,
      lines: [
        { account: 'tenant_wallet', tenantId: input.tenantId, amountXaf: amountXaf },
        { account: 'payouts', amountXaf: -amountXaf },
      ],
    });
    await platform.enterTenant(input.tenantId);
    await tx.insert(auditLog).values({
      tenantId: input.tenantId,
      actorKind: input.requestedByUserId ? 'user' : 'system',
      actorId: input.requestedByUserId,
      action: 'payout.requested',
      targetType: 'payment',
      targetId: row!.id,
      data: { amountXaf, phone: recipient.e164, operator: recipient.operator },
    });
    return row!;
  });

  return startWithdrawal(deps, payout, recipient.operator, now);
}

/**
 * Sends a held withdrawal (payout or refund) to CamPay and reads what it answered: refused ->
 * settled as failed at once (money back), unanswered -> left to the sweep, settled at once ->
 * confirmed from the transaction status, never from this answer.
 */
export async function startWithdrawal(
  deps: { db: Database; gateways: GatewayDirectory; clock: Clock },
  payout: typeof payments.$inferSelect,
  operator: MobileOperator,
  now: Date,
): Promise<RequestedPayout> {
  const result: RequestedPayout = {
    paymentId: payout.id,
    amountXaf: payout.amountXaf,
    phone: payout.phone,
    operator,
    status: 'pending',
    gatewayDelayed: false,
  };
  const sent = await sendWithdrawal(deps, payout);
  if (sent.kind === 'refused') {
    await failUnsentPayout(deps, { paymentId: payout.id, reason: sent.error.code });
    return { ...result, status: 'failed', failureReason: sent.error.code };
  }
  if (sent.kind === 'unanswered') {
    // CamPay may not have it: end the lease early so the sweep asks again (same reference) soon.
    await deps.db.withPlatform((tx) =>
      tx
        .update(payments)
        .set({ nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(0)), updatedAt: now })
        .where(and(eq(payments.id, payout.id), eq(payments.status, 'pending'), isNull(payments.gatewayReference))),
    );
    return { ...result, gatewayDelayed: true };
  }
  if (sent.status !== 'PENDING') {
    const outcome = await settlePayout(deps, { paymentId: payout.id });
    if (outcome === 'succeeded') return { ...result, status: 'successful', gatewayReference: sent.reference };
    if (outcome === 'failed') return { ...result, status: 'failed', gatewayReference: sent.reference, failureReason: 'gateway_failed' };
  }
  return { ...result, gatewayReference: sent.reference };
}
