import { syncRouters } from '@relais/core';
import { z } from 'zod';
import { defineJob } from '../job-runner.js';
import type { JobDependencies } from './job-dependencies.js';

export const SYNC_ROUTERS_JOB = 'mikrotik.sync-routers';
/**
 * Every minute, the routers whose own 5-minute turn has come (next_sync_at) are synced: each
 * router keeps its own cadence and a failing one backs off alone (the circuit breaker).
 */
export const SYNC_ROUTERS_CRON = '0 * * * * *';

export const syncRoutersJob = (deps: JobDependencies) =>
  defineJob({
    name: SYNC_ROUTERS_JOB,
    payload: z.object({}),
    attempts: 1, // the next minute's run is the retry; each router's lease stops overlaps
    async process() {
      const results = await syncRouters(deps);
      const failed = results.filter((result) => result.status === 'failed');
      for (const failure of failed) {
        deps.logger.warn({ tenantId: failure.tenantId, routerId: failure.routerId, error: failure.error }, 'router sync failed; it backs off and retries');
      }
      if (results.length > 0) deps.logger.info({ routers: results.length, failed: failed.length }, 'routers synced');
    },
  });
