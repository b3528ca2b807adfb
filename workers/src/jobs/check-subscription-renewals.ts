import { checkSubscriptionRenewals } from '@relais/core';
import { z } from 'zod';
import { defineJob } from '../job-runner.js';
import type { JobDependencies } from './job-dependencies.js';

export const CHECK_SUBSCRIPTION_RENEWALS_JOB = 'subscriptions.check-renewals';
/**
 * Every day at 00:00 Douala (seconds field first), so the 1st of the month renews and every other
 * day moves tenants whose 7-day grace has run out; the use case is idempotent.
 */
export const CHECK_SUBSCRIPTION_RENEWALS_CRON = '0 0 0 * * *';
export const CHECK_SUBSCRIPTION_RENEWALS_TIMEZONE = 'Africa/Douala';

/** Renews subscription-mode resellers whose period has ended (see checkSubscriptionRenewals). */
export const checkSubscriptionRenewalsJob = (deps: JobDependencies) =>
  defineJob({
    name: CHECK_SUBSCRIPTION_RENEWALS_JOB,
    payload: z.object({}),
    // The use case is idempotent and reports each tenant's failure instead of throwing: a retry
    // only helps when the whole run failed (database unreachable).
    attempts: 3,
    backoff: { type: 'exponential', delayMs: 60_000 },
    async process() {
      const report = await checkSubscriptionRenewals({
        ...deps,
        onError: (error, tenantId) => deps.logger.error({ err: error, tenantId }, 'subscription renewal failed for a tenant; the next run retries'),
      });
      deps.logger.info({ checkedAt: report.checkedAt, due: report.due, outcomes: report.outcomes }, 'subscription renewals checked');
    },
  });
