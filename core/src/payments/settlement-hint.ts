import { z } from 'zod';

/**
 * The pending customer payment a callback's reference named when the callback was stored, with
 * its tenant's terms, read by the same statement that stored the event. With it, a confirmation
 * that CamPay reports SUCCESSFUL is settled in one statement that locks the payment and pays it
 * only if it is still exactly this (pending, same amount, reference, attempt and terms); when it
 * is not, the settlement takes the general path. A hint is never trusted: it only saves a round
 * trip to the database.
 */
export const settlementHintSchema = z.object({
  paymentId: z.uuid(),
  tenantId: z.uuid(),
  attemptId: z.uuid(),
  amountXaf: z.number().int().positive(),
  currency: z.string().min(1),
  externalReference: z.string().min(1),
  billingMode: z.enum(['subscription', 'commission']),
  commissionRateBps: z.number().int().min(0).max(10_000),
});

export type SettlementHint = z.infer<typeof settlementHintSchema>;

/** A hint as the store statement returns it (snake_case, bigint as text), or null when it found none. */
export interface SettlementHintRecord {
  payment_id: string | null;
  tenant_id: string | null;
  attempt_id: string | null;
  amount_xaf: string | number | null;
  currency: string | null;
  external_reference: string | null;
  billing_mode: string | null;
  commission_rate_bps: number | null;
}

export function settlementHintFromRecord(record: SettlementHintRecord): SettlementHint | undefined {
  if (record.payment_id === null) return undefined;
  const parsed = settlementHintSchema.safeParse({
    paymentId: record.payment_id,
    tenantId: record.tenant_id,
    attemptId: record.attempt_id,
    amountXaf: Number(record.amount_xaf),
    currency: record.currency,
    externalReference: record.external_reference,
    billingMode: record.billing_mode,
    commissionRateBps: record.commission_rate_bps,
  });
  return parsed.success ? parsed.data : undefined;
}
