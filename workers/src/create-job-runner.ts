import { pino } from 'pino';
import { BullmqJobRunner } from './bullmq-job-runner.js';
import { InProcessJobRunner } from './in-process-job-runner.js';
import type { CreateJobRunnerOptions, JobRunner } from './job-runner.js';

/** BullMQ when a Redis URL is given, the in-process runner otherwise; same processors, same semantics. */
export function createJobRunner(options: CreateJobRunnerOptions): JobRunner {
  const logger = options.logger ?? pino({ name: 'jobs' });
  const common = { definitions: options.definitions, logger, processing: options.processing };
  return options.redisUrl
    ? new BullmqJobRunner({ ...common, redisUrl: options.redisUrl, queuePrefix: options.queuePrefix })
    : new InProcessJobRunner(common);
}
