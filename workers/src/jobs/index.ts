import { PAYMENT_JOBS, PAYOUT_JOBS } from '@relais/core';
import type { JobDefinition } from '../job-runner.js';
import { CHECK_SUBSCRIPTION_RENEWALS_CRON, CHECK_SUBSCRIPTION_RENEWALS_JOB, CHECK_SUBSCRIPTION_RENEWALS_TIMEZONE, checkSubscriptionRenewalsJob } from './check-subscription-renewals.js';
import { CHECK_TICKET_SLA_CRON, CHECK_TICKET_SLA_JOB, checkTicketSlaJob } from './check-ticket-sla.js';
import { confirmPaymentJob } from './confirm-payment.js';
import { DELIVER_MESSAGES_CRON, DELIVER_MESSAGES_JOB, deliverMessagesJob } from './deliver-messages.js';
import { DISPATCH_OUTBOX_CRON, DISPATCH_OUTBOX_JOB, dispatchOutboxJob } from './dispatch-outbox.js';
import { ISSUE_COMMISSION_STATEMENTS_CRON, ISSUE_COMMISSION_STATEMENTS_JOB, ISSUE_COMMISSION_STATEMENTS_TIMEZONE, issueCommissionStatementsJob } from './issue-commission-statements.js';
import type { JobDependencies } from './job-dependencies.js';
import { RECONCILE_PAYMENTS_CRON, reconcilePaymentsJob } from './reconcile-payments.js';
import { SETTLE_PAYOUTS_CRON, settlePayoutsJob } from './settle-payouts.js';
import { SYNC_ROUTERS_CRON, SYNC_ROUTERS_JOB, syncRoutersJob } from './sync-routers.js';

export type { JobDependencies } from './job-dependencies.js';

/**
 * Every job the platform runs: one processor file per job in this folder (verb-noun), each
 * listed here, built with the process's dependencies.
 */
export function buildJobDefinitions(deps: JobDependencies): JobDefinition<any>[] {
  return [confirmPaymentJob(deps), reconcilePaymentsJob(deps), settlePayoutsJob(deps), checkSubscriptionRenewalsJob(deps), issueCommissionStatementsJob(deps), dispatchOutboxJob(deps), syncRoutersJob(deps), deliverMessagesJob(deps), checkTicketSlaJob(deps)];
}

/** Recurring jobs, registered at boot (idempotent per scheduleId). */
export const JOB_SCHEDULES: readonly { name: string; cron: string; scheduleId: string; timezone?: string }[] = [
  { name: PAYMENT_JOBS.reconcile, cron: RECONCILE_PAYMENTS_CRON, scheduleId: 'payments-reconcile' },
  { name: DISPATCH_OUTBOX_JOB, cron: DISPATCH_OUTBOX_CRON, scheduleId: 'outbox-dispatch' },
  { name: PAYOUT_JOBS.settleDue, cron: SETTLE_PAYOUTS_CRON, scheduleId: 'payouts-settle' },
  { name: CHECK_SUBSCRIPTION_RENEWALS_JOB, cron: CHECK_SUBSCRIPTION_RENEWALS_CRON, scheduleId: 'subscriptions-check-renewals', timezone: CHECK_SUBSCRIPTION_RENEWALS_TIMEZONE },
  { name: DELIVER_MESSAGES_JOB, cron: DELIVER_MESSAGES_CRON, scheduleId: 'messages-deliver' },
  { name: SYNC_ROUTERS_JOB, cron: SYNC_ROUTERS_CRON, scheduleId: 'mikrotik-sync-routers' },
  { name: ISSUE_COMMISSION_STATEMENTS_JOB, cron: ISSUE_COMMISSION_STATEMENTS_CRON, scheduleId: 'invoices-issue-commission-statements', timezone: ISSUE_COMMISSION_STATEMENTS_TIMEZONE },
  { name: CHECK_TICKET_SLA_JOB, cron: CHECK_TICKET_SLA_CRON, scheduleId: 'tickets-check-sla' },
];
