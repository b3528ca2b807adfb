import { and, eq, isNull, lte, sql } from 'drizzle-orm';
import { z } from 'zod';
import { payments, type Database, type PlatformContext, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { writeToOutbox } from '../../shared/outbox.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { GatewayTransaction } from '../../shared/ports/payment-gateway.js';
import { nextCheckDelayMs } from '../../payments/confirm-payment.js';
import type { GatewayDirectory } from '../../payments/gateway-directory.js';
import { postJournalEntry } from '../ledger/post-journal-entry.js';
import { sendWithdrawal, WITHDRAW_LEASE_MS, type PayoutRow } from './payout-withdrawal.js';

export type PayoutSettlement =
  /** CamPay paid the reseller: the hold leaves through the gateway. */
  | 'succeeded'
  /** CamPay failed it, refused it, or never answered before the deadline: the hold returns to the wallet. */
  | 'failed'
  /** CamPay still says PENDING (or a withdraw request is in flight): polled again later. */
  | 'still_pending'
  /** The withdrawal had no reference and could not be (re)sent now: tried again later. */
  | 'gateway_unavailable'
  /** Settled before (by a concurrent or earlier call): nothing done. */
  | 'already_settled'
  /** CamPay's transaction does not match the payout (amount, currency, reference): left for a person. */
  | 'mismatch';

type Deps = { db: Database; gateways: GatewayDirectory; clock: Clock };

const settlePayoutInput = z.object({ paymentId: z.uuid() });

/**
 * Brings a pending payout to its end from CamPay's own word. With a gateway reference it re-reads
 * the withdrawal; without one (the request got no answer) it sends the withdrawal again with the
 * same external reference, and keeps the money held (flagged for review after the deadline): a
 * request that got no answer may still have reached CamPay. The settlement
 * runs in one transaction that locks the payments row and checks the status under the lock, so
 * any number of concurrent or repeated calls settle once: SUCCESSFUL moves the hold from
 * `payouts` to `gateway_clearing`, FAILED returns it to the wallet.
 *
 * A payout with a reference is never failed for being slow: CamPay may still pay it, and giving
 * the money back first would pay the reseller twice. It stays held until CamPay says FAILED.
 */
export async function settlePayout(deps: Deps, options: z.input<typeof settlePayoutInput>): Promise<PayoutSettlement> {
  const parsed = settlePayoutInput.safeParse(options);
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', 'paymentId must be a UUID');
  const { paymentId } = parsed.data;

  let payout = await readPayout(deps.db, paymentId);
  if (payout.status !== 'pending') return 'already_settled';
  const now = deps.clock.now();

  if (!payout.gatewayReference) {
    const claimed = await claimUnansweredPayout(deps.db, paymentId, now);
    // Someone else's withdraw request is in flight, or the last one failed and we are backing off.
    if (!claimed) return 'still_pending';
    // An earlier request got no answer, so CamPay may have it and may pay it: the money stays held
    // until CamPay names the withdrawal, however long that takes; past the deadline a person is told.
    if (now >= claimed.expiresAt) await flagForReview(deps.db, claimed);
    const sent = await sendWithdrawal(deps, claimed);
    if (sent.kind !== 'sent') {
      // Even a refusal now proves nothing about the first request (e.g. "reference already used").
      await postpone(deps.db, claimed, now);
      return 'gateway_unavailable';
    }
    payout = { ...claimed, gatewayReference: sent.reference };
  }

  const app = await deps.gateways.get(payout.gatewayAppId);
  if (!app) throw new AppError('NOT_FOUND', `payment gateway app "${payout.gatewayAppId}" is not configured`);
  const transaction = await app.gateway.getTransaction(payout.gatewayReference!);
  if (!matches(payout, transaction)) {
    await postpone(deps.db, payout, now);
    return 'mismatch';
  }

  return deps.db.withPlatform(async (tx, platform) => {
    const current = await lockPayout(tx, paymentId);
    if (current.status !== 'pending') return 'already_settled';
    switch (transaction.status) {
      case 'SUCCESSFUL':
        return closePayout(tx, platform, current, { outcome: 'succeeded', operator: transaction.operator, operatorReference: transaction.operatorReference }, now);
      case 'FAILED':
        return closePayout(tx, platform, current, { outcome: 'failed', reason: 'gateway_failed' }, now);
      default:
        await postponeLocked(tx, current, now);
        return 'still_pending';
    }
  });
}

/**
 * Fails a payout CamPay never acknowledged (no gateway reference) and gives the money back to the
 * wallet, exactly once. Does nothing once a reference is known: then only CamPay's word settles it.
 */
export async function failUnsentPayout(
  deps: { db: Database; clock: Clock },
  options: { paymentId: string; reason: string },
): Promise<'failed' | 'already_settled' | 'still_pending'> {
  const now = deps.clock.now();
  return deps.db.withPlatform(async (tx, platform) => {
    const current = await lockPayout(tx, options.paymentId);
    if (current.status !== 'pending') return 'already_settled';
    if (current.gatewayReference) return 'still_pending';
    await closePayout(tx, platform, current, { outcome: 'failed', reason: options.reason }, now);
    return 'failed';
  });
}

/** Tells the reseller (and support, through the outbox) that a withdrawal needs a person; once. */
async function flagForReview(db: Database, payout: PayoutRow): Promise<void> {
  await db.withPlatform(async (tx, platform) => {
    await platform.enterTenant(payout.tenantId!);
    await writeToOutbox(tx, payout.tenantId!, {
      topic: `${payout.kind === 'refund' ? 'refund' : 'payout'}.needs_review`,
      dedupeKey: `payout-review:${payout.id}`,
      payload: { paymentId: payout.id, amountXaf: payout.amountXaf, phone: payout.phone, reason: 'gateway_unanswered_past_deadline' },
    });
  });
}

async function readPayout(db: Database, paymentId: string): Promise<PayoutRow> {
  const [row] = await db.withPlatform((tx) => tx.select().from(payments).where(eq(payments.id, paymentId)));
  if (!row || (row.kind !== 'payout' && row.kind !== 'refund')) throw new AppError('NOT_FOUND', 'payout not found');
  return row;
}

async function lockPayout(tx: Tx, paymentId: string): Promise<PayoutRow> {
  const [row] = await tx.select().from(payments).where(eq(payments.id, paymentId)).for('update');
  return row!;
}

/**
 * Takes the lease on a due payout without a reference (see WITHDRAW_LEASE_MS): of concurrent
 * callers only one gets the row back, so one withdraw request at a time is in flight.
 */
async function claimUnansweredPayout(db: Database, paymentId: string, now: Date): Promise<PayoutRow | undefined> {
  const [row] = await db.withPlatform((tx) =>
    tx
      .update(payments)
      .set({ nextCheckAt: new Date(now.getTime() + WITHDRAW_LEASE_MS), checkCount: sql`${payments.checkCount} + 1`, updatedAt: now })
      .where(and(eq(payments.id, paymentId), eq(payments.status, 'pending'), isNull(payments.gatewayReference), lte(payments.nextCheckAt, now)))
      .returning(),
  );
  return row;
}

function matches(payout: PayoutRow, transaction: GatewayTransaction): boolean {
  return (
    transaction.amountXaf === payout.amountXaf &&
    transaction.currency === payout.currency &&
    (transaction.externalReference === undefined || transaction.externalReference === payout.externalReference)
  );
}

function postpone(db: Database, payout: PayoutRow, now: Date): Promise<void> {
  return db.withPlatform((tx) => postponeLocked(tx, payout, now));
}

async function postponeLocked(tx: Tx, payout: PayoutRow, now: Date): Promise<void> {
  await tx
    .update(payments)
    .set({ nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(payout.checkCount)), checkCount: sql`${payments.checkCount} + 1`, updatedAt: now })
    .where(and(eq(payments.id, payout.id), eq(payments.status, 'pending')));
}

type Closing =
  | { outcome: 'succeeded'; operator?: string; operatorReference?: string }
  | { outcome: 'failed'; reason: string };

/** Final status, the ledger entry that releases the hold, and the reseller's notification. Caller holds the row lock. */
async function closePayout(tx: Tx, platform: PlatformContext, payout: PayoutRow, closing: Closing, now: Date): Promise<'succeeded' | 'failed'> {
  const tenantId = payout.tenantId!;
  if (closing.outcome === 'succeeded') {
    await tx
      .update(payments)
      .set({ status: 'successful', operator: closing.operator ?? payout.operator, failureReason: null, completedAt: now, updatedAt: now })
      .where(eq(payments.id, payout.id));
    await postJournalEntry(tx, {
      description: 'payout sent',
      paymentId: payout.id,
      lines: [
        { account: 'payouts', amountXaf: payout.amountXaf },
        { account: 'gateway_clearing', amountXaf: -payout.amountXaf },
      ],
    });
  } else {
    await tx.update(payments).set({ status: 'failed', failureReason: closing.reason, completedAt: now, updatedAt: now }).where(eq(payments.id, payout.id));
    await postJournalEntry(tx, {
      description: 'payout failed, returned to wallet',
      paymentId: payout.id,
      lines: [
        { account: 'payouts', amountXaf: payout.amountXaf },
        { account: 'tenant_wallet', tenantId, amountXaf: -payout.amountXaf },
      ],
    });
  }

  await platform.enterTenant(tenantId);
  await writeToOutbox(tx, tenantId, {
    // A refund that fails leaves the customer's money in the reseller's wallet: say which it was.
    topic: `${payout.kind === 'refund' ? 'refund' : 'payout'}.${closing.outcome === 'succeeded' ? 'succeeded' : 'failed'}`,
    dedupeKey: `payout-settled:${payout.id}`,
    payload: {
      paymentId: payout.id,
      amountXaf: payout.amountXaf,
      phone: payout.phone,
      ...(closing.outcome === 'succeeded' ? { operatorReference: closing.operatorReference ?? null } : { reason: closing.reason }),
    },
  });
  return closing.outcome;
}
