import { confirmPayment, PAYMENT_JOBS } from '@relais/core';
import { z } from 'zod';
import { defineJob } from '../job-runner.js';
import type { JobDependencies } from './job-dependencies.js';

/** Settles one gateway transaction after a callback (the callback's body is never trusted). */
export const confirmPaymentJob = (deps: JobDependencies) =>
  defineJob({
    name: PAYMENT_JOBS.confirm,
    payload: z.object({
      gatewayAppId: z.string().min(1),
      gatewayReference: z.string().min(1).optional(),
      externalReference: z.string().min(1).optional(),
    }),
    attempts: 6,
    backoff: { type: 'exponential', delayMs: 2_000 },
    // Confirmations mostly wait (CamPay's answer, the shared settlement transaction), and those
    // running at once are settled together in one transaction: more of them, fewer commits.
    concurrency: 32,
    async process(payload) {
      const outcome = await confirmPayment(deps, payload);
      deps.logger.info({ gatewayAppId: payload.gatewayAppId, gatewayReference: payload.gatewayReference, outcome }, 'payment confirmation');
    },
  });
