import { z } from 'zod';

/** What the simulator accepts from tests, the CLI and its control endpoints. */

export const failNextSchema = z.object({
  status: z.number().int().min(100).max(599),
  /** An object is sent as JSON, a string as it is (to imitate an HTML error page). */
  body: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  /** How many matching requests fail (default 1). */
  times: z.number().int().positive().default(1),
  /** Only requests whose path starts with this (e.g. "/api/collect/"); default: any /api request. */
  path: z.string().startsWith('/').optional(),
});

export const faultsSchema = z.strictObject({
  /** Never send callbacks. */
  drop: z.boolean().optional(),
  /** Wait this long before sending each callback. */
  delayMs: z.number().int().nonnegative().optional(),
  /** Send each callback this many times, concurrently (1 = normal). */
  duplicate: z.number().int().min(1).max(100).optional(),
  /** Hold callbacks until POST /_sim/callbacks/flush, then send them newest first. */
  reorder: z.boolean().optional(),
  /** Delay before answering every /api request. */
  latencyMs: z.number().int().nonnegative().optional(),
  /** Answer the next matching /api request(s) with this error; null clears it. */
  failNext: failNextSchema.nullable().optional(),
});

export type CampaySimulatorFaults = z.input<typeof faultsSchema>;
export type FailNext = z.output<typeof failNextSchema>;

/** Bodies of the simulated API: loose on purpose, each field is checked by the handler to pick CamPay's error. */
export const tokenRequestSchema = z.object({ username: z.string().optional(), password: z.string().optional() });

export const collectRequestSchema = z.object({
  amount: z.unknown(),
  currency: z.string().optional(),
  from: z.unknown(),
  description: z.string().optional(),
  external_reference: z.string().optional(),
});

export const withdrawRequestSchema = z.object({
  amount: z.unknown(),
  currency: z.string().optional(),
  to: z.unknown(),
  description: z.string().optional(),
  external_reference: z.string().optional(),
});
