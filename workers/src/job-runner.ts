import { AppError, isAppError, type JobQueue } from '@relais/core';
import { CronExpressionParser } from 'cron-parser';
import type { Logger } from 'pino';
import type { z } from 'zod';

/** What a processor knows about the job it runs. */
export interface JobContext {
  /** The id given at enqueue (or generated); scheduled runs get `repeat:<scheduleId>:<millis>`. */
  id: string;
  name: string;
  /** 1-based: 1 on the first try, 2 on the first retry... */
  attempt: number;
}

export interface JobBackoff {
  type: 'fixed' | 'exponential';
  delayMs: number;
}

export interface JobDefinition<P> {
  /** Also the BullMQ queue name: letters, digits, '.', '_' and '-' only. */
  name: string;
  /** Checked on enqueue (fail fast) and again before each run (payloads cross a JSON boundary). */
  payload: z.ZodType<P>;
  /** Total tries including the first. Default 3; an enqueue option overrides it. */
  attempts?: number;
  /** Delay before retry n: fixed = delayMs; exponential = delayMs * 2^(n-1). Default exponential 1000 ms. */
  backoff?: JobBackoff;
  /** Jobs of this name run at once in one process. Default 1. */
  concurrency?: number;
  process(payload: P, context: JobContext): Promise<void>;
}

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

/** A job as the runner last recorded it; kept for completed/failed jobs within the retention bound. */
export interface JobSnapshot {
  id: string;
  name: string;
  state: JobState;
  /** Tries that have finished (succeeded or failed). */
  attemptsMade: number;
  failedReason?: string;
}

export interface ScheduleOptions {
  /** IANA zone the cron expression is read in. Default 'Africa/Douala'. */
  timezone?: string;
  /** Payload of every run, validated now. Default `{}`. */
  payload?: unknown;
  /** Registering the same id again replaces the schedule instead of adding one. Default: the job name. */
  scheduleId?: string;
}

export interface JobRunnerHealth {
  driver: JobRunnerDriver;
  ok: boolean;
  waiting?: number;
  delayed?: number;
  active?: number;
  failed?: number;
  error?: string;
}

export type JobRunnerDriver = 'bullmq' | 'in-process';

export interface JobRunner extends JobQueue {
  readonly driver: JobRunnerDriver;
  /** Cron with optional seconds field (`* * * * * *` = every second). Idempotent per scheduleId. */
  schedule(name: string, cron: string, options?: ScheduleOptions): Promise<void>;
  /** Removes a schedule and its next pending run. Returns false when there was none. */
  unschedule(scheduleId: string): Promise<boolean>;
  /** Current record of a job, or undefined when unknown (never existed or no longer retained). */
  getJob(name: string, id: string): Promise<JobSnapshot | undefined>;
  /** Begin processing. Enqueueing and scheduling work before it; runs wait for it. */
  start(): Promise<void>;
  /** Stop taking jobs and wait for running ones (at most timeoutMs, default 30 s). Idempotent. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  health(): Promise<JobRunnerHealth>;
}

export interface CreateJobRunnerOptions {
  // `any`: the runner holds processors of different payload types; `defineJob` keeps each typed.
  definitions: readonly JobDefinition<any>[];
  /** BullMQ on this Redis when set; the in-process runner otherwise. */
  redisUrl?: string;
  /** Redis key prefix (BullMQ `prefix`), so that environments and tests share a Redis safely. Default 'relais'. */
  queuePrefix?: string;
  logger?: Logger;
  /** false = enqueue-only (e.g. an HTTP process while separate worker processes run). Default true. */
  processing?: boolean;
}

/** Identity function that lets TypeScript infer the payload type from the schema. */
export function defineJob<P>(definition: JobDefinition<P>): JobDefinition<P> {
  return definition;
}

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF: JobBackoff = { type: 'exponential', delayMs: 1_000 };
export const DEFAULT_CONCURRENCY = 1;
export const DEFAULT_TIMEZONE = 'Africa/Douala';
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
/** Finished jobs kept per job name (their ids keep deduplicating). BullMQ's removeOnComplete/removeOnFail count. */
export const RETAINED_COMPLETED_JOBS = 1_000;
export const RETAINED_FAILED_JOBS = 1_000;

/** Job names become Redis key segments and BullMQ queue names (which may not contain ':'). */
const JOB_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Schedule ids end up inside BullMQ job ids `repeat:<scheduleId>:<millis>`, which may hold exactly two ':'. */
const SCHEDULE_ID_PATTERN = /^[^:]+$/;

export function indexDefinitions(definitions: readonly JobDefinition<unknown>[]): Map<string, JobDefinition<unknown>> {
  const byName = new Map<string, JobDefinition<unknown>>();
  for (const definition of definitions) {
    if (!JOB_NAME_PATTERN.test(definition.name)) {
      throw new Error(`Invalid job name "${definition.name}": use letters, digits, '.', '_' and '-'`);
    }
    if (byName.has(definition.name)) throw new Error(`Job "${definition.name}" is defined twice`);
    if (definition.attempts !== undefined) assertAttempts(definition.attempts);
    byName.set(definition.name, definition);
  }
  return byName;
}

export function requireDefinition(definitions: Map<string, JobDefinition<unknown>>, name: string): JobDefinition<unknown> {
  const definition = definitions.get(name);
  if (!definition) {
    const known = [...definitions.keys()].join(', ') || 'none';
    throw new Error(`No job definition named "${name}" (known: ${known})`);
  }
  return definition;
}

function assertAttempts(attempts: number): void {
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error(`attempts must be an integer >= 1, got ${attempts}`);
}

export interface ResolvedEnqueue {
  id: string;
  attempts: number;
  backoff: JobBackoff;
  delayMs: number;
}

/** Fills defaults (enqueue options > definition > runner defaults) and checks the values. */
export function resolveEnqueueOptions(
  definition: JobDefinition<unknown>,
  options: { jobId?: string; delayMs?: number; attempts?: number; backoff?: JobBackoff },
  generateId: () => string,
): ResolvedEnqueue {
  const attempts = options.attempts ?? definition.attempts ?? DEFAULT_ATTEMPTS;
  assertAttempts(attempts);
  const delayMs = options.delayMs ?? 0;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error(`delayMs must be >= 0, got ${delayMs}`);
  if (options.jobId !== undefined && options.jobId.length === 0) throw new Error('jobId must not be empty');
  return {
    id: options.jobId ?? generateId(),
    attempts,
    backoff: options.backoff ?? definition.backoff ?? DEFAULT_BACKOFF,
    delayMs: Math.round(delayMs),
  };
}

/** Same formula as BullMQ's built-in strategies, so that both drivers wait alike. */
export function backoffDelayMs(backoff: JobBackoff, attemptsMade: number): number {
  if (backoff.type === 'fixed') return backoff.delayMs;
  return Math.round(2 ** (attemptsMade - 1) * backoff.delayMs);
}

/** Validates at the edge; the error names the job and the fields, never the values. */
export function assertValidPayload(definition: JobDefinition<unknown>, payload: unknown): void {
  const result = definition.payload.safeParse(payload);
  if (!result.success) throw invalidPayloadError(definition.name, result.error);
}

function invalidPayloadError(name: string, error: z.ZodError): AppError {
  const issues = error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  const summary = issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ');
  return new AppError('VALIDATION_FAILED', `Invalid payload for job "${name}": ${summary}`, { details: { issues } });
}

export function validateSchedule(cron: string, options: ScheduleOptions, defaultScheduleId: string): { scheduleId: string; timezone: string } {
  const scheduleId = options.scheduleId ?? defaultScheduleId;
  if (!SCHEDULE_ID_PATTERN.test(scheduleId)) throw new Error(`Invalid scheduleId "${scheduleId}": it must be non-empty and contain no ':'`);
  const timezone = options.timezone ?? DEFAULT_TIMEZONE;
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new Error(`Unknown timezone "${timezone}"`);
  }
  try {
    CronExpressionParser.parse(cron, { tz: timezone });
  } catch (error) {
    throw new Error(`Invalid cron expression "${cron}": ${(error as Error).message}`);
  }
  return { scheduleId, timezone };
}

export type AttemptOutcome = { ok: true } | { ok: false; retryable: boolean; error: Error };

/**
 * One try of one job, shared by both drivers so that validation, error classification and
 * logging are identical. Payloads are never logged: they may hold phone numbers and names.
 */
export async function runJobAttempt(options: {
  definition: JobDefinition<unknown>;
  payload: unknown;
  context: JobContext;
  maxAttempts: number;
  logger: Logger;
}): Promise<AttemptOutcome> {
  const { definition, context, maxAttempts, logger } = options;
  let outcome: AttemptOutcome;
  try {
    const parsed = definition.payload.safeParse(options.payload);
    if (parsed.success) {
      await definition.process(parsed.data, context);
      return { ok: true };
    }
    // A payload the processor cannot read will not become readable on retry.
    outcome = { ok: false, retryable: false, error: invalidPayloadError(definition.name, parsed.error) };
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    outcome = { ok: false, retryable: !(isAppError(error) && !error.retryable), error };
  }
  const willRetry = outcome.retryable && context.attempt < maxAttempts;
  const fields = { job: { name: context.name, id: context.id, attempt: context.attempt, maxAttempts }, err: outcome.error, willRetry };
  if (willRetry) logger.warn(fields, 'job attempt failed, will retry');
  else logger.error(fields, 'job failed');
  return outcome;
}

/** Resolves true when `promise` settles within `timeoutMs`, false otherwise (the promise keeps running). */
export async function settlesWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
