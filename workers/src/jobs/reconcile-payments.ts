import { PAYMENT_JOBS, reconcilePayments } from '@relais/core';
import { z } from 'zod';
import { defineJob } from '../job-runner.js';
import type { JobDependencies } from './job-dependencies.js';

/** Every 30 seconds: poll due pending payments, expire stale ones (see reconcilePayments). */
export const RECONCILE_PAYMENTS_CRON = '*/30 * * * * *';

export const reconcilePaymentsJob = (deps: JobDependencies) =>
  defineJob({
    name: PAYMENT_JOBS.reconcile,
    payload: z.object({}),
    attempts: 1, // the next scheduled run is the retry
    async process() {
      const report = await reconcilePayments({
        ...deps,
        onError: (error, paymentId) => deps.logger.warn({ err: error, paymentId }, 'payment reconciliation failed; will retry'),
      });
      if (report.checked > 0) deps.logger.info(report, 'payments reconciled');
    },
  });
