export {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONCURRENCY,
  DEFAULT_TIMEZONE,
  RETAINED_COMPLETED_JOBS,
  RETAINED_FAILED_JOBS,
  defineJob,
  type CreateJobRunnerOptions,
  type JobBackoff,
  type JobContext,
  type JobDefinition,
  type JobRunner,
  type JobRunnerDriver,
  type JobRunnerHealth,
  type JobSnapshot,
  type JobState,
  type ScheduleOptions,
} from './job-runner.js';
export { buildJobDefinitions, JOB_SCHEDULES, type JobDependencies } from './jobs/index.js';
export { createJobRunner } from './create-job-runner.js';
export { DEFAULT_QUEUE_PREFIX } from './bullmq-job-runner.js';
export { onShutdownSignals } from './graceful-shutdown.js';
export { buildOutboxConsumers } from './jobs/outbox-consumers.js';
