import { AppError } from '@relais/core';
import type { Logger } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob, type JobContext, type JobDefinition, type JobRunner, type JobRunnerDriver } from '../src/index.js';
import { capturingLogger, gate, silentLogger, sleep, waitFor } from './helpers.js';

export interface MakeRunnerOptions {
  definitions: JobDefinition<any>[];
  logger?: Logger;
  processing?: boolean;
}

/** Small retry delays keep the suite fast; assertions are about order and "not before", never "within". */
const FAST_BACKOFF = { type: 'fixed', delayMs: 10 } as const;
/** Timers and Redis scores have millisecond resolution: allow a little rounding when checking "not before". */
const TIMER_SLACK_MS = 5;

interface Run {
  payload: unknown;
  context: JobContext;
  at: number;
}

/** A definition whose processor records every run and then does what `behave` says. */
function recordingJob<P>(
  name: string,
  payload: z.ZodType<P>,
  behave: (run: Run, runs: Run[]) => Promise<void> | void = () => {},
  extra: Partial<JobDefinition<P>> = {},
): { definition: JobDefinition<P>; runs: Run[] } {
  const runs: Run[] = [];
  const definition = defineJob<P>({
    name,
    payload,
    backoff: FAST_BACKOFF,
    ...extra,
    async process(parsed, context) {
      const run = { payload: parsed, context, at: Date.now() };
      runs.push(run);
      await behave(run, runs);
    },
  });
  return { definition, runs };
}

const failure = (message = 'provider timed out'): Error => new Error(message);

/**
 * The observable semantics both drivers must share. `makeRunner` builds a runner over whatever
 * storage the driver uses; `cleanup` (optional) removes that storage after each test.
 */
export function jobRunnerSuite(options: {
  driver: JobRunnerDriver;
  makeRunner: (options: MakeRunnerOptions) => JobRunner;
  cleanup?: () => Promise<void>;
}): void {
  const { driver } = options;
  const runners: JobRunner[] = [];

  function makeRunner(runnerOptions: MakeRunnerOptions): JobRunner {
    const runner = options.makeRunner({ logger: silentLogger(), ...runnerOptions });
    runners.push(runner);
    return runner;
  }

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.close({ timeoutMs: 1_000 })));
    await options.cleanup?.();
  });

  const completed = (runner: JobRunner, name: string, id: string) =>
    waitFor(`${name} ${id} completed`, async () => (await runner.getJob(name, id))?.state === 'completed' && runner.getJob(name, id));
  const failed = (runner: JobRunner, name: string, id: string) =>
    waitFor(`${name} ${id} failed`, async () => (await runner.getJob(name, id))?.state === 'failed' && runner.getJob(name, id));

  it('runs a job with its payload, also when enqueued before start()', async () => {
    const { definition, runs } = recordingJob('send-receipt', z.object({ phone: z.string(), amountXaf: z.number().int() }));
    const runner = makeRunner({ definitions: [definition] });
    const { id, added } = await runner.enqueue('send-receipt', { phone: '+237690000001', amountXaf: 500 });
    expect(added).toBe(true);
    await runner.start();

    const job = await completed(runner, 'send-receipt', id);
    expect(job).toMatchObject({ id, name: 'send-receipt', state: 'completed', attemptsMade: 1 });
    expect(runs).toHaveLength(1);
    expect(runs[0]?.payload).toEqual({ phone: '+237690000001', amountXaf: 500 });
    expect(runs[0]?.context).toEqual({ id, name: 'send-receipt', attempt: 1 });
  });

  it('hands processors a JSON copy taken at enqueue, parsed by the schema', async () => {
    const schema = z.object({ tags: z.array(z.string()), paidAt: z.coerce.date() });
    const { definition, runs } = recordingJob('tag-ticket', schema);
    const runner = makeRunner({ definitions: [definition] });
    const payload = { tags: ['wifi'], paidAt: new Date('2025-01-02T03:04:05.000Z') };
    const { id } = await runner.enqueue('tag-ticket', payload);
    payload.tags.push('changed-after-enqueue');
    await runner.start();

    await completed(runner, 'tag-ticket', id);
    expect(runs[0]?.payload).toEqual({ tags: ['wifi'], paidAt: new Date('2025-01-02T03:04:05.000Z') });
  });

  it('refuses an unknown job name with a message naming it', async () => {
    const { definition } = recordingJob('known-job', z.object({}));
    const runner = makeRunner({ definitions: [definition] });
    await expect(runner.enqueue('unknown-job', {})).rejects.toThrow('No job definition named "unknown-job" (known: known-job)');
  });

  it('refuses an invalid payload at enqueue: VALIDATION_FAILED, nothing runs', async () => {
    const { definition, runs } = recordingJob('notify-agent', z.object({ ticketId: z.string().uuid() }));
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();

    const rejection = await runner.enqueue('notify-agent', { ticketId: 42 }).catch((error: unknown) => error);
    expect(rejection).toBeInstanceOf(AppError);
    expect(rejection).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('job "notify-agent": ticketId') });

    // Concurrency 1, first in first out: once a later valid job is done, the refused one would have run.
    const { id } = await runner.enqueue('notify-agent', { ticketId: '6f1f6f32-8c1e-4a43-9d7a-2d6c1c5b8f00' });
    await completed(runner, 'notify-agent', id);
    expect(runs.map((run) => run.context.id)).toEqual([id]);
  });

  it('retries a failing job (retryable AppError or plain Error) until it succeeds', async () => {
    const { definition, runs } = recordingJob('sync-router', z.object({ routerId: z.string() }), (run) => {
      if (run.context.attempt === 1) throw new AppError('DEPENDENCY_UNAVAILABLE', 'router unreachable');
      if (run.context.attempt === 2) throw failure();
    });
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();
    const { id } = await runner.enqueue('sync-router', { routerId: 'r1' });

    const job = await completed(runner, 'sync-router', id);
    expect(job).toMatchObject({ state: 'completed', attemptsMade: 3 });
    expect(runs.map((run) => run.context.attempt)).toEqual([1, 2, 3]);
    expect(runs.every((run) => run.context.id === id)).toBe(true);
  });

  it('gives up after the default 3 attempts and records the job as failed', async () => {
    const { definition, runs } = recordingJob('add-hotspot-user', z.object({}), () => {
      throw failure('RouterOS said no');
    });
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();
    const { id } = await runner.enqueue('add-hotspot-user', {});

    const job = await failed(runner, 'add-hotspot-user', id);
    expect(job).toMatchObject({ state: 'failed', attemptsMade: 3, failedReason: 'RouterOS said no' });
    expect(runs.map((run) => run.context.attempt)).toEqual([1, 2, 3]);
    expect(await runner.health()).toMatchObject({ driver, ok: true, failed: 1 });
  });

  it('lets enqueue options override the definition: attempts', async () => {
    const { definition, runs } = recordingJob('poll-payment', z.object({}), () => {
      throw failure();
    }, { attempts: 2 });
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();
    const { id } = await runner.enqueue('poll-payment', {}, { attempts: 4 });

    expect(await failed(runner, 'poll-payment', id)).toMatchObject({ attemptsMade: 4 });
    expect(runs.map((run) => run.context.attempt)).toEqual([1, 2, 3, 4]);
  });

  it('waits the backoff before each retry, in order: exponential doubles, fixed repeats', async () => {
    const BACKOFF_MS = 100;
    const exponential = recordingJob('exponential-job', z.object({}), () => {
      throw failure();
    }, { backoff: { type: 'exponential', delayMs: BACKOFF_MS } });
    const fixed = recordingJob('fixed-job', z.object({}), () => {
      throw failure();
    }, { backoff: { type: 'fixed', delayMs: BACKOFF_MS } });
    const runner = makeRunner({ definitions: [exponential.definition, fixed.definition] });
    await runner.start();
    const [exponentialJob, fixedJob] = await Promise.all([
      runner.enqueue('exponential-job', {}, { attempts: 3 }),
      runner.enqueue('fixed-job', {}, { attempts: 3 }),
    ]);
    await failed(runner, 'exponential-job', exponentialJob!.id);
    await failed(runner, 'fixed-job', fixedJob!.id);

    const gaps = (runs: Run[]) => runs.slice(1).map((run, index) => run.at - runs[index]!.at);
    expect(exponential.runs.map((run) => run.context.attempt)).toEqual([1, 2, 3]);
    expect(fixed.runs.map((run) => run.context.attempt)).toEqual([1, 2, 3]);
    const [firstExponential, secondExponential] = gaps(exponential.runs);
    expect(firstExponential).toBeGreaterThanOrEqual(BACKOFF_MS - TIMER_SLACK_MS);
    expect(secondExponential).toBeGreaterThanOrEqual(2 * BACKOFF_MS - TIMER_SLACK_MS);
    for (const gap of gaps(fixed.runs)) expect(gap).toBeGreaterThanOrEqual(BACKOFF_MS - TIMER_SLACK_MS);
  });

  it('runs a delayed job after its delay, not before', async () => {
    const DELAY_MS = 400;
    const { definition, runs } = recordingJob('expire-voucher', z.object({ voucherId: z.string() }));
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();
    const enqueuedAt = Date.now();
    const { id } = await runner.enqueue('expire-voucher', { voucherId: 'v1' }, { delayMs: DELAY_MS });
    expect((await runner.getJob('expire-voucher', id))?.state).toBe('delayed');

    await completed(runner, 'expire-voucher', id);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.at - enqueuedAt).toBeGreaterThanOrEqual(DELAY_MS - TIMER_SLACK_MS);
  });

  it('keeps a job delayed by more than 24.8 days (beyond a single Node timer) delayed', async () => {
    const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1_000;
    const { definition, runs } = recordingJob('renewal-reminder', z.object({}));
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();
    const { id } = await runner.enqueue('renewal-reminder', {}, { delayMs: THIRTY_DAYS_MS });
    // An overflowing setTimeout fires after 1 ms: give it ample time to misbehave.
    await sleep(100);
    expect(await runner.getJob('renewal-reminder', id)).toMatchObject({ state: 'delayed', attemptsMade: 0 });
    expect(runs).toHaveLength(0);
  });

  it('accepts an absent payload when the schema allows it', async () => {
    const { definition, runs } = recordingJob('purge-sessions', z.object({ olderThanDays: z.number() }).optional());
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();
    const { id } = await runner.enqueue('purge-sessions', undefined);
    await completed(runner, 'purge-sessions', id);
    expect(runs.map((run) => run.payload)).toEqual([undefined]);
  });

  it('adds a job id once: duplicates of a delayed, running or completed job return added:false', async () => {
    const release = gate();
    const { definition, runs } = recordingJob('confirm-payment', z.object({ reference: z.string() }), () => release.promise);
    const runner = makeRunner({ definitions: [definition] });
    const jobId = 'payment:REF-001';
    const payload = { reference: 'REF-001' };

    expect(await runner.enqueue('confirm-payment', payload, { jobId, delayMs: 50 })).toEqual({ id: jobId, added: true });
    expect(await runner.enqueue('confirm-payment', payload, { jobId })).toEqual({ id: jobId, added: false });
    await runner.start();
    await waitFor('the job to start', () => runs.length === 1);
    expect(await runner.enqueue('confirm-payment', payload, { jobId })).toEqual({ id: jobId, added: false });
    release.open();
    await completed(runner, 'confirm-payment', jobId);
    expect(await runner.enqueue('confirm-payment', payload, { jobId })).toEqual({ id: jobId, added: false });

    expect(runs.map((run) => run.context.id)).toEqual([jobId]);
    expect(await runner.getJob('confirm-payment', jobId)).toMatchObject({ state: 'completed', attemptsMade: 1 });
  });

  it('adds a job id once when the same id is enqueued concurrently', async () => {
    const { definition, runs } = recordingJob('confirm-payment', z.object({ reference: z.string() }));
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();
    const jobId = 'payment:REF-002';

    const results = await Promise.all(
      Array.from({ length: 8 }, () => runner.enqueue('confirm-payment', { reference: 'REF-002' }, { jobId })),
    );
    expect(results.filter((result) => result.added)).toHaveLength(1);
    expect(results.every((result) => result.id === jobId)).toBe(true);
    await completed(runner, 'confirm-payment', jobId);
    expect(runs).toHaveLength(1);
  });

  it('keeps ids as given, whatever characters they hold', async () => {
    const { definition, runs } = recordingJob('echo-id', z.object({}));
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();
    const ids = ['payment:abc:def', '12345', '-7', '100%', 'a%3Ab', 'tenant/42 ticket#9'];
    for (const jobId of ids) expect(await runner.enqueue('echo-id', {}, { jobId })).toEqual({ id: jobId, added: true });
    for (const jobId of ids) await completed(runner, 'echo-id', jobId);
    expect(runs.map((run) => run.context.id).sort()).toEqual([...ids].sort());
  });

  it('fails at once, without retry, on a non-retryable AppError', async () => {
    const { definition, runs } = recordingJob('claim-voucher', z.object({}), () => {
      throw new AppError('NOT_FOUND', 'no voucher left for this package');
    }, { attempts: 5 });
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();
    const { id } = await runner.enqueue('claim-voucher', {});

    expect(await failed(runner, 'claim-voucher', id)).toMatchObject({ attemptsMade: 1, failedReason: 'no voucher left for this package' });
    expect(runs).toHaveLength(1);
  });

  it('fails at once, without retry, when the stored payload no longer fits the processor schema', async () => {
    // As after a deploy that changed the schema while jobs were queued: valid when enqueued, not when run.
    let schemaVersion = 1;
    const schema = z.object({ ticketId: z.string(), locale: z.string().optional() }).superRefine((value, context) => {
      if (schemaVersion === 2 && value.locale === undefined) context.addIssue({ code: 'custom', path: ['locale'], message: 'required since v2' });
    });
    const { definition, runs } = recordingJob('close-ticket', schema, () => {}, { attempts: 5 });
    const runner = makeRunner({ definitions: [definition] });
    const { id } = await runner.enqueue('close-ticket', { ticketId: 't1' });
    schemaVersion = 2;
    await runner.start();

    const job = await failed(runner, 'close-ticket', id);
    expect(job).toMatchObject({ attemptsMade: 1, failedReason: expect.stringContaining('Invalid payload for job "close-ticket": locale: required since v2') });
    expect(runs).toHaveLength(0);
  });

  it('runs a failed job again when its id is enqueued again: stored payload, fresh attempts', async () => {
    const { definition, runs } = recordingJob('deliver-voucher', z.object({ code: z.string() }), (_run, all) => {
      if (all.length === 1) throw new AppError('CONFLICT', 'channel not connected');
    });
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();
    const jobId = 'deliver:T-9';
    await runner.enqueue('deliver-voucher', { code: 'ABC123' }, { jobId });
    await failed(runner, 'deliver-voucher', jobId);

    expect(await runner.enqueue('deliver-voucher', { code: 'ABC123' }, { jobId })).toEqual({ id: jobId, added: true });
    expect(await completed(runner, 'deliver-voucher', jobId)).toMatchObject({ attemptsMade: 1 });
    expect(runs.map((run) => [run.context.attempt, run.payload])).toEqual([
      [1, { code: 'ABC123' }],
      [1, { code: 'ABC123' }],
    ]);
  });

  it('close() waits for the running job to finish, then refuses new work', async () => {
    const release = gate();
    const events: string[] = [];
    const { definition, runs } = recordingJob('generate-invoice', z.object({}), async () => {
      await release.promise;
      events.push('job finished');
    });
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();
    await runner.enqueue('generate-invoice', {});
    await waitFor('the job to start', () => runs.length === 1);

    const closing = runner.close().then(() => events.push('close resolved'));
    events.push('close called');
    // Give close() every chance to resolve early (it must not), then let the job end.
    await new Promise((resolve) => setTimeout(resolve, 100));
    release.open();
    await closing;

    expect(events).toEqual(['close called', 'job finished', 'close resolved']);
    await expect(runner.enqueue('generate-invoice', {})).rejects.toThrow('Job runner is closed');
    expect(await runner.health()).toMatchObject({ driver, ok: false });
  });

  it('close() gives up waiting after timeoutMs', async () => {
    const release = gate();
    const events: string[] = [];
    const { definition, runs } = recordingJob('stuck-job', z.object({}), async () => {
      await release.promise;
      events.push('job finished');
    });
    const runner = makeRunner({ definitions: [definition] });
    await runner.start();
    await runner.enqueue('stuck-job', {});
    await waitFor('the job to start', () => runs.length === 1);

    await runner.close({ timeoutMs: 200 });
    events.push('close resolved');
    release.open();
    expect(events).toEqual(['close resolved']);
  });

  it('fires a cron schedule every second; registering the same scheduleId again replaces it', async () => {
    const { definition, runs } = recordingJob('tick', z.object({ source: z.string() }));
    const runner = makeRunner({ definitions: [definition] });
    await runner.schedule('tick', '* * * * * *', { scheduleId: 'every-second', payload: { source: 'first' } });
    await runner.schedule('tick', '* * * * * *', { scheduleId: 'every-second', payload: { source: 'boot' }, timezone: 'Africa/Douala' });
    // One schedule = one pending run; a duplicate schedule would show as two.
    expect(await runner.health()).toMatchObject({ delayed: 1, waiting: 0 });
    await runner.start();

    await waitFor('two scheduled runs', () => runs.length >= 2, { timeoutMs: 20_000 });
    const [first, second] = runs;
    expect(first?.payload).toEqual({ source: 'boot' });
    expect(second?.payload).toEqual({ source: 'boot' });
    const millis = (run: Run | undefined) => Number(/^repeat:every-second:(\d+)$/.exec(run?.context.id ?? '')?.[1]);
    expect(millis(first)).toBeGreaterThan(0);
    // Each second is one run: the second run stands for a later cron instant than the first.
    expect(millis(second) - millis(first)).toBeGreaterThanOrEqual(1_000);
    expect(millis(second) % 1_000).toBe(0);
  });

  it('unschedules, and rejects invalid cron expressions, timezones and schedule payloads', async () => {
    const { definition } = recordingJob('daily-report', z.object({ tenantId: z.string() }));
    const runner = makeRunner({ definitions: [definition] });
    await runner.schedule('daily-report', '0 0 7 * * *', { scheduleId: 'report-t1', payload: { tenantId: 't1' } });
    expect(await runner.health()).toMatchObject({ delayed: 1 });
    expect(await runner.unschedule('report-t1')).toBe(true);
    expect(await runner.health()).toMatchObject({ delayed: 0 });
    expect(await runner.unschedule('report-t1')).toBe(false);

    await expect(runner.schedule('daily-report', 'every morning', { payload: { tenantId: 't1' } })).rejects.toThrow('Invalid cron expression');
    await expect(runner.schedule('daily-report', '0 7 * * *', { timezone: 'Mars/Olympus', payload: { tenantId: 't1' } })).rejects.toThrow('Unknown timezone');
    await expect(runner.schedule('daily-report', '0 7 * * *', { payload: {} })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('logs failures with job name, id and attempt, never the payload', async () => {
    const { logger, lines } = capturingLogger();
    const { definition } = recordingJob('sms-receipt', z.object({ phone: z.string() }), () => {
      throw failure('gateway refused');
    }, { attempts: 2 });
    const runner = makeRunner({ definitions: [definition], logger });
    await runner.start();
    const { id } = await runner.enqueue('sms-receipt', { phone: '+237699112233' });
    await failed(runner, 'sms-receipt', id);

    const failures = lines.filter((line) => line.msg === 'job failed' || line.msg === 'job attempt failed, will retry');
    expect(failures).toEqual([
      expect.objectContaining({ level: 40, job: { name: 'sms-receipt', id, attempt: 1, maxAttempts: 2 }, willRetry: true }),
      expect.objectContaining({ level: 50, job: { name: 'sms-receipt', id, attempt: 2, maxAttempts: 2 }, willRetry: false, err: expect.objectContaining({ type: 'Error', message: 'gateway refused' }) }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('699112233');
  });

  it('reports its driver and health', async () => {
    const { definition } = recordingJob('noop', z.object({}));
    const runner = makeRunner({ definitions: [definition] });
    expect(runner.driver).toBe(driver);
    expect(await runner.health()).toEqual({ driver, ok: true, waiting: 0, delayed: 0, active: 0, failed: 0 });
    await runner.enqueue('noop', {});
    expect(await runner.health()).toMatchObject({ driver, ok: true, waiting: 1 });
  });
}
