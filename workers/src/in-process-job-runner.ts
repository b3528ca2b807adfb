import { randomUUID } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import type { Logger } from 'pino';
import type { EnqueueOptions, EnqueueResult } from '@relais/core';
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_CONCURRENCY,
  RETAINED_COMPLETED_JOBS,
  RETAINED_FAILED_JOBS,
  assertValidPayload,
  backoffDelayMs,
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
  type ScheduleOptions,
} from './job-runner.js';

/** setTimeout fires at once beyond 2^31-1 ms (~24.8 days): longer waits are made of several timers. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface InProcessJob {
  id: string;
  name: string;
  /** Stored as JSON, like Redis does, so that both drivers hand processors the same values. */
  payloadJson: string | undefined;
  attempts: number;
  backoff: JobBackoff;
  state: JobState;
  attemptsMade: number;
  failedReason?: string;
  /** Wakes a delayed job when it is due. */
  timer?: NodeJS.Timeout;
  scheduleId?: string;
  /** For scheduled runs: the cron instant this run stands for. */
  scheduledAt?: number;
}

interface Schedule {
  scheduleId: string;
  cron: string;
  timezone: string;
  payloadJson: string | undefined;
  /** The one future run of this schedule (BullMQ keeps exactly one too). */
  nextJobId?: string;
}

/** Everything about one job name: BullMQ's "queue" in memory. */
interface NameQueue {
  definition: JobDefinition<unknown>;
  jobs: Map<string, InProcessJob>;
  waiting: InProcessJob[];
  active: number;
  /** Insertion-ordered ids of retained finished jobs; the oldest are forgotten beyond the bound. */
  completedIds: Set<string>;
  failedIds: Set<string>;
  schedules: Map<string, Schedule>;
}

/**
 * Jobs in memory with timers: same semantics as the BullMQ runner for a single process with no
 * Redis. Jobs do not survive a restart — that is the price of needing nothing installed.
 */
export class InProcessJobRunner implements JobRunner {
  readonly driver = 'in-process' as const;
  private readonly definitions: Map<string, JobDefinition<unknown>>;
  private readonly queues = new Map<string, NameQueue>();
  private readonly running = new Set<Promise<void>>();
  private readonly logger: Logger;
  private readonly processing: boolean;
  private started = false;
  private closing?: Promise<void>;

  constructor(options: { definitions: readonly JobDefinition<unknown>[]; logger: Logger; processing?: boolean }) {
    this.logger = options.logger;
    this.processing = options.processing ?? true;
    this.definitions = indexDefinitions(options.definitions);
    for (const definition of this.definitions.values()) {
      this.queues.set(definition.name, {
        definition,
        jobs: new Map(),
        waiting: [],
        active: 0,
        completedIds: new Set(),
        failedIds: new Set(),
        schedules: new Map(),
      });
    }
    if (!this.processing) this.logger.warn('in-process job runner created with processing=false: its jobs will never run');
  }

  async enqueue(name: string, payload: unknown, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    this.assertOpen();
    const queue = this.requireQueue(name);
    assertValidPayload(queue.definition, payload);
    const resolved = resolveEnqueueOptions(queue.definition, options, randomUUID);
    // No await from here on: check-and-insert is atomic, so concurrent enqueues of one id add one job.
    const existing = queue.jobs.get(resolved.id);
    if (existing) {
      if (existing.state !== 'failed') return { id: resolved.id, added: false };
      // Like BullMQ's job.retry(): the failed job runs again with its own payload and fresh attempts.
      queue.failedIds.delete(existing.id);
      existing.attemptsMade = 0;
      existing.failedReason = undefined;
      this.makeWaiting(queue, existing);
      return { id: resolved.id, added: true };
    }
    const job: InProcessJob = {
      id: resolved.id,
      name,
      payloadJson: JSON.stringify(payload),
      attempts: resolved.attempts,
      backoff: resolved.backoff,
      state: 'waiting',
      attemptsMade: 0,
    };
    queue.jobs.set(job.id, job);
    if (resolved.delayMs > 0) this.makeDelayed(queue, job, resolved.delayMs);
    else this.makeWaiting(queue, job);
    return { id: job.id, added: true };
  }

  async schedule(name: string, cron: string, options: ScheduleOptions = {}): Promise<void> {
    this.assertOpen();
    const queue = this.requireQueue(name);
    const { scheduleId, timezone } = validateSchedule(cron, options, name);
    const payload = options.payload ?? {};
    assertValidPayload(queue.definition, payload);
    const previous = queue.schedules.get(scheduleId);
    if (previous?.nextJobId) this.removePendingJob(queue, previous.nextJobId);
    const schedule: Schedule = { scheduleId, cron, timezone, payloadJson: JSON.stringify(payload) };
    queue.schedules.set(scheduleId, schedule);
    this.addNextScheduledRun(queue, schedule, Date.now());
  }

  async unschedule(scheduleId: string): Promise<boolean> {
    this.assertOpen();
    let removed = false;
    for (const queue of this.queues.values()) {
      const schedule = queue.schedules.get(scheduleId);
      if (!schedule) continue;
      if (schedule.nextJobId) this.removePendingJob(queue, schedule.nextJobId);
      queue.schedules.delete(scheduleId);
      removed = true;
    }
    return removed;
  }

  async getJob(name: string, id: string): Promise<JobSnapshot | undefined> {
    const job = this.requireQueue(name).jobs.get(id);
    if (!job) return undefined;
    const snapshot: JobSnapshot = { id: job.id, name: job.name, state: job.state, attemptsMade: job.attemptsMade };
    if (job.failedReason !== undefined) snapshot.failedReason = job.failedReason;
    return snapshot;
  }

  async start(): Promise<void> {
    this.assertOpen();
    if (!this.processing || this.started) return;
    this.started = true;
    for (const queue of this.queues.values()) this.pump(queue);
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.closing;
  }

  async health(): Promise<JobRunnerHealth> {
    const health = { driver: this.driver, ok: this.closing === undefined, waiting: 0, delayed: 0, active: 0, failed: 0 };
    for (const queue of this.queues.values()) {
      health.active += queue.active;
      health.failed += queue.failedIds.size;
      for (const job of queue.jobs.values()) {
        if (job.state === 'waiting') health.waiting += 1;
        if (job.state === 'delayed') health.delayed += 1;
      }
    }
    return health;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    let pending = 0;
    for (const queue of this.queues.values()) {
      for (const job of queue.jobs.values()) {
        clearTimeout(job.timer);
        if (job.state === 'waiting' || job.state === 'delayed') pending += 1;
      }
    }
    const finished = await settlesWithin(Promise.all(this.running), timeoutMs);
    if (!finished) this.logger.warn({ running: this.running.size, timeoutMs }, 'job runner closed before running jobs finished');
    if (pending > 0) this.logger.warn({ pending }, 'in-process job runner closed with jobs not yet run: they are lost');
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('Job runner is closed');
  }

  private requireQueue(name: string): NameQueue {
    return this.queues.get(requireDefinition(this.definitions, name).name)!;
  }

  private makeWaiting(queue: NameQueue, job: InProcessJob): void {
    job.state = 'waiting';
    job.timer = undefined;
    queue.waiting.push(job);
    this.pump(queue);
  }

  private makeDelayed(queue: NameQueue, job: InProcessJob, delayMs: number): void {
    job.state = 'delayed';
    this.wakeAt(queue, job, Date.now() + delayMs);
  }

  private wakeAt(queue: NameQueue, job: InProcessJob, dueAt: number): void {
    if (this.closing) return; // no timers after close: nothing would run them, and they would hold the process open
    const remainingMs = dueAt - Date.now();
    if (remainingMs <= 0) this.makeWaiting(queue, job);
    else job.timer = setTimeout(() => this.wakeAt(queue, job, dueAt), Math.min(remainingMs, MAX_TIMER_MS));
  }

  private removePendingJob(queue: NameQueue, id: string): void {
    const job = queue.jobs.get(id);
    if (!job || (job.state !== 'waiting' && job.state !== 'delayed')) return;
    clearTimeout(job.timer);
    queue.waiting = queue.waiting.filter((candidate) => candidate !== job);
    queue.jobs.delete(id);
  }

  private addNextScheduledRun(queue: NameQueue, schedule: Schedule, after: number): void {
    const runAt = CronExpressionParser.parse(schedule.cron, { currentDate: new Date(after), tz: schedule.timezone }).next().getTime();
    // Same id shape as BullMQ job schedulers, so processors see the same context.id on both drivers.
    const id = `repeat:${schedule.scheduleId}:${runAt}`;
    schedule.nextJobId = id;
    if (queue.jobs.has(id)) return;
    const resolved = resolveEnqueueOptions(queue.definition, { jobId: id }, randomUUID);
    const job: InProcessJob = {
      id,
      name: queue.definition.name,
      payloadJson: schedule.payloadJson,
      attempts: resolved.attempts,
      backoff: resolved.backoff,
      state: 'delayed',
      attemptsMade: 0,
      scheduleId: schedule.scheduleId,
      scheduledAt: runAt,
    };
    queue.jobs.set(id, job);
    this.wakeAt(queue, job, runAt);
  }

  private pump(queue: NameQueue): void {
    const concurrency = queue.definition.concurrency ?? DEFAULT_CONCURRENCY;
    while (this.started && !this.closing && queue.active < concurrency) {
      const job = queue.waiting.shift();
      if (!job) return;
      const run = this.run(queue, job);
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }
  }

  private async run(queue: NameQueue, job: InProcessJob): Promise<void> {
    job.state = 'active';
    queue.active += 1;
    const schedule = job.scheduleId ? queue.schedules.get(job.scheduleId) : undefined;
    // As BullMQ does: the next run of a schedule is created when the current one starts.
    if (schedule && schedule.nextJobId === job.id) this.addNextScheduledRun(queue, schedule, Math.max(Date.now(), job.scheduledAt ?? 0));
    const outcome = await runJobAttempt({
      definition: queue.definition,
      payload: job.payloadJson === undefined ? undefined : JSON.parse(job.payloadJson),
      context: { id: job.id, name: job.name, attempt: job.attemptsMade + 1 },
      maxAttempts: job.attempts,
      logger: this.logger,
    });
    job.attemptsMade += 1;
    queue.active -= 1;
    if (outcome.ok) {
      job.state = 'completed';
      retain(queue, queue.completedIds, job.id, RETAINED_COMPLETED_JOBS);
    } else if (outcome.retryable && job.attemptsMade < job.attempts) {
      const delayMs = backoffDelayMs(job.backoff, job.attemptsMade);
      if (delayMs > 0) this.makeDelayed(queue, job, delayMs);
      else this.makeWaiting(queue, job);
    } else {
      job.state = 'failed';
      job.failedReason = outcome.error.message;
      retain(queue, queue.failedIds, job.id, RETAINED_FAILED_JOBS);
    }
    this.pump(queue);
  }
}

/** Keeps the last `limit` finished ids; older jobs are forgotten, so their ids may be enqueued again. */
function retain(queue: NameQueue, ids: Set<string>, id: string, limit: number): void {
  ids.add(id);
  for (const oldest of ids) {
    if (ids.size <= limit) break;
    ids.delete(oldest);
    queue.jobs.delete(oldest);
  }
}
