import { PAYOUT_JOBS, settleDuePayouts } from '@relais/core';
import { z } from 'zod';
import { defineJob } from '../job-runner.js';
import type { JobDependencies } from './job-dependencies.js';

/** Every 30 seconds: settle due pending reseller payouts (see settleDuePayouts). */
export const SETTLE_PAYOUTS_CRON = '*/30 * * * * *';

export const settlePayoutsJob = (deps: JobDependencies) =>
  defineJob({
    name: PAYOUT_JOBS.settleDue,
    payload: z.object({}),
    attempts: 1, // the next scheduled run is the retry
    async process() {
      const report = await settleDuePayouts({
        ...deps,
        onError: (error, paymentId) => deps.logger.warn({ err: error, paymentId }, 'payout settlement failed; will retry'),
      });
      // A mismatch means CamPay's transaction is not the payout we asked for: the money stays held until a person looks.
      if (report.outcomes.mismatch) deps.logger.error(report, 'payout does not match its CamPay transaction');
      else if (report.checked > 0) deps.logger.info(report, 'payouts settled');
    },
  });
