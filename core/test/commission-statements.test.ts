import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { and, asc, count, eq, gte, lt, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AppError,
  createGatewayDirectory,
  createLocalDiskFileStore,
  createRouterOsClient,
  createSecretBox,
  createTenant,
  getInvoicePdf,
  invoiceDocumentSchema,
  issueCommissionStatements,
  ledgerTrialBalance,
  postJournalEntry,
  recordCollectedPayment,
  type Clock,
  type CommissionStatementDocument,
  type CommissionStatementsReport,
  type FileStore,
} from '@relais/core';
import { invoices, payments, paymentSplits, platformCounters, type Database } from '@relais/db';
import { buildJobDefinitions, createJobRunner, JOB_SCHEDULES } from '@relais/workers';
import { eventually } from '../../tests/support/relais-process.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';

/** 00:00 in Douala (UTC+1) on the 1st of March, April and June 2026, in UTC. */
const MARCH_1 = new Date('2026-02-28T23:00:00Z');
const APRIL_1 = new Date('2026-03-31T23:00:00Z');
const JUNE_1 = new Date('2026-05-31T23:00:00Z');
const TWO_HOURS_MS = 2 * 60 * 60 * 1000;
/** When the monthly job runs: 02:00 Douala on the 1st. */
const jobTimeOn = (firstOfMonth: Date) => new Date(firstOfMonth.getTime() + TWO_HOURS_MS);

describe.each(testDrivers())('commission statements on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let directory: string;
  let fileStore: FileStore;
  let now = jobTimeOn(APRIL_1);
  const clock: Clock = { now: () => now };
  const deps = () => ({ db, fileStore, clock });
  let akwa: string;
  let deido: string;
  let logpom: string;
  let bonapriso: string;
  let broken: string;

  /** A successful customer payment completed at `completedAt`, split in the ledger as confirmPayment does. */
  const collect = (
    tenantId: string,
    amountXaf: number,
    completedAt: string,
    options: { billingMode?: 'commission' | 'subscription'; rateBps?: number } = {},
  ) =>
    db.withPlatform(async (tx) => {
      const [payment] = await tx
        .insert(payments)
        .values({
          tenantId,
          kind: 'customer_payment',
          externalReference: randomUUID(),
          phone: '+237670000000',
          amountXaf,
          status: 'successful',
          expiresAt: new Date(completedAt),
          completedAt: new Date(completedAt),
        })
        .returning({ id: payments.id });
      await recordCollectedPayment(tx, {
        id: payment!.id,
        tenantId,
        amountXaf,
        billingMode: options.billingMode ?? 'commission',
        commissionRateBps: options.rateBps ?? 1_000,
      });
      return payment!.id;
    });

  /** What the ledger booked as platform revenue for `tenantId`'s customer payments completed in [from, to). */
  const ledgerRevenue = async (tenantId: string, from: Date, to: Date) => {
    const [row] = await db.withPlatform((tx) =>
      tx
        .select({ revenue: sql<number>`coalesce(-sum(${paymentSplits.amountXaf}), 0)`.mapWith(Number) })
        .from(paymentSplits)
        .innerJoin(payments, eq(payments.id, paymentSplits.paymentId))
        .where(
          and(
            eq(paymentSplits.account, 'platform_revenue'),
            eq(payments.tenantId, tenantId),
            eq(payments.kind, 'customer_payment'),
            eq(payments.status, 'successful'),
            gte(payments.completedAt, from),
            lt(payments.completedAt, to),
          ),
        ),
    );
    return row!.revenue;
  };

  const documentOf = async (invoiceId: string) => {
    const [row] = await db.withPlatform((tx) => tx.select({ document: invoices.document }).from(invoices).where(eq(invoices.id, invoiceId)));
    return invoiceDocumentSchema.parse(row!.document) as CommissionStatementDocument;
  };
  const invoiceCount = async () => (await db.withPlatform((tx) => tx.select({ n: count() }).from(invoices)))[0]!.n;
  const counterValue = async () =>
    (await db.withPlatform((tx) => tx.select().from(platformCounters).where(eq(platformCounters.name, 'invoice:2026'))))[0]?.value ?? 0;
  const statementOf = (report: CommissionStatementsReport, tenantId: string) => report.issued.find((s) => s.tenantId === tenantId);

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    directory = await mkdtemp(path.join(tmpdir(), 'relais-commission-statements-'));
    fileStore = createLocalDiskFileStore(directory);
    const created = { now: () => new Date('2026-01-15T09:00:00Z') };
    const tenant = async (name: string, email: string, extra: { mode: 'commission'; locale?: 'fr' | 'en' } | { plan: 'starter' }) =>
      (await createTenant({ db, clock: created }, { name, email, ...extra })).tenant.id;
    akwa = await tenant('Hotspot Akwa', 'akwa@example.cm', { mode: 'commission', locale: 'en' });
    deido = await tenant('Wifi Zone Deido', 'deido@example.cm', { mode: 'commission' });
    logpom = await tenant('Wifi Logpom', 'logpom@example.cm', { mode: 'commission' });
    bonapriso = await tenant('Hotspot Bonapriso', 'bonapriso@example.cm', { plan: 'starter' });
    broken = await tenant('Wifi Cassé', 'casse@example.cm', { mode: 'commission' });

    // Akwa. 23:30 UTC on 28 February is 00:30 on 1 March in Douala: a March payment.
    await collect(akwa, 500, '2026-02-28T23:30:00Z');
    await collect(akwa, 1_000, '2026-03-01T10:00:00Z');
    await collect(akwa, 105, '2026-03-01T12:00:00Z'); // 10 % of 105 books 10 (the ledger rounds down)
    // Booked when Akwa's rate was 8 %: the statement shows what the ledger booked, not today's rate.
    await collect(akwa, 2_000, '2026-03-15T09:00:00Z', { rateBps: 800 });
    await collect(akwa, 300, '2026-03-31T22:59:59Z'); // 23:59:59 on 31 March in Douala
    await collect(akwa, 700, '2026-03-31T23:30:00Z'); // 00:30 on 1 April in Douala: an April payment
    await collect(akwa, 400, '2026-02-10T10:00:00Z'); // February
    // Not money collected for Akwa in March: a failed attempt, and a pending one.
    await db.withPlatform((tx) =>
      tx.insert(payments).values([
        { tenantId: akwa, kind: 'customer_payment', externalReference: randomUUID(), phone: '+237670000000', amountXaf: 900, status: 'failed', expiresAt: new Date('2026-03-10T10:00:00Z'), completedAt: new Date('2026-03-10T10:00:00Z') },
        { tenantId: akwa, kind: 'customer_payment', externalReference: randomUUID(), phone: '+237670000000', amountXaf: 800, status: 'pending', expiresAt: new Date('2026-03-11T10:00:00Z') },
      ]),
    );

    // Deido: two days in March.
    await collect(deido, 5_000, '2026-03-02T08:00:00Z');
    await collect(deido, 250, '2026-03-20T18:00:00Z');
    await collect(deido, 250, '2026-03-20T19:00:00Z');

    // Bonapriso pays a subscription: its customers' payments carry no commission and no statement.
    await collect(bonapriso, 10_000, '2026-03-05T10:00:00Z', { billingMode: 'subscription' });

    // Cassé, February only: a ledger entry books more commission than the payment was worth, which
    // no statement may print. Its statement fails; the others must still be issued.
    const paymentId = await collect(broken, 100, '2026-02-12T10:00:00Z', { rateBps: 0 });
    await db.withPlatform((tx) =>
      postJournalEntry(tx, {
        description: 'test: mistaken commission',
        paymentId,
        lines: [
          { account: 'gateway_clearing', amountXaf: 200 },
          { account: 'platform_revenue', amountXaf: -200 },
        ],
      }),
    );
  });
  afterAll(async () => {
    if (db) expect(await db.withPlatform((tx) => ledgerTrialBalance(tx))).toBe(0);
    await test?.drop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('by default states the previous Douala month: one line per Douala day, totals equal to the ledger', async () => {
    now = jobTimeOn(APRIL_1);
    const report = await issueCommissionStatements(deps());
    expect(report).toMatchObject({ month: '2026-03', periodStart: '2026-03-01', periodEnd: '2026-03-31', failed: [] });
    expect(report.issued.map((s) => s.tenantId).sort()).toEqual([akwa, deido].sort());
    expect(report.skipped.map((s) => s.tenantId).sort()).toEqual([logpom, broken].sort());

    const akwaStatement = statementOf(report, akwa)!;
    expect(akwaStatement).toMatchObject({ slug: 'hotspot-akwa', created: true, paymentsCount: 5, grossXaf: 3_905, amountXaf: 50 + 100 + 10 + 160 + 30 });
    const akwaDocument = await documentOf(akwaStatement.invoiceId);
    expect(akwaDocument).toMatchObject({
      kind: 'commission_statement',
      number: akwaStatement.number,
      locale: 'en',
      issueDate: '2026-04-01',
      period: { start: '2026-03-01', end: '2026-03-31' },
      status: { state: 'paid', paidOn: '2026-04-01' },
      amountDueXaf: 0,
      commissionRateBps: 1_000,
      totals: { grossXaf: 3_905, subtotalXaf: 350, netXaf: 3_555, vat: null, totalXaf: 350 },
    });
    expect(akwaDocument.lines).toEqual([
      { description: '01/03/2026', paymentsCount: 3, grossXaf: 1_605, commissionXaf: 160, netXaf: 1_445 },
      { description: '15/03/2026', paymentsCount: 1, grossXaf: 2_000, commissionXaf: 160, netXaf: 1_840 },
      { description: '31/03/2026', paymentsCount: 1, grossXaf: 300, commissionXaf: 30, netXaf: 270 },
    ]);
    expect(akwaStatement.amountXaf).toBe(await ledgerRevenue(akwa, MARCH_1, APRIL_1));

    const deidoStatement = statementOf(report, deido)!;
    const deidoDocument = await documentOf(deidoStatement.invoiceId);
    expect(deidoDocument.locale).toBe('fr');
    expect(deidoDocument.lines).toEqual([
      { description: '02/03/2026', paymentsCount: 1, grossXaf: 5_000, commissionXaf: 500, netXaf: 4_500 },
      { description: '20/03/2026', paymentsCount: 2, grossXaf: 500, commissionXaf: 50, netXaf: 450 },
    ]);
    expect(deidoDocument.totals).toMatchObject({ grossXaf: 5_500, subtotalXaf: 550, netXaf: 4_950, totalXaf: 550 });
    expect(deidoStatement.amountXaf).toBe(await ledgerRevenue(deido, MARCH_1, APRIL_1));

    const rows = await db.withPlatform((tx) => tx.select().from(invoices).orderBy(asc(invoices.number)));
    expect(rows.map((row) => row.tenantId).sort()).toEqual([akwa, deido].sort());
    for (const row of rows) {
      expect(row).toMatchObject({ kind: 'commission_statement', status: 'paid', periodStart: '2026-03-01', periodEnd: '2026-03-31' });
      const stored = await fileStore.get(row.pdfKey!);
      expect(stored!.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    }
  });

  it('is idempotent: a second run returns the same statements and takes no number', async () => {
    const before = { invoices: await invoiceCount(), counter: await counterValue() };
    const again = await issueCommissionStatements(deps(), { month: '2026-03' });
    expect(again.failed).toEqual([]);
    expect(again.issued.every((s) => !s.created)).toBe(true);
    expect(again.issued.map((s) => s.number).sort()).toEqual((await db.withPlatform((tx) => tx.select({ number: invoices.number }).from(invoices))).map((r) => r.number).sort());
    expect({ invoices: await invoiceCount(), counter: await counterValue() }).toEqual(before);
  });

  it('puts a payment made at 23:30 UTC on the last day of a month in the next Douala month', async () => {
    now = jobTimeOn(new Date('2026-04-30T23:00:00Z'));
    const report = await issueCommissionStatements(deps());
    expect(report.month).toBe('2026-04');
    expect(report.issued.map((s) => s.tenantId)).toEqual([akwa]);
    const document = await documentOf(report.issued[0]!.invoiceId);
    expect(document.lines).toEqual([{ description: '01/04/2026', paymentsCount: 1, grossXaf: 700, commissionXaf: 70, netXaf: 630 }]);
    expect(document.period).toEqual({ start: '2026-04-01', end: '2026-04-30' });
  });

  it("reports one tenant's failure and still issues the others' statements", async () => {
    const errors: string[] = [];
    const report = await issueCommissionStatements({ ...deps(), onError: (_error, tenantId) => errors.push(tenantId) }, { month: '2026-02' });
    expect(report.issued.map((s) => [s.tenantId, s.amountXaf, s.created])).toEqual([[akwa, 40, true]]);
    expect(report.failed).toEqual([{ tenantId: broken, slug: 'wifi-casse', error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('commission cannot exceed the gross amount') } }]);
    expect(errors).toEqual([broken]);
    const [statement] = await db.withPlatform((tx) => tx.select({ n: count() }).from(invoices).where(eq(invoices.tenantId, broken)));
    expect(statement!.n).toBe(0);
  });

  it('refuses a month that is not over in Douala, and a malformed one', async () => {
    now = new Date('2026-04-30T22:59:00Z'); // 23:59 on 30 April in Douala
    const early = await issueCommissionStatements(deps(), { month: '2026-04' }).catch((error: unknown) => error);
    expect(early).toBeInstanceOf(AppError);
    expect(early).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('not over yet') });
    await expect(issueCommissionStatements(deps(), { month: '2026-13' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('serves the statement PDF like any invoice', async () => {
    const [row] = await db.withPlatform((tx) => tx.select().from(invoices).where(and(eq(invoices.tenantId, deido), eq(invoices.periodStart, '2026-03-01'))));
    const pdf = await getInvoicePdf({ db, fileStore }, { invoiceId: row!.id, tenantId: deido });
    expect(pdf.fileName).toBe(`${row!.number}.pdf`);
    expect(pdf.bytes.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('is scheduled at 02:00 Douala on the 1st, and the job issues the previous month', async () => {
    const schedule = JOB_SCHEDULES.find((entry) => entry.name === 'invoices.issue-commission-statements');
    expect(schedule).toEqual({
      name: 'invoices.issue-commission-statements',
      cron: '0 0 2 1 * *',
      scheduleId: 'invoices-issue-commission-statements',
      timezone: 'Africa/Douala',
    });
    const next = CronExpressionParser.parse(schedule!.cron, { tz: schedule!.timezone, currentDate: new Date('2026-05-15T12:00:00Z') }).next();
    expect(next.toDate().toISOString()).toBe(jobTimeOn(JUNE_1).toISOString());

    await collect(deido, 1_500, '2026-05-31T22:30:00Z'); // 23:30 on 31 May in Douala
    now = jobTimeOn(JUNE_1);
    const logger = pino({ level: 'silent' });
    const secrets = createSecretBox(Buffer.alloc(32, 7));
    const jobs = createJobRunner({
      definitions: buildJobDefinitions({ db, gateways: createGatewayDirectory({ db, secrets }), clock, fileStore, secrets, routerClient: createRouterOsClient(), senderFor: () => undefined, logger }),
      logger,
    });
    await jobs.start();
    try {
      await jobs.schedule(schedule!.name, schedule!.cron, { scheduleId: schedule!.scheduleId, timezone: schedule!.timezone });
      expect(await jobs.unschedule(schedule!.scheduleId)).toBe(true);
      await jobs.enqueue('invoices.issue-commission-statements', {}, { jobId: `statements-test-${driver}` });
      await eventually(
        async () => ((await jobs.getJob('invoices.issue-commission-statements', `statements-test-${driver}`))?.state === 'completed' ? true : undefined),
        20_000,
        'commission statements job',
      );
    } finally {
      await jobs.close();
    }
    const [may] = await db.withPlatform((tx) => tx.select().from(invoices).where(and(eq(invoices.tenantId, deido), eq(invoices.periodStart, '2026-05-01'))));
    expect(may).toMatchObject({ kind: 'commission_statement', status: 'paid', periodEnd: '2026-05-31', amountXaf: 150 });
  });
});
