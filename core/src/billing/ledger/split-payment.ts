import { AppError } from '../../shared/app-error.js';

/** Platform share of each customer payment in commission mode: 10%, in basis points. */
export const DEFAULT_COMMISSION_RATE_BPS = 1_000;
const BASIS_POINTS = 10_000;

export interface PaymentSplit {
  platformFeeXaf: number;
  resellerXaf: number;
}

/**
 * Splits a gross amount between the platform and the reseller. The fee is rounded down to the
 * franc (the reseller keeps the fraction) and the reseller's part is what remains, so the two
 * parts always add up to the gross exactly.
 */
export function splitPayment(grossXaf: number, commissionRateBps: number): PaymentSplit {
  if (!Number.isSafeInteger(grossXaf) || grossXaf <= 0) {
    throw new AppError('PAYMENT_AMOUNT_INVALID', `gross must be a positive whole number of XAF, got ${grossXaf}`);
  }
  if (!Number.isInteger(commissionRateBps) || commissionRateBps < 0 || commissionRateBps > BASIS_POINTS) {
    throw new AppError('VALIDATION_FAILED', `commission rate must be 0-10000 basis points, got ${commissionRateBps}`);
  }
  // BigInt: gross x rate can pass 2^53 for very large amounts.
  const platformFeeXaf = Number((BigInt(grossXaf) * BigInt(commissionRateBps)) / BigInt(BASIS_POINTS));
  return { platformFeeXaf, resellerXaf: grossXaf - platformFeeXaf };
}
