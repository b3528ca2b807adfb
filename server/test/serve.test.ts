import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteRedisKeys } from '../../tests/support/redis-keys.js';
import { cleanEnv, eventually, freePort, runRelais, startRelais } from '../../tests/support/relais-process.js';
import { createTestDatabase, testDrivers } from '../../tests/support/test-database.js';

/** The first 200 answer of /health, once the process is up. */
function healthOf(port: number, output: { stderr: string }): Promise<Record<string, any>> {
  return eventually(async () => {
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    return response.status === 200 ? ((await response.json()) as Record<string, any>) : undefined;
  }, 90_000, `GET /health (stderr: ${output.stderr})`);
}

describe('relais serve, as a process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'relais-serve-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves /health (pglite) and the web app with embedded defaults, refuses a second process on the same data, and stops on SIGTERM', async () => {
    const port = await freePort();
    // Demo mode (on by default without CamPay) would seed a tenant; demo-mode.test.ts covers it.
    const env = cleanEnv({ LOG_LEVEL: 'info', PORT: String(port), HOST: '127.0.0.1', PGLITE_DATA_DIR: join(dataDir, 'pglite'), APP_KEY_FILE: join(dataDir, 'app-key'), DEMO_MODE: 'off' });
    const server = startRelais(['serve'], env);
    try {
      const health = await healthOf(port, server.output);
      expect(health).toMatchObject({ status: 'ok', database: { driver: 'pglite', ok: true }, queue: { driver: 'in-process', ok: true } });

      const home = await fetch(`http://127.0.0.1:${port}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain('Relais');

      const second = await runRelais(['tenant:list'], env);
      expect(second.code).toBe(78);
      expect(second.stderr).toMatch(/embedded database in .* is in use by process \d+/);
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
    expect(server.output.stdout).toContain('Relais is serving on http://localhost:');
    // The lock is released on a clean stop: another process can open the data now.
    const after = await runRelais(['tenant:list'], env);
    expect(after.stdout).toContain('No tenants yet');
  });

  // Refusing a superuser needs a PostgreSQL connection as one; CI provides it as DATABASE_OWNER_URL.
  it.runIf(testDrivers().includes('postgres'))('refuses to start when the runtime role could bypass row-level security', async () => {
    const run = await runRelais(['serve'], cleanEnv({ DATABASE_URL: process.env.DATABASE_OWNER_URL!, PORT: String(await freePort()) }));
    expect(run.code).toBe(78);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^relais: Refusing to use the database: role "\w+" is a superuser.*Connect DATABASE_URL as the runtime role/);
  });

  // BullMQ needs Redis; CI provides REDIS_URL (and PostgreSQL, which several processes can share).
  it.runIf(Boolean(process.env.REDIS_URL) && testDrivers().includes('postgres'))(
    'runs serve and a separate worker on Redis, stopping cleanly on SIGTERM and SIGINT',
    async () => {
      const test = await createTestDatabase('postgres');
      const port = await freePort();
      const queuePrefix = `relais-serve-test-${port}`;
      const env = cleanEnv({
        LOG_LEVEL: 'info',
        DATABASE_URL: (test.config as { url: string }).url,
        REDIS_URL: process.env.REDIS_URL!,
        QUEUE_PREFIX: queuePrefix,
        JOBS_IN_SERVER: 'false',
        PORT: String(port),
        HOST: '127.0.0.1',
        APP_KEY_FILE: join(dataDir, 'app-key-redis'),
      });
      const server = startRelais(['serve'], env);
      const worker = startRelais(['worker'], env);
      try {
        const health = await healthOf(port, server.output);
        expect(health).toMatchObject({ status: 'ok', database: { driver: 'postgres', ok: true }, queue: { driver: 'bullmq', ok: true } });
        await eventually(async () => (worker.output.stdout.includes('Relais worker is processing jobs') ? true : undefined), 60_000, 'worker start');
      } finally {
        expect(await worker.stop('SIGINT')).toBe(0);
        expect(await server.stop('SIGTERM')).toBe(0);
        await test.drop();
        // The schedules serve registered at boot, and their queues: nothing of the test stays in Redis.
        expect(await deleteRedisKeys(process.env.REDIS_URL!, `${queuePrefix}:`)).toBe(0);
      }
    },
  );
});
