import { issueCommissionStatements } from '@relais/core';
import { z } from 'zod';
import { defineJob } from '../job-runner.js';
import type { JobDependencies } from './job-dependencies.js';

export const ISSUE_COMMISSION_STATEMENTS_JOB = 'invoices.issue-commission-statements';
/**
 * 02:00 Douala on the 1st of each month (seconds field first): the previous month is over, and
 * two hours leave late confirmations of its last minutes time to be booked first. Runs after the
 * 00:00 subscription renewals, so the two monthly batches do not queue on the invoice counter.
 */
export const ISSUE_COMMISSION_STATEMENTS_CRON = '0 0 2 1 * *';
export const ISSUE_COMMISSION_STATEMENTS_TIMEZONE = 'Africa/Douala';

/** States the previous month's commission of every commission-mode reseller (see issueCommissionStatements). */
export const issueCommissionStatementsJob = (deps: JobDependencies) =>
  defineJob({
    name: ISSUE_COMMISSION_STATEMENTS_JOB,
    payload: z.object({}),
    // Idempotent per tenant and month, and each tenant's failure is reported rather than thrown:
    // a retry only helps when the whole run failed (database unreachable).
    attempts: 3,
    backoff: { type: 'exponential', delayMs: 60_000 },
    async process() {
      const report = await issueCommissionStatements({
        ...deps,
        onError: (error, tenantId) => deps.logger.error({ err: error, tenantId }, 'commission statement failed for a tenant; run the job or `relais invoices:issue-statements` again'),
      });
      deps.logger.info(
        {
          month: report.month,
          issued: report.issued.filter((statement) => statement.created).length,
          alreadyIssued: report.issued.filter((statement) => !statement.created).length,
          skipped: report.skipped.length,
          failed: report.failed.length,
        },
        'commission statements issued',
      );
    },
  });
