import { and, asc, eq, gte, inArray, isNotNull, lte, or } from 'drizzle-orm';
import { payments, type Database } from '@relais/db';
import type { Clock } from '../shared/ports/clock.js';
import { confirmPayment, expireUnansweredPayment, nextCheckDelayMs, type ConfirmOutcome } from './confirm-payment.js';
import type { GatewayDirectory } from './gateway-directory.js';
import { claimCollectRetry, recordCollectRequest } from './collect-request.js';

/** How long an expired payment is still watched for a late success, and how often. */
const LATE_SUCCESS_WATCH_MS = 24 * 60 * 60 * 1000;
const LATE_SUCCESS_POLL_MS = 10 * 60 * 1000;

function watchAgainLater(db: Database, paymentId: string, now: Date) {
  return db.withPlatform((tx) =>
    tx.update(payments).set({ nextCheckAt: new Date(now.getTime() + LATE_SUCCESS_POLL_MS) }).where(and(eq(payments.id, paymentId), eq(payments.status, 'expired'))),
  );
}

export interface ReconcileReport {
  checked: number;
  outcomes: Partial<Record<ConfirmOutcome | 'collect_requested' | 'error', number>>;
}

/**
 * The safety net behind callbacks: polls pending payments whose next check is due (backing off
 * 10 s, 20 s, 40 s, then every minute), expires those still pending after the deadline (and
 * keeps asking about expired ones every 10 minutes for a day, for late successes), and asks
 * the gateway again for collections whose first request got no answer (CamPay is said to be
 * idempotent on our external reference). One payment's failure never stops the others.
 */
export async function reconcilePayments(
  deps: { db: Database; gateways: GatewayDirectory; clock: Clock; onError?: (error: unknown, paymentId: string) => void },
  options: { limit?: number } = {},
): Promise<ReconcileReport> {
  const now = deps.clock.now();
  const due = await deps.db.withPlatform((tx) =>
    tx
      .select()
      .from(payments)
      // Collections only: payouts and refunds are withdrawals, settled by their own sweep.
      .where(
        and(
          inArray(payments.kind, ['customer_payment', 'subscription']),
          lte(payments.nextCheckAt, now),
          or(
            eq(payments.status, 'pending'),
            // Expired ones CamPay knows about, for a day: a late success whose callback was lost
            // is still found and fulfilled (docs/decisions/005).
            and(eq(payments.status, 'expired'), isNotNull(payments.gatewayReference), gte(payments.expiresAt, new Date(now.getTime() - LATE_SUCCESS_WATCH_MS))),
          ),
        ),
      )
      .orderBy(asc(payments.nextCheckAt))
      .limit(options.limit ?? 100),
  );
  const report: ReconcileReport = { checked: due.length, outcomes: {} };
  const count = (key: keyof ReconcileReport['outcomes']) => (report.outcomes[key] = (report.outcomes[key] ?? 0) + 1);

  for (const payment of due) {
    try {
      if (payment.status === 'expired') {
        const outcome = await confirmPayment(deps, { gatewayAppId: payment.gatewayAppId, paymentId: payment.id });
        count(outcome);
        if (outcome !== 'late_success_fulfilled' && outcome !== 'duplicate_success_refund_required') await watchAgainLater(deps.db, payment.id, now);
      } else if (payment.gatewayReference) {
        count(await confirmPayment(deps, { gatewayAppId: payment.gatewayAppId, paymentId: payment.id }));
      } else if (now >= payment.expiresAt) {
        count(await expireUnansweredPayment(deps, payment.id));
      } else if (await claimCollectRetry(deps.db, payment.id, now)) {
        const app = await deps.gateways.get(payment.gatewayAppId);
        const collected = await app!.gateway.collect({
          amountXaf: payment.amountXaf,
          payerPhone: payment.phone,
          description: payment.kind === 'subscription' ? 'Relais subscription' : 'Ticket payment',
          externalReference: payment.externalReference,
        });
        await recordCollectRequest(deps.db, { tenantId: payment.tenantId, attemptId: payment.attemptId, paymentId: payment.id }, collected, now);
        count('collect_requested');
      } else {
        count('still_pending'); // another reconciler's collect request is in flight
      }
    } catch (error) {
      count('error');
      deps.onError?.(error, payment.id);
      await deps.db.withPlatform((tx) =>
        tx
          .update(payments)
          .set({ nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(payment.checkCount)), checkCount: payment.checkCount + 1 })
          .where(eq(payments.id, payment.id)),
      );
    }
  }
  return report;
}
