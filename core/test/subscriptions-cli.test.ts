import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, type RenewalReport } from '@relais/core';
import { openDatabase, subscriptions, tenants, type DatabaseConfig } from '@relais/db';
import { runCli } from '../../server/src/cli/main.js';
import type { CliOutput } from '../../server/src/cli/output.js';
import { primaryTestDriver } from '../../tests/support/test-database.js';
import { createCliEnvironment, type CliEnvironment } from '../../tests/support/cli-environment.js';

/** The CLI runs in this process (runCli), against a database of its own. */
describe(`relais subscriptions:check-renewals on ${primaryTestDriver()}`, () => {
  let directory: string;
  let env: Record<string, string | undefined>;
  let databaseConfig: DatabaseConfig;
  let cli: CliEnvironment | undefined;
  let tenantId: string;

  const run = async (args: string[]) => {
    const lines = { out: [] as string[], err: [] as string[] };
    const output: CliOutput = { out: (line) => lines.out.push(line), err: (line) => lines.err.push(line) };
    const code = await runCli(['subscriptions:check-renewals', ...args], env, output);
    return { code, stdout: lines.out.join('\n'), stderr: lines.err.join('\n') };
  };

  beforeAll(async () => {
    cli = await createCliEnvironment('renewals-cli');
    ({ directory, env, databaseConfig } = cli);
    const db = await openDatabase(databaseConfig);
    try {
      const clock = { now: () => new Date('2026-01-01T08:00:00Z') };
      tenantId = (await createTenant({ db, clock }, { name: 'Wifi Zone Deido', email: 'deido@example.cm', plan: 'starter' })).tenant.id;
      // Its paid period ended long ago; it has no billing phone and nothing in its wallet.
      await db.withPlatform((tx) => tx.update(subscriptions).set({ currentPeriodEnd: new Date('2026-01-31T23:00:00Z') }).where(eq(subscriptions.tenantId, tenantId)));
    } finally {
      await db.close();
    }
  });
  afterAll(async () => {
    await cli?.cleanup();
  });

  it('prints the report as JSON, stores the invoice PDF, and changes nothing on a second run', async () => {
    const first = await run(['--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as RenewalReport;
    expect(report.due).toBe(1);
    const [result] = report.tenants;
    // Months that went by unbilled are not billed after the fact: the period is the current month.
    expect(result).toMatchObject({ tenantId, slug: 'wifi-zone-deido', outcome: 'grace_started', push: 'no_billing_phone', amountXaf: 19_000 });
    expect(result!.periodStart!.slice(8)).toBe('01');
    expect(existsSync(join(directory, 'files', 'invoices', tenantId, `${result!.invoiceNumber}.pdf`))).toBe(true);

    const second = await run([]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('1 subscription(s) due for renewal');
    expect(second.stdout).toMatch(/wifi-zone-deido\s+awaiting_payment\s+/);
    expect(second.stdout).toContain(result!.invoiceNumber!);
    expect(second.stdout).toContain('19 000 FCFA');
    expect(second.stdout).toContain('Totals: awaiting_payment: 1');

    const db = await openDatabase(databaseConfig);
    try {
      const [tenant] = await db.withPlatform((tx) => tx.select({ status: tenants.status }).from(tenants).where(eq(tenants.id, tenantId)));
      expect(tenant!.status).toBe('grace');
    } finally {
      await db.close();
    }
  });

  it('refuses unknown flags with the usage line', async () => {
    const result = await run(['--colour']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: relais subscriptions:check-renewals [--json]');
  });
});
