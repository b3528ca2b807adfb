import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayDirectory, createLocalDiskFileStore, createRouterOsClient, createSecretBox, createTenant, postJournalEntry } from '@relais/core';
import { invoices, subscriptions, tenants } from '@relais/db';
import { buildJobDefinitions, createJobRunner, JOB_SCHEDULES, type JobRunner } from '@relais/workers';
import { eventually } from '../../tests/support/relais-process.js';
import { createTestDatabase, type TestDatabase } from '../../tests/support/test-database.js';

describe('check-subscription-renewals job', () => {
  let test: TestDatabase;
  let jobs: JobRunner;
  let directory: string;

  beforeAll(async () => {
    test = await createTestDatabase();
    directory = await mkdtemp(path.join(tmpdir(), 'relais-renewals-job-'));
    const logger = pino({ level: 'silent' });
    const secrets = createSecretBox(randomBytes(32));
    const gateways = createGatewayDirectory({ db: test.db, secrets });
    jobs = createJobRunner({
      definitions: buildJobDefinitions({ db: test.db, gateways, clock: { now: () => new Date() }, fileStore: createLocalDiskFileStore(directory), secrets, routerClient: createRouterOsClient(), senderFor: () => undefined, logger }),
      logger,
    });
    await jobs.start();
  });
  afterAll(async () => {
    await jobs?.close();
    await test?.drop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('is scheduled every day at 00:00 in Douala, the 1st of the month included', async () => {
    const schedule = JOB_SCHEDULES.find((entry) => entry.name === 'subscriptions.check-renewals');
    expect(schedule).toEqual({ name: 'subscriptions.check-renewals', cron: '0 0 0 * * *', scheduleId: 'subscriptions-check-renewals', timezone: 'Africa/Douala' });
    const next = CronExpressionParser.parse(schedule!.cron, { tz: schedule!.timezone, currentDate: new Date('2026-05-31T12:00:00Z') }).next();
    // 00:00 on 1 June in Douala is 23:00 UTC on 31 May.
    expect(next.toDate().toISOString()).toBe('2026-05-31T23:00:00.000Z');
    const afterThat = CronExpressionParser.parse(schedule!.cron, { tz: schedule!.timezone, currentDate: new Date('2026-06-01T12:00:00Z') }).next();
    expect(afterThat.toDate().toISOString()).toBe('2026-06-01T23:00:00.000Z');
    // The runner accepts it as the composition root registers it.
    await jobs.schedule(schedule!.name, schedule!.cron, { scheduleId: schedule!.scheduleId, timezone: schedule!.timezone });
    expect(await jobs.unschedule(schedule!.scheduleId)).toBe(true);
  });

  it('renews a due subscription when run', async () => {
    const { tenant } = await createTenant({ db: test.db, clock: { now: () => new Date() } }, { name: 'Wifi Zone Job', email: 'job@example.cm', plan: 'starter' });
    await test.db.withPlatform(async (tx) => {
      await tx.update(subscriptions).set({ currentPeriodEnd: new Date(Date.now() - 1_000) }).where(eq(subscriptions.tenantId, tenant.id));
      await postJournalEntry(tx, {
        description: 'test: customer payments collected',
        lines: [
          { account: 'gateway_clearing', amountXaf: 40_000 },
          { account: 'tenant_wallet', tenantId: tenant.id, amountXaf: -40_000 },
        ],
      });
    });
    await jobs.enqueue('subscriptions.check-renewals', {}, { jobId: 'renewals-test' });
    await eventually(async () => ((await jobs.getJob('subscriptions.check-renewals', 'renewals-test'))?.state === 'completed' ? true : undefined), 20_000, 'renewal job');
    const [invoice] = await test.db.withPlatform((tx) => tx.select().from(invoices).where(eq(invoices.tenantId, tenant.id)));
    expect(invoice).toMatchObject({ kind: 'subscription', status: 'paid' });
    const [row] = await test.db.withPlatform((tx) => tx.select({ status: tenants.status }).from(tenants).where(eq(tenants.id, tenant.id)));
    expect(row!.status).toBe('active');
  });
});
