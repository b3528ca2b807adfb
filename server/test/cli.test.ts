import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, tenants, users, type DatabaseConfig } from '@relais/db';
import { createTestDatabase, primaryTestDriver, type TestDatabase } from '../../tests/support/test-database.js';
import { cleanEnv, eventually, runRelais, startRelais } from '../../tests/support/relais-process.js';

describe('relais CLI, as a process', () => {
  it('stops with one clear line naming a malformed variable', async () => {
    const run = await runRelais(['serve'], cleanEnv({ PORT: 'abc' }));
    expect(run.code).toBe(78);
    expect(run.stderr.trim()).toBe('relais: configuration error: PORT must be a whole number from 1 to 65535 (got "abc")');
    expect(run.stdout).toBe('');
  });

  it('stops with one clear line when a required variable is missing', async () => {
    const run = await runRelais(['worker'], cleanEnv());
    expect(run.code).toBe(78);
    expect(run.stderr.trim().split('\n')).toEqual(['relais: configuration error: REDIS_URL must be set for "relais worker"; without Redis, jobs run inside "relais serve"']);
  });

  it('runs the CamPay simulator, even with a broken environment, until SIGTERM', async () => {
    const sim = startRelais(['sim', 'campay', '--port', '0', '--auto-approve-ms', '50'], cleanEnv({ NODE_ENV: 'production' }));
    try {
      const url = await eventually(async () => sim.output.stdout.match(/http:\/\/127\.0\.0\.1:\d+\/api/)?.[0], 30_000, `simulator URL (stderr: ${sim.output.stderr})`);
      const token = await fetch(`${url}/token/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'nobody', password: 'wrong' }) });
      expect(token.status).toBe(400);
      expect(await token.json()).toHaveProperty('non_field_errors');
    } finally {
      expect(await sim.stop('SIGTERM')).toBe(0);
    }
  });

  it('explains unknown commands and bad flags', async () => {
    const unknown = await runRelais(['tenant:delete'], cleanEnv());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "tenant:delete"');
    expect(unknown.stderr).toContain('relais tenant:create --name NAME --email EMAIL');
    const badFlag = await runRelais(['tenant:list', '--colour'], cleanEnv());
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("Unknown option '--colour'");
  });
});

describe(`relais tenant:create and tenant:list on ${primaryTestDriver()}`, () => {
  let env: NodeJS.ProcessEnv;
  let databaseConfig: DatabaseConfig;
  let test: TestDatabase | undefined;
  let dataDir: string | undefined;

  beforeAll(async () => {
    if (primaryTestDriver() === 'postgres') {
      test = await createTestDatabase('postgres');
      await test.db.close(); // the CLI processes open their own connections
      databaseConfig = test.config;
      env = cleanEnv({ DATABASE_URL: (test.config as { url: string }).url });
    } else {
      dataDir = mkdtempSync(join(tmpdir(), 'relais-cli-'));
      databaseConfig = { driver: 'pglite', dataDir: join(dataDir, 'pglite') };
      env = cleanEnv({ PGLITE_DATA_DIR: join(dataDir, 'pglite'), APP_KEY_FILE: join(dataDir, 'app-key') });
    }
  });
  afterAll(async () => {
    await test?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  // Six processes each opening the database: generous on a loaded 2-core machine.
  it('creates two tenants that cannot see each other, refuses duplicates cleanly, and lists them', { timeout: 180_000 }, async () => {
    const first = await runRelais(['tenant:create', '--name', 'Wifi Zone Bépanda', '--email', 'owner@bepanda.cm', '--plan', 'business'], env);
    expect(first.stderr).toContain('shown only once');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/slug: {2}wifi-zone-bepanda/);
    expect(first.stdout).toMatch(/one-time password: [A-Za-z2-9]{16}/);
    const second = await runRelais(['tenant:create', '--name', 'Hotspot Akwa', '--email', 'akwa@example.cm', '--mode', 'commission', '--json'], env);
    expect(second.code).toBe(0);
    const created = JSON.parse(second.stdout) as { tenant: { id: string; slug: string; planId: string } };
    expect(created.tenant).toMatchObject({ slug: 'hotspot-akwa', planId: 'commission' });

    const duplicateSlug = await runRelais(['tenant:create', '--name', 'Other', '--email', 'other@example.cm', '--slug', 'hotspot-akwa'], env);
    expect(duplicateSlug.code).toBe(1);
    expect(duplicateSlug.stderr.trim()).toBe('relais: a tenant with slug "hotspot-akwa" already exists');
    const duplicateEmail = await runRelais(['tenant:create', '--name', 'Other', '--email', 'AKWA@example.cm'], env);
    expect(duplicateEmail.code).toBe(1);
    expect(duplicateEmail.stderr.trim()).toBe('relais: a tenant with email "akwa@example.cm" already exists');
    const invalid = await runRelais(['tenant:create', '--name', 'Other', '--email', 'x@y.cm', '--plan', 'gold'], env);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('plan');

    const list = await runRelais(['tenant:list'], env);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+SLUG\s+NAME\s+PLAN\s+MODE\s+STATUS\s+CREATED$/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/)[1])).toEqual(['wifi-zone-bepanda', 'hotspot-akwa']);

    const agent = await runRelais(['agent:create', '--tenant', 'hotspot-akwa', '--email', 'Ada@Akwa.cm', '--name', 'Ada', '--json'], env);
    expect(agent.code, agent.stderr).toBe(0);
    expect(JSON.parse(agent.stdout)).toMatchObject({ userId: expect.any(String), oneTimePassword: expect.stringMatching(/^[A-Za-z2-9]{16}$/) });
    const sameAgent = await runRelais(['agent:create', '--tenant', 'hotspot-akwa', '--email', 'ada@akwa.cm', '--name', 'Ada'], env);
    expect(sameAgent.stderr.trim()).toBe('relais: a user with the email ada@akwa.cm already exists');

    // Nothing half-created by the refused calls, and each tenant sees only its own users.
    const db = await openDatabase(databaseConfig);
    try {
      const all = await db.withPlatform((tx) => tx.select().from(tenants));
      expect(all.map((t) => t.slug).sort()).toEqual(['hotspot-akwa', 'wifi-zone-bepanda']);
      for (const tenant of all) {
        const visible = await db.withTenant(tenant.id, (tx) => tx.select({ tenantId: users.tenantId, email: users.email }).from(users));
        const agents = tenant.slug === 'hotspot-akwa' ? [{ tenantId: tenant.id, email: 'ada@akwa.cm' }] : [];
        expect(visible).toEqual(expect.arrayContaining([{ tenantId: tenant.id, email: tenant.email }, ...agents]));
        expect(visible).toHaveLength(1 + agents.length);
        const foreign = await db.withTenant(tenant.id, (tx) => tx.select().from(users).where(eq(users.email, all.find((t) => t.id !== tenant.id)!.email)));
        expect(foreign).toEqual([]);
      }
    } finally {
      await db.close();
    }
  });
});
