import { PAYMENT_JOBS } from '@relais/core';
import type { JobDefinition } from '../job-runner.js';
import { confirmPaymentJob } from './confirm-payment.js';
import type { JobDependencies } from './job-dependencies.js';
import { RECONCILE_PAYMENTS_CRON, reconcilePaymentsJob } from './reconcile-payments.js';

export type { JobDependencies } from './job-dependencies.js';

/**
 * Every job the platform runs: one processor file per job in this folder (verb-noun), each
 * listed here, built with the process's dependencies.
 */
export function buildJobDefinitions(deps: JobDependencies): JobDefinition<any>[] {
  return [confirmPaymentJob(deps), reconcilePaymentsJob(deps)];
}

/** Recurring jobs, registered at boot (idempotent per scheduleId). */
export const JOB_SCHEDULES: readonly { name: string; cron: string; scheduleId: string }[] = [
  { name: PAYMENT_JOBS.reconcile, cron: RECONCILE_PAYMENTS_CRON, scheduleId: 'payments-reconcile' },
];
