import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLocalDiskFileStore,
  createTenant,
  issueCommissionStatements,
  recordCollectedPayment,
  type CommissionStatementsReport,
  type InvoiceSummary,
} from '@relais/core';
import { openDatabase, payments, type DatabaseConfig } from '@relais/db';
import { runRelais } from '../../tests/support/relais-process.js';
import { primaryTestDriver } from '../../tests/support/test-database.js';
import { createCliEnvironment, type CliEnvironment } from '../../tests/support/cli-environment.js';

/** Each test starts several `relais` processes, and each opens the database (PGlite takes seconds). */
const PROCESS_TESTS_TIMEOUT_MS = 120_000;

describe(`relais invoices:* on ${primaryTestDriver()}`, () => {
  let directory: string;
  let env: NodeJS.ProcessEnv;
  let databaseConfig: DatabaseConfig;
  let cli: CliEnvironment | undefined;
  let statement: CommissionStatementsReport['issued'][number];

  beforeAll(async () => {
    cli = await createCliEnvironment('invoices-cli');
    ({ directory, env, databaseConfig } = cli);
    const db = await openDatabase(databaseConfig);
    try {
      const clock = { now: () => new Date('2026-04-01T01:00:00Z') };
      const { tenant } = await createTenant({ db, clock }, { name: 'Hotspot Akwa', email: 'akwa@example.cm', mode: 'commission' });
      for (const [amountXaf, completedAt] of [
        [500, '2026-03-03T10:00:00Z'],
        [3_000, '2026-03-17T16:00:00Z'],
      ] as const) {
        await db.withPlatform(async (tx) => {
          const [payment] = await tx
            .insert(payments)
            .values({ tenantId: tenant.id, kind: 'customer_payment', externalReference: randomUUID(), phone: '+237670000000', amountXaf, status: 'successful', expiresAt: new Date(completedAt), completedAt: new Date(completedAt) })
            .returning({ id: payments.id });
          await recordCollectedPayment(tx, { id: payment!.id, tenantId: tenant.id, amountXaf, billingMode: 'commission', commissionRateBps: 1_000 });
        });
      }
      const report = await issueCommissionStatements({ db, fileStore: createLocalDiskFileStore(env.FILES_DIR!), clock }, {});
      expect(report.issued).toHaveLength(1);
      statement = report.issued[0]!;
    } finally {
      await db.close();
    }
  });
  afterAll(async () => {
    await cli?.cleanup();
  });

  it('lists the statement, as JSON and as a table', async () => {
    const json = await runRelais(['invoices:list', '--json'], env);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as (InvoiceSummary & { tenantSlug: string })[];
    expect(listed).toEqual([
      expect.objectContaining({
        number: statement.number,
        tenantSlug: 'hotspot-akwa',
        kind: 'commission_statement',
        periodStart: '2026-03-01',
        periodEnd: '2026-03-31',
        amountXaf: 350,
        status: 'paid',
      }),
    ]);

    const table = await runRelais(['invoices:list', '--tenant', 'hotspot-akwa', '--limit', '5'], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NUMBER\s+TENANT\s+KIND\s+PERIOD\s+AMOUNT\s+STATUS$/);
    expect(lines[1]!.split(/\s{2,}/)).toEqual([statement.number, 'hotspot-akwa', 'commission_statement', '2026-03-01..2026-03-31', expect.stringMatching(/^350\sFCFA$/), 'paid']);

    const unknown = await runRelais(['invoices:list', '--tenant', 'nobody'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('relais: no tenant with slug "nobody" (see relais tenant:list)');
    const badLimit = await runRelais(['invoices:list', '--limit', '0'], env);
    expect(badLimit.code).toBe(2);
  }, PROCESS_TESTS_TIMEOUT_MS);

  it('downloads the PDF, refuses to overwrite it unless --force', async () => {
    const out = join(directory, 'statement.pdf');
    const first = await runRelais(['invoices:download', '--number', statement.number, '--out', out], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toBe(out);
    const bytes = readFileSync(out);
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    // The very file the issuance stored.
    expect(bytes.equals(readFileSync(join(directory, 'files', 'invoices', statement.tenantId, `${statement.number}.pdf`)))).toBe(true);

    writeFileSync(out, 'keep me');
    const refused = await runRelais(['invoices:download', '--number', statement.number, '--out', out], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(`relais: ${out} already exists; pass --force to overwrite it`);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const forced = await runRelais(['invoices:download', '--number', statement.number, '--out', out, '--force'], env);
    expect(forced.code).toBe(0);
    expect(readFileSync(out).subarray(0, 5).toString()).toBe('%PDF-');

    const missing = await runRelais(['invoices:download', '--number', 'RLS-2026-999999', '--out', join(directory, 'missing.pdf')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('relais: no invoice numbered RLS-2026-999999');
    expect(existsSync(join(directory, 'missing.pdf'))).toBe(false);
    const malformed = await runRelais(['invoices:download', '--number', '2026-1'], env);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--number must look like RLS-2026-000123');
  }, PROCESS_TESTS_TIMEOUT_MS);

  it('issues statements again from the command line without duplicating them', async () => {
    const run = await runRelais(['invoices:issue-statements', '--month', '2026-03', '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as CommissionStatementsReport;
    expect(report.issued).toEqual([expect.objectContaining({ number: statement.number, created: false, amountXaf: 350, grossXaf: 3_500, paymentsCount: 2 })]);
    const table = await runRelais(['invoices:issue-statements', '--month', '2026-03'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('Commission statements for 2026-03 (2026-03-01..2026-03-31):');
    expect(table.stdout).toMatch(new RegExp(`hotspot-akwa\\s+${statement.number}\\s+2\\s+3\\s500\\sFCFA\\s+350\\sFCFA\\s+already issued`));
    const early = await runRelais(['invoices:issue-statements', '--month', '2999-01'], env);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('is not over yet');
  }, PROCESS_TESTS_TIMEOUT_MS);
});
