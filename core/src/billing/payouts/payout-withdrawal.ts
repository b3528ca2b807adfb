import { and, eq, isNull } from 'drizzle-orm';
import { payments, type Database } from '@relais/db';
import { AppError, isAppError } from '../../shared/app-error.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { GatewayTransactionStatus } from '../../shared/ports/payment-gateway.js';
import type { GatewayDirectory } from '../../payments/gateway-directory.js';
import { nextCheckDelayMs } from '../../payments/confirm-payment.js';

export type PayoutRow = typeof payments.$inferSelect;

/**
 * How long a withdraw request owns a payout without a gateway reference: the sweep leaves it
 * alone meanwhile, so no second request for the same payout starts while one may be in flight.
 * Longer than any CamPay client timeout (15 s by default).
 */
export const WITHDRAW_LEASE_MS = 2 * 60 * 1000;

/** What the recipient's Mobile Money statement shows. */
const PAYOUT_DESCRIPTION = 'Relais payout';

export type WithdrawalAnswer =
  | { kind: 'sent'; reference: string; status: GatewayTransactionStatus }
  /** CamPay certainly did not create the withdrawal: safe to give the money back. */
  | { kind: 'refused'; error: AppError }
  /** No usable answer: the withdrawal may or may not exist at CamPay. */
  | { kind: 'unanswered'; error: unknown };

/**
 * True when the error proves CamPay did not (and will not) pay: a refusal with a 4xx (ER301
 * balance too low, ER101/ER102 phone, ER201 amount, 401 credentials) or our client refusing the
 * request before sending it. A 2xx we could not read is NOT a refusal even though its AppError
 * is not retryable: CamPay may have accepted the withdrawal, so giving the money back could pay
 * the reseller twice. Timeouts, network errors and 5xx are not refusals either.
 */
export function withdrawalRefused(error: unknown): error is AppError {
  if (!isAppError(error) || error.retryable) return false;
  const httpStatus = error.details?.httpStatus;
  return !(typeof httpStatus === 'number' && httpStatus >= 200 && httpStatus < 300);
}

/**
 * Asks the payout's gateway to send the money, always with the payout's own external reference
 * (CamPay is said to be idempotent on it), and stores the gateway's reference when it answers.
 */
export async function sendWithdrawal(deps: { db: Database; gateways: GatewayDirectory; clock: Clock }, payout: PayoutRow): Promise<WithdrawalAnswer> {
  const app = await deps.gateways.get(payout.gatewayAppId);
  if (!app) return { kind: 'unanswered', error: new AppError('NOT_FOUND', `payment gateway app "${payout.gatewayAppId}" is not configured`) };
  let answer: { reference: string; status: GatewayTransactionStatus };
  try {
    answer = await app.gateway.withdraw({
      amountXaf: payout.amountXaf,
      recipientPhone: payout.phone,
      description: PAYOUT_DESCRIPTION,
      externalReference: payout.externalReference,
    });
  } catch (error) {
    return withdrawalRefused(error) ? { kind: 'refused', error } : { kind: 'unanswered', error };
  }
  const now = deps.clock.now();
  await deps.db.withPlatform((tx) =>
    tx
      .update(payments)
      // First status poll after the usual first delay; the lease ends here.
      .set({ gatewayReference: answer.reference, nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(0)), updatedAt: now })
      .where(and(eq(payments.id, payout.id), isNull(payments.gatewayReference))),
  );
  return { kind: 'sent', reference: answer.reference, status: answer.status };
}
