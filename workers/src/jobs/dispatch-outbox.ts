import { dispatchOutbox, tenantsWithOutbox } from '@relais/core';
import { z } from 'zod';
import { defineJob } from '../job-runner.js';
import type { JobDependencies } from './job-dependencies.js';
import { buildOutboxConsumers } from './outbox-consumers.js';

export const DISPATCH_OUTBOX_JOB = 'outbox.dispatch';
/** Every 5 seconds: side effects leave soon after the change that caused them commits. */
export const DISPATCH_OUTBOX_CRON = '*/5 * * * * *';

/** Delivers every tenant's pending outbox messages to their consumers, one tenant at a time. */
export const dispatchOutboxJob = (deps: JobDependencies) => {
  const consumers = buildOutboxConsumers(deps);
  return defineJob({
    name: DISPATCH_OUTBOX_JOB,
    payload: z.object({}),
    attempts: 1, // the next scheduled run is the retry; failed messages keep their own backoff
    async process() {
      for (const tenantId of await tenantsWithOutbox(deps.db)) {
        // One tenant's failures are recorded on its messages and never stop the others.
        const report = await dispatchOutbox(
          { ...deps, consumers, onError: (error, delivery) => deps.logger.warn({ err: error, tenantId, outboxId: delivery.id, topic: delivery.topic }, 'outbox delivery failed') },
          { tenantId },
        );
        if (report.delivered + report.retried + report.dead > 0) deps.logger.info({ tenantId, ...report }, 'outbox dispatched');
      }
    },
  });
};
