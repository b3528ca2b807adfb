import { checkTicketSla } from '@relais/core';
import { z } from 'zod';
import { defineJob } from '../job-runner.js';
import type { JobDependencies } from './job-dependencies.js';

export const CHECK_TICKET_SLA_JOB = 'tickets.check-sla';
/** Every minute (seconds field first): SLA alerts are at most a minute late. */
export const CHECK_TICKET_SLA_CRON = '0 * * * * *';

/** Records SLA warnings (80 %) and breaches of open tickets, and notifies (see checkTicketSla). */
export const checkTicketSlaJob = (deps: JobDependencies) =>
  defineJob({
    name: CHECK_TICKET_SLA_JOB,
    payload: z.object({ tenantId: z.uuid().optional() }),
    attempts: 1, // the next minute's run is the retry; each alert is recorded at most once
    async process(payload) {
      const report = await checkTicketSla(
        { ...deps, onError: (error, ticket) => deps.logger.error({ err: error, ...ticket }, 'SLA check failed for a ticket; the next run retries') },
        { tenantId: payload.tenantId },
      );
      if (report.warnings + report.breaches + report.failed > 0) deps.logger.info(report, 'ticket SLAs checked');
    },
  });
