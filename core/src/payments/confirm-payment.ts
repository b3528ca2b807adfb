import { and, eq, isNull, ne, or, sql } from 'drizzle-orm';
import { paymentAttempts, payments, paymentWebhookEvents, tenants, tickets, type Database, type PlatformContext, type Tx } from '@relais/db';
import { recordCollectedPayment } from '../billing/ledger/record-collected-payment.js';
import { settleSubscriptionInvoice } from '../billing/subscriptions/settle-subscription-invoice.js';
import { AppError } from '../shared/app-error.js';
import { writeToOutbox } from '../shared/outbox.js';
import type { Clock } from '../shared/ports/clock.js';
import type { GatewayTransaction } from '../shared/ports/payment-gateway.js';
import type { GatewayDirectory } from './gateway-directory.js';
import { MAX_PAYMENT_ATTEMPTS_PER_TICKET } from './start-ticket-payment.js';

export type ConfirmOutcome =
  | 'fulfilled'
  | 'late_success_fulfilled'
  | 'duplicate_success_refund_required'
  | 'already_fulfilled'
  | 'failed'
  | 'expired'
  | 'still_pending'
  | 'ignored'
  | 'mismatch'
  | 'unknown_reference';

type PaymentRow = typeof payments.$inferSelect;

const RECONCILE_BACKOFF_BASE_MS = 10_000;
const RECONCILE_BACKOFF_MAX_MS = 60_000;

/** When to poll a pending payment again: 10 s, 20 s, 40 s, then every minute. */
export function nextCheckDelayMs(checkCount: number): number {
  return Math.min(RECONCILE_BACKOFF_BASE_MS * 2 ** checkCount, RECONCILE_BACKOFF_MAX_MS);
}

/**
 * Settles a payment from the gateway's own word: re-reads the transaction (never trusts a callback's
 * body), checks amount, currency and our reference, then applies the status in one transaction
 * that locks the payment row. Any number of concurrent, repeated or reordered calls fulfil once.
 * Rules: SUCCESSFUL is final and wins over FAILED or EXPIRED seen earlier (a late success is
 * fulfilled, or flagged for refund when another attempt already paid the ticket); FAILED never
 * undoes a success; PENDING past the deadline expires.
 */
export async function confirmPayment(
  deps: { db: Database; gateways: GatewayDirectory; clock: Clock },
  options: { gatewayAppId: string; gatewayReference?: string; externalReference?: string; paymentId?: string },
): Promise<ConfirmOutcome> {
  const payment = await findPayment(deps.db, options);
  if (!payment) {
    if (options.gatewayReference) await closeWebhookEvents(deps.db, options.gatewayAppId, options.gatewayReference, 'unknown_reference', deps.clock.now());
    return 'unknown_reference';
  }
  // Withdrawals (payouts, refunds) get callbacks too; their own sweep settles them, with the
  // ledger entries that return or release the money (core/src/billing/payouts).
  if (payment.kind === 'payout' || payment.kind === 'refund') {
    if (options.gatewayReference) await closeWebhookEvents(deps.db, options.gatewayAppId, options.gatewayReference, 'withdrawal_settled_by_sweep', deps.clock.now());
    return 'ignored';
  }
  const reference = payment.gatewayReference ?? options.gatewayReference;
  if (!reference) throw new AppError('INTERNAL', 'payment has no gateway reference yet');
  const app = await deps.gateways.get(payment.gatewayAppId);
  if (!app) throw new AppError('NOT_FOUND', `payment gateway app "${payment.gatewayAppId}" is not configured`);

  const transaction = await app.gateway.getTransaction(reference);
  const now = deps.clock.now();
  if (!matches(payment, transaction)) {
    await closeWebhookEvents(deps.db, payment.gatewayAppId, reference, 'mismatch', now);
    return 'mismatch';
  }

  return deps.db.withPlatform(async (tx, platform) => {
    const [locked] = await tx.select().from(payments).where(eq(payments.id, payment.id)).for('update');
    const current = locked!;
    if (!current.gatewayReference) {
      await tx.update(payments).set({ gatewayReference: reference }).where(eq(payments.id, current.id));
    }
    let outcome: ConfirmOutcome;
    switch (transaction.status) {
      case 'SUCCESSFUL':
        outcome = current.status === 'successful' ? 'already_fulfilled' : await fulfil(tx, platform, current, transaction, now);
        break;
      case 'FAILED':
        outcome = current.status === 'pending' || current.status === 'expired' ? await settleUnpaid(tx, platform, current, 'failed', now) : 'ignored';
        break;
      default:
        outcome =
          current.status !== 'pending'
            ? 'ignored'
            : now >= current.expiresAt
              ? await settleUnpaid(tx, platform, current, 'expired', now)
              : await postponeCheck(tx, current, now);
    }
    await markEvents(tx, current.gatewayAppId, reference, outcome, now);
    return outcome;
  });
}

/** Expires a pending payment the gateway never acknowledged (no reference to poll). */
export async function expireUnansweredPayment(deps: { db: Database; clock: Clock }, paymentId: string): Promise<ConfirmOutcome> {
  const now = deps.clock.now();
  return deps.db.withPlatform(async (tx, platform) => {
    const [payment] = await tx.select().from(payments).where(eq(payments.id, paymentId)).for('update');
    if (!payment || payment.status !== 'pending' || payment.gatewayReference) return 'ignored';
    return settleUnpaid(tx, platform, payment, 'expired', now);
  });
}

async function findPayment(
  db: Database,
  options: { gatewayAppId: string; gatewayReference?: string; externalReference?: string; paymentId?: string },
): Promise<PaymentRow | undefined> {
  return db.withPlatform(async (tx) => {
    const conditions = [
      options.paymentId ? eq(payments.id, options.paymentId) : undefined,
      options.gatewayReference ? and(eq(payments.gatewayAppId, options.gatewayAppId), eq(payments.gatewayReference, options.gatewayReference)) : undefined,
      // A callback for a collect whose answer we never received still names our reference.
      options.externalReference ? and(eq(payments.gatewayAppId, options.gatewayAppId), eq(payments.externalReference, options.externalReference)) : undefined,
    ].filter((condition) => condition !== undefined);
    if (conditions.length === 0) return undefined;
    const [row] = await tx.select().from(payments).where(or(...conditions)).limit(1);
    return row;
  });
}

function matches(payment: PaymentRow, transaction: GatewayTransaction): boolean {
  return (
    transaction.amountXaf === payment.amountXaf &&
    transaction.currency === payment.currency &&
    // Required, not optional: without it a transaction of the same amount could settle another payment.
    transaction.externalReference === payment.externalReference
  );
}

async function fulfil(tx: Tx, platform: PlatformContext, payment: PaymentRow, transaction: GatewayTransaction, now: Date): Promise<ConfirmOutcome> {
  if (payment.kind === 'subscription') return fulfilSubscription(tx, platform, payment, transaction, now);
  if (payment.kind !== 'customer_payment' || !payment.tenantId || !payment.attemptId) {
    throw new AppError('INTERNAL', `fulfilment of ${payment.kind} payments is not handled by confirmPayment`);
  }
  const wasSettled = payment.status !== 'pending';
  await tx
    .update(payments)
    .set({ status: 'successful', operator: transaction.operator ?? payment.operator, failureReason: null, completedAt: now, updatedAt: now })
    .where(eq(payments.id, payment.id));
  const [tenant] = await tx
    .select({ billingMode: tenants.billingMode, commissionRateBps: tenants.commissionRateBps })
    .from(tenants)
    .where(eq(tenants.id, payment.tenantId));
  const split = await recordCollectedPayment(tx, { id: payment.id, tenantId: payment.tenantId, amountXaf: payment.amountXaf, ...tenant! });

  await platform.enterTenant(payment.tenantId);
  // Lock the ticket before asking whether another attempt paid it: two attempts of one ticket
  // confirmed at the same time would otherwise each miss the other's uncommitted success.
  await tx
    .select({ id: tickets.id })
    .from(tickets)
    .innerJoin(paymentAttempts, and(eq(paymentAttempts.tenantId, tickets.tenantId), eq(paymentAttempts.ticketId, tickets.id)))
    .where(and(eq(tickets.tenantId, payment.tenantId), eq(paymentAttempts.id, payment.attemptId)))
    .for('update', { of: tickets });
  const [attempt] = await tx
    .update(paymentAttempts)
    .set({ status: 'successful', failureReason: null, completedAt: now, updatedAt: now })
    .where(and(eq(paymentAttempts.tenantId, payment.tenantId), eq(paymentAttempts.id, payment.attemptId)))
    .returning();
  const otherPaid = await tx
    .select({ id: paymentAttempts.id })
    .from(paymentAttempts)
    .where(
      and(
        eq(paymentAttempts.tenantId, payment.tenantId),
        eq(paymentAttempts.ticketId, attempt!.ticketId),
        eq(paymentAttempts.status, 'successful'),
        ne(paymentAttempts.id, attempt!.id),
      ),
    );
  const event = { ticketId: attempt!.ticketId, attemptId: attempt!.id, paymentId: payment.id, amountXaf: payment.amountXaf, ...split };
  const ticketPaidNow =
    otherPaid.length === 0 &&
    (await writeToOutbox(tx, payment.tenantId, { topic: 'ticket.paid', dedupeKey: `ticket-paid:${attempt!.ticketId}`, payload: { ...event, late: wasSettled } }));
  if (!ticketPaidNow) {
    // The ticket was already paid by another attempt: keep the money on the books and refund it.
    await writeToOutbox(tx, payment.tenantId, { topic: 'payment.refund_required', dedupeKey: `payment-refund:${payment.id}`, payload: { ...event, phone: payment.phone } });
    return 'duplicate_success_refund_required';
  }
  return wasSettled ? 'late_success_fulfilled' : 'fulfilled';
}

/** A reseller paid its subscription invoice by Mobile Money: the invoice is paid and the tenant reactivated. */
async function fulfilSubscription(tx: Tx, platform: PlatformContext, payment: PaymentRow, transaction: GatewayTransaction, now: Date): Promise<ConfirmOutcome> {
  if (!payment.invoiceId) throw new AppError('INTERNAL', `subscription payment ${payment.id} names no invoice`);
  const wasSettled = payment.status !== 'pending';
  await tx
    .update(payments)
    .set({ status: 'successful', operator: transaction.operator ?? payment.operator, failureReason: null, completedAt: now, updatedAt: now })
    .where(eq(payments.id, payment.id));
  await settleSubscriptionInvoice(tx, platform, { invoiceId: payment.invoiceId, now, source: { kind: 'gateway', paymentId: payment.id, amountXaf: payment.amountXaf } });
  return wasSettled ? 'late_success_fulfilled' : 'fulfilled';
}

async function settleUnpaid(tx: Tx, platform: PlatformContext, payment: PaymentRow, status: 'failed' | 'expired', now: Date): Promise<ConfirmOutcome> {
  await tx.update(payments).set({ status, completedAt: now, updatedAt: now, failureReason: status }).where(eq(payments.id, payment.id));
  if (payment.kind === 'customer_payment' && payment.tenantId && payment.attemptId) {
    await platform.enterTenant(payment.tenantId);
    const [attempt] = await tx
      .update(paymentAttempts)
      .set({ status, failureReason: status, completedAt: now, updatedAt: now })
      .where(and(eq(paymentAttempts.tenantId, payment.tenantId), eq(paymentAttempts.id, payment.attemptId)))
      .returning();
    await writeToOutbox(tx, payment.tenantId, {
      topic: `payment.${status}`,
      dedupeKey: `payment-unpaid:${payment.id}`,
      payload: { ticketId: attempt!.ticketId, attemptId: attempt!.id, attemptsLeft: MAX_PAYMENT_ATTEMPTS_PER_TICKET - attempt!.attemptNumber },
    });
  }
  return status;
}

async function postponeCheck(tx: Tx, payment: PaymentRow, now: Date): Promise<ConfirmOutcome> {
  await tx
    .update(payments)
    .set({ nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(payment.checkCount)), checkCount: sql`${payments.checkCount} + 1`, updatedAt: now })
    .where(eq(payments.id, payment.id));
  return 'still_pending';
}

async function markEvents(tx: Tx, gatewayAppId: string, reference: string, outcome: string, now: Date): Promise<void> {
  await tx
    .update(paymentWebhookEvents)
    .set({ processedAt: now, outcome })
    .where(and(eq(paymentWebhookEvents.gatewayAppId, gatewayAppId), eq(paymentWebhookEvents.gatewayReference, reference), isNull(paymentWebhookEvents.processedAt)));
}

function closeWebhookEvents(db: Database, gatewayAppId: string, reference: string, outcome: string, now: Date) {
  return db.withPlatform((tx) => markEvents(tx, gatewayAppId, reference, outcome, now));
}
