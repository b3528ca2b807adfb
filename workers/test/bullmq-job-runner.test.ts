import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJobRunner, defineJob, type JobRunner } from '../src/index.js';
import { silentLogger, waitFor } from './helpers.js';
import { deleteRedisKeys } from '../../tests/support/redis-keys.js';
import { jobRunnerSuite } from './job-runner-suite.js';

const redisUrl = process.env.REDIS_URL;
/** Every key this file writes starts with it; removed after each test and at the end. */
const FILE_PREFIX = `relais-test-${randomUUID().slice(0, 8)}`;

// Needs a real Redis: CI sets REDIS_URL; locally run `REDIS_URL=redis://127.0.0.1:6379 npx vitest run workers`.
describe.skipIf(!redisUrl)('BullMQ job runner', () => {
  let runnerCount = 0;

  async function deleteTestKeys(): Promise<void> {
    await deleteRedisKeys(redisUrl!, FILE_PREFIX);
  }

  afterAll(async () => {
    // Nothing of this file left in Redis.
    expect(await deleteRedisKeys(redisUrl!, FILE_PREFIX)).toBe(0);
  });

  jobRunnerSuite({
    driver: 'bullmq',
    // A prefix per runner: tests never see each other's jobs, even with equal names and ids.
    makeRunner: (options) => createJobRunner({ ...options, redisUrl, queuePrefix: `${FILE_PREFIX}-${++runnerCount}` }),
    cleanup: deleteTestKeys,
  });

  it('an enqueue-only runner (HTTP process) feeds a processing runner (worker process) through Redis', async () => {
    const runs: string[] = [];
    const definition = defineJob({
      name: 'confirm-payment',
      payload: z.object({ reference: z.string() }),
      async process(payload) {
        runs.push(payload.reference);
      },
    });
    const queuePrefix = `${FILE_PREFIX}-shared`;
    const producer = createJobRunner({ definitions: [definition], redisUrl, queuePrefix, logger: silentLogger(), processing: false });
    const worker = createJobRunner({ definitions: [definition], redisUrl, queuePrefix, logger: silentLogger() });
    try {
      await producer.start(); // a no-op without processing
      const { id } = await producer.enqueue('confirm-payment', { reference: 'REF-9' }, { jobId: 'payment:REF-9' });
      expect(await producer.health()).toMatchObject({ ok: true, waiting: 1 });
      await worker.start();
      await waitFor('the worker to complete the job', async () => (await producer.getJob('confirm-payment', id))?.state === 'completed');
      expect(runs).toEqual(['REF-9']);
      expect(await producer.enqueue('confirm-payment', { reference: 'REF-9' }, { jobId: 'payment:REF-9' })).toEqual({ id, added: false });
    } finally {
      await Promise.all([producer.close(), worker.close()]);
      await deleteTestKeys();
    }
  });

  it('reports ok:false, without hanging, when Redis cannot be reached', async () => {
    const definition = defineJob({ name: 'noop', payload: z.object({}), async process() {} });
    // Port 1 refuses connections on any machine that runs tests.
    const runner: JobRunner = createJobRunner({ definitions: [definition], redisUrl: 'redis://127.0.0.1:1', logger: silentLogger(), processing: false });
    try {
      expect(await runner.health()).toMatchObject({ driver: 'bullmq', ok: false, error: expect.any(String) });
      // Retryable: an HTTP caller answers 503 and the provider calls again later.
      await expect(runner.enqueue('noop', {})).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', retryable: true });
    } finally {
      await runner.close({ timeoutMs: 1_000 });
    }
  });
});
