import { randomUUID } from 'node:crypto';
import { AppError } from '@relais/core';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EnqueueOptions, EnqueueResult } from '@relais/core';
import { fromBullmqJobId, toBullmqJobId } from './bullmq-job-id.js';
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONCURRENCY,
  RETAINED_COMPLETED_JOBS,
  RETAINED_FAILED_JOBS,
  assertValidPayload,
  indexDefinitions,
  requireDefinition,
  resolveEnqueueOptions,
  runJobAttempt,
  settlesWithin,
  validateSchedule,
  type JobBackoff,
  type JobDefinition,
  type JobRunner,
  type JobRunnerHealth,
  type JobSnapshot,
  type JobState,
  type ResolvedEnqueue,
  type ScheduleOptions,
} from './job-runner.js';

export const DEFAULT_QUEUE_PREFIX = 'relais';
const HEALTH_TIMEOUT_MS = 2_000;
/**
 * BullMQ waits for the first connection to Redis without limit: bound every call made on behalf of
 * a caller, so that a request handler gets a retryable DEPENDENCY_UNAVAILABLE instead of hanging.
 */
const REDIS_CALL_TIMEOUT_MS = 5_000;

/**
 * What we store as BullMQ job data. `enqueueToken` exists because `Queue.add` answers a duplicate
 * job id with the existing job and no flag: reading the stored token back tells us whether the
 * job is the one we just wrote, atomically, even when enqueues of one id race.
 */
interface JobData {
  payload: unknown;
  enqueueToken?: string;
}

/**
 * One BullMQ queue per job name (queue name = job name) rather than one queue routed by name:
 * concurrency is a per-worker (hence per-queue) setting in BullMQ, a slow or backed-up job type
 * cannot hold up the others, and counts, pausing and retention are per job type.
 */
export class BullmqJobRunner implements JobRunner {
  readonly driver = 'bullmq' as const;
  private readonly definitions: Map<string, JobDefinition<unknown>>;
  private readonly queues = new Map<string, Queue<JobData>>();
  private readonly workers: Worker<JobData>[] = [];
  private readonly redisUrl: string;
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly processing: boolean;
  /**
   * Shared by all queues. No offline queue and one retry: when Redis goes down, enqueue fails fast
   * (the webhook answers 503 and the provider retries) instead of queueing commands in memory.
   */
  private readonly producerConnection: Redis;
  /** Shared by all workers; BullMQ requires maxRetriesPerRequest: null and opens its own blocking connections. */
  private workerConnection?: Redis;
  private started = false;
  private closing?: Promise<void>;
  /** ioredis, queues and workers repeat one error on every reconnect attempt: log each new one once. */
  private lastRedisError?: string;

  constructor(options: { definitions: readonly JobDefinition<unknown>[]; redisUrl: string; queuePrefix?: string; logger: Logger; processing?: boolean }) {
    this.definitions = indexDefinitions(options.definitions);
    this.redisUrl = options.redisUrl;
    this.prefix = options.queuePrefix ?? DEFAULT_QUEUE_PREFIX;
    this.logger = options.logger;
    this.processing = options.processing ?? true;
    this.producerConnection = this.connect({ maxRetriesPerRequest: 1, enableOfflineQueue: false });
    for (const definition of this.definitions.values()) {
      const queue = new Queue<JobData>(definition.name, {
        connection: this.producerConnection,
        prefix: this.prefix,
        defaultJobOptions: {
          // Finished jobs stay (bounded) so that their ids keep deduplicating enqueues.
          removeOnComplete: { count: RETAINED_COMPLETED_JOBS },
          removeOnFail: { count: RETAINED_FAILED_JOBS },
        },
      });
      queue.on('error', (error) => this.logRedisError(error, { queue: definition.name }));
      this.queues.set(definition.name, queue);
    }
  }

  async enqueue(name: string, payload: unknown, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    this.assertOpen();
    const definition = requireDefinition(this.definitions, name);
    assertValidPayload(definition, payload);
    const resolved = resolveEnqueueOptions(definition, options, randomUUID);
    const added = await this.callRedis(`enqueue ${definition.name}`, () =>
      this.addJob(this.queueOf(definition.name), definition.name, payload, resolved),
    );
    return { id: resolved.id, added };
  }

  private async addJob(queue: Queue<JobData>, name: string, payload: unknown, resolved: ResolvedEnqueue): Promise<boolean> {
    const bullmqId = toBullmqJobId(resolved.id);
    const enqueueToken = randomUUID();
    await queue.add(name, { payload, enqueueToken }, {
      jobId: bullmqId,
      delay: resolved.delayMs,
      attempts: resolved.attempts,
      backoff: toBullmqBackoff(resolved.backoff),
    });
    const stored = await queue.getJob(bullmqId);
    // Missing only if it already finished and fell out of retention: it was ours.
    if (!stored || stored.data.enqueueToken === enqueueToken) return true;
    if ((await stored.getState()) !== 'failed') return false;
    // A failed job is not a reason to refuse the work again: run it once more, with its own
    // payload and fresh attempts. Atomic in Redis: of racing retries, one succeeds.
    try {
      await stored.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return true;
    } catch (error) {
      if ((await queue.getJobState(bullmqId)) !== 'failed') return false;
      throw error;
    }
  }

  async schedule(name: string, cron: string, options: ScheduleOptions = {}): Promise<void> {
    this.assertOpen();
    const definition = requireDefinition(this.definitions, name);
    const { scheduleId, timezone } = validateSchedule(cron, options, definition.name);
    const payload = options.payload ?? {};
    assertValidPayload(definition, payload);
    await this.callRedis(`schedule ${definition.name}`, () =>
      this.queueOf(definition.name).upsertJobScheduler(
        scheduleId,
        { pattern: cron, tz: timezone },
        {
          name: definition.name,
          data: { payload },
          opts: { attempts: definition.attempts ?? DEFAULT_ATTEMPTS, backoff: toBullmqBackoff(definition.backoff ?? DEFAULT_BACKOFF) },
        },
      ),
    );
  }

  async unschedule(scheduleId: string): Promise<boolean> {
    this.assertOpen();
    const removed = await this.callRedis('unschedule', () =>
      Promise.all([...this.queues.values()].map((queue) => queue.removeJobScheduler(scheduleId))),
    );
    return removed.some(Boolean);
  }

  async getJob(name: string, id: string): Promise<JobSnapshot | undefined> {
    const queue = this.queueOf(requireDefinition(this.definitions, name).name);
    const found = await this.callRedis('getJob', async () => {
      const job = await queue.getJob(toBullmqJobId(id));
      return job && { job, state: await job.getState() };
    });
    if (!found) return undefined;
    const { job } = found;
    const state = toJobState(found.state);
    if (!state) return undefined;
    const snapshot: JobSnapshot = { id, name: job.name, state, attemptsMade: job.attemptsMade };
    if (job.failedReason) snapshot.failedReason = job.failedReason;
    return snapshot;
  }

  async start(): Promise<void> {
    this.assertOpen();
    if (!this.processing || this.started) return;
    this.started = true;
    this.workerConnection = this.connect({ maxRetriesPerRequest: null });
    for (const definition of this.definitions.values()) {
      const worker = new Worker<JobData>(definition.name, (job) => this.process(definition, job), {
        connection: this.workerConnection,
        prefix: this.prefix,
        concurrency: definition.concurrency ?? DEFAULT_CONCURRENCY,
      });
      // Without a listener an 'error' event would crash the process.
      worker.on('error', (error) => this.logRedisError(error, { queue: definition.name }));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.closing;
  }

  async health(): Promise<JobRunnerHealth> {
    if (this.closing) return { driver: this.driver, ok: false, error: 'job runner is closed' };
    try {
      const allCounts = await withTimeout(
        Promise.all([...this.queues.values()].map((queue) => queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed'))),
        HEALTH_TIMEOUT_MS,
        `Redis did not answer within ${HEALTH_TIMEOUT_MS} ms`,
      );
      const health = { driver: this.driver, ok: true, waiting: 0, delayed: 0, active: 0, failed: 0 };
      for (const counts of allCounts) {
        health.waiting += (counts.waiting ?? 0) + (counts.prioritized ?? 0);
        health.delayed += counts.delayed ?? 0;
        health.active += counts.active ?? 0;
        health.failed += counts.failed ?? 0;
      }
      return health;
    } catch (error) {
      return { driver: this.driver, ok: false, error: (error as Error).message };
    }
  }

  private async process(definition: JobDefinition<unknown>, job: Job<JobData>): Promise<void> {
    const outcome = await runJobAttempt({
      definition,
      payload: job.data?.payload,
      context: { id: fromBullmqJobId(job.id ?? ''), name: job.name, attempt: job.attemptsMade + 1 },
      maxAttempts: job.opts.attempts ?? 1,
      logger: this.logger,
    });
    if (outcome.ok) return;
    if (!outcome.retryable) throw new UnrecoverableError(outcome.error.message);
    throw outcome.error;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    // Worker.close() stops fetching at once, then waits for the jobs it is running.
    const workersClosed = Promise.all(this.workers.map((worker) => worker.close()));
    // The worker connection goes only once the workers are done: pulled from under a running job,
    // BullMQ would spin retrying its commands. Jobs still running when the process exits lose
    // their lock, and BullMQ retries them as stalled.
    void workersClosed.finally(() => this.workerConnection?.disconnect());
    if (!(await settlesWithin(workersClosed, timeoutMs))) {
      this.logger.warn({ timeoutMs }, 'job runner closed before running jobs finished: BullMQ will retry them as stalled');
    }
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.producerConnection.disconnect();
  }

  private connect(options: { maxRetriesPerRequest: number | null; enableOfflineQueue?: boolean }): Redis {
    const connection = new Redis(this.redisUrl, options);
    connection.on('error', (error: Error) => this.logRedisError(error));
    connection.on('ready', () => {
      this.lastRedisError = undefined;
    });
    return connection;
  }

  private logRedisError(error: Error, fields: Record<string, unknown> = {}): void {
    if (error.message === this.lastRedisError) return;
    this.lastRedisError = error.message;
    this.logger.warn({ ...fields, err: error }, 'job queue: redis error');
  }

  /** Bounds a Redis round trip and reports failure as retryable DEPENDENCY_UNAVAILABLE. */
  private async callRedis<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(call(), REDIS_CALL_TIMEOUT_MS, `no answer within ${REDIS_CALL_TIMEOUT_MS} ms`);
    } catch (error) {
      throw new AppError('DEPENDENCY_UNAVAILABLE', `Job queue unavailable (${what}): ${(error as Error).message}`, { cause: error });
    }
  }

  private queueOf(name: string): Queue<JobData> {
    return this.queues.get(name)!;
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('Job runner is closed');
  }
}

function toBullmqBackoff(backoff: JobBackoff): { type: JobBackoff['type']; delay: number } {
  return { type: backoff.type, delay: backoff.delayMs };
}

function toJobState(state: string): JobState | undefined {
  switch (state) {
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      return 'waiting';
    case 'delayed':
    case 'active':
    case 'completed':
    case 'failed':
      return state;
    default:
      return undefined;
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
