import { z } from 'zod';
import type { MobileOperator } from '../../shared/ports/payment-gateway.js';

/**
 * Shapes of CamPay's answers (shared/INTEGRATIONS.md). Every body is parsed here before use.
 * CamPay sends amounts sometimes as strings ("500", "500.00"), sometimes as numbers: both are read.
 */

const numeric = z.union([z.number(), z.string().trim().regex(/^-?\d+(\.\d+)?$/, 'must be a number').transform(Number)]);

/** A transaction amount: whole XAF ("500.00" is fine, "500.50" is not: we only ever ask for whole amounts). */
export const wholeXaf = numeric.pipe(z.number().int().nonnegative());

/**
 * A balance: rounded down to whole XAF. Fees are a percentage, so balances can carry fractions;
 * rounding down never claims money the account does not have.
 */
export const balanceXaf = numeric.pipe(z.number().nonnegative()).transform(Math.floor);

const operator = z
  .string()
  .nullish()
  .transform((value): MobileOperator | undefined => {
    const upper = value?.trim().toUpperCase();
    return upper === 'MTN' || upper === 'ORANGE' ? upper : undefined;
  });

const optionalText = z
  .string()
  .nullish()
  .transform((value) => (value ? value : undefined));

const status = z
  .string()
  .transform((value) => value.trim().toUpperCase())
  .pipe(z.enum(['PENDING', 'SUCCESSFUL', 'FAILED']));

export const tokenResponseSchema = z.object({
  token: z.string().min(1),
  // The contract says 3600; when absent we assume it and rely on the 401 -> log in again path.
  expires_in: z.coerce.number().positive().default(3600),
});

export const collectResponseSchema = z.object({
  reference: z.string().min(1),
  ussd_code: optionalText,
  operator,
});

export const transactionResponseSchema = z.object({
  reference: z.string().min(1),
  status,
  amount: wholeXaf,
  currency: z.string().min(1),
  operator,
  code: optionalText,
  operator_reference: optionalText,
  external_reference: optionalText,
});

export const withdrawResponseSchema = z.object({
  reference: z.string().min(1),
  status,
});

export const balanceResponseSchema = z.object({
  total_balance: balanceXaf,
  mtn_balance: balanceXaf,
  orange_balance: balanceXaf,
  currency: z.string().min(1).default('XAF'),
});

/**
 * Error bodies: `{"message"}` per the contract, `{"non_field_errors":[...]}` for token errors,
 * `{"detail"}` as Django REST framework answers 401s. Where the ER code sits is not documented
 * (unconfirmed): an `error_code`/`code` field, or inside the message; we look in both.
 */
export const errorBodySchema = z.looseObject({
  // .catch: a field of an unexpected type is ignored rather than hiding the rest of the body.
  message: z.string().optional().catch(undefined),
  detail: z.string().optional().catch(undefined),
  error_code: z.string().optional().catch(undefined),
  code: z.string().optional().catch(undefined),
  non_field_errors: z.array(z.string()).optional().catch(undefined),
});

export type CampayErrorBody = z.infer<typeof errorBodySchema>;
