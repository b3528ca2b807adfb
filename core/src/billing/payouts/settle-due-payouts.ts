import { and, asc, eq, inArray, lte } from 'drizzle-orm';
import { payments, type Database } from '@relais/db';
import type { Clock } from '../../shared/ports/clock.js';
import { nextCheckDelayMs } from '../../payments/confirm-payment.js';
import type { GatewayDirectory } from '../../payments/gateway-directory.js';
import { settlePayout, type PayoutSettlement } from './settle-payout.js';

export interface SettleDuePayoutsReport {
  checked: number;
  outcomes: Partial<Record<PayoutSettlement | 'error', number>>;
}

/**
 * The scheduled sweep over pending payouts whose next check is due: polls CamPay for those with
 * a reference (backing off 10 s, 20 s, 40 s, then every minute), re-sends those CamPay never
 * acknowledged, fails those unacknowledged past their deadline. One payout's error never stops
 * the others; it is postponed like a PENDING answer.
 */
export async function settleDuePayouts(
  deps: { db: Database; gateways: GatewayDirectory; clock: Clock; onError?: (error: unknown, paymentId: string) => void },
  options: { limit?: number } = {},
): Promise<SettleDuePayoutsReport> {
  const now = deps.clock.now();
  const due = await deps.db.withPlatform((tx) =>
    tx
      .select({ id: payments.id, checkCount: payments.checkCount })
      .from(payments)
      .where(and(inArray(payments.kind, ['payout', 'refund']), eq(payments.status, 'pending'), lte(payments.nextCheckAt, now)))
      .orderBy(asc(payments.nextCheckAt))
      .limit(options.limit ?? 100),
  );
  const report: SettleDuePayoutsReport = { checked: due.length, outcomes: {} };
  const count = (key: keyof SettleDuePayoutsReport['outcomes']) => (report.outcomes[key] = (report.outcomes[key] ?? 0) + 1);

  for (const payout of due) {
    try {
      count(await settlePayout(deps, { paymentId: payout.id }));
    } catch (error) {
      count('error');
      deps.onError?.(error, payout.id);
      await deps.db.withPlatform((tx) =>
        tx
          .update(payments)
          .set({ nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(payout.checkCount)), checkCount: payout.checkCount + 1 })
          .where(and(eq(payments.id, payout.id), eq(payments.status, 'pending'))),
      );
    }
  }
  return report;
}
