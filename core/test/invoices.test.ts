import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, eq } from 'drizzle-orm';
import { invoices, platformCounters, tenants, type Database } from '@relais/db';
import { getInvoicePdf } from '../src/billing/invoices/get-invoice-pdf.js';
import { invoicePdfKey, issueInvoice, type IssueInvoiceInput } from '../src/billing/invoices/issue-invoice.js';
import { listInvoices } from '../src/billing/invoices/list-invoices.js';
import { nextInvoiceNumber } from '../src/billing/invoices/next-invoice-number.js';
import { createLocalDiskFileStore } from '../src/shared/file-store/local-disk-file-store.js';
import type { Clock } from '../src/shared/ports/clock.js';
import type { FileStore } from '../src/shared/ports/file-store.js';
import { createTenant } from '../src/tenants/create-tenant.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';
import { errorOf } from '../../tests/support/app-error-of.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 09:00 on 1 April 2026 in Douala (UTC+1). */
const ISSUED_AT = new Date('2026-04-01T08:00:00Z');
const fixedClock: Clock = { now: () => ISSUED_AT };

describe.each(testDrivers())('invoices on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let directory: string;
  let fileStore: FileStore;
  let bepanda: string;
  let akwa: string;
  const deps = () => ({ db, fileStore, clock: fixedClock });

  const counterValue = async (year: number) =>
    (await db.withPlatform((tx) => tx.select().from(platformCounters).where(eq(platformCounters.name, `invoice:${year}`))))[0]?.value ?? 0;

  const subscriptionFor = (tenantId: string, periodStart: string, overrides: Partial<IssueInvoiceInput> = {}): IssueInvoiceInput =>
    ({
      tenantId,
      kind: 'subscription',
      periodStart,
      periodEnd: `${periodStart.slice(0, 8)}28`,
      lines: [
        { description: 'Abonnement Business', quantity: 1, unitPriceXaf: 45_000 },
        { description: 'Agent supplémentaire', quantity: 2, unitPriceXaf: 3_500 },
      ],
      ...overrides,
    }) as IssueInvoiceInput;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    directory = await mkdtemp(path.join(tmpdir(), 'relais-invoices-'));
    fileStore = createLocalDiskFileStore(directory);
    const clock = { now: () => new Date() };
    bepanda = (await createTenant({ db, clock }, { name: 'Wifi Zone Bépanda', email: 'owner@bepanda.cm', plan: 'business' })).tenant.id;
    akwa = (await createTenant({ db, clock }, { name: 'Hotspot Akwa', email: 'akwa@example.cm', mode: 'commission', locale: 'en' })).tenant.id;
    await db.withPlatform((tx) => tx.update(tenants).set({ billingPhone: '+237690123456' }).where(eq(tenants.id, bepanda)));
  });
  afterAll(async () => {
    await test?.drop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  describe('nextInvoiceNumber', () => {
    it('hands 20 concurrent transactions the numbers 1 to 20, each exactly once', async () => {
      const numbers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          db.withPlatform(async (tx) => {
            const number = await nextInvoiceNumber({ tx }, { year: 2031 });
            // Hold the counter row a little, so the others really queue behind it.
            await sleep(i % 3);
            return number;
          }),
        ),
      );
      expect([...numbers].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `RLS-2031-${String(i + 1).padStart(6, '0')}`));
      expect(await counterValue(2031)).toBe(20);
    });

    it('gives the number of a rolled-back transaction to the next one, even one already waiting for it', async () => {
      const failure = new Error('issuing failed after the number was taken');
      await expect(
        db.withPlatform(async (tx) => {
          expect(await nextInvoiceNumber({ tx }, { year: 2032 })).toBe('RLS-2032-000001');
          throw failure;
        }),
      ).rejects.toBe(failure);

      let taken!: () => void;
      const numberTaken = new Promise<void>((resolve) => (taken = resolve));
      const rolledBack = db.withPlatform(async (tx) => {
        expect(await nextInvoiceNumber({ tx }, { year: 2032 })).toBe('RLS-2032-000001');
        taken();
        await sleep(50);
        throw failure;
      });
      await numberTaken;
      const waiting = db.withPlatform((tx) => nextInvoiceNumber({ tx }, { year: 2032 }));
      await expect(rolledBack).rejects.toBe(failure);
      expect(await waiting).toBe('RLS-2032-000001');
      expect(await counterValue(2032)).toBe(1);
    });

    it('counts each year separately', async () => {
      const [a, b] = await db.withPlatform(async (tx) => [
        await nextInvoiceNumber({ tx }, { year: 2033 }),
        await nextInvoiceNumber({ tx }, { year: 2034 }),
      ]);
      expect([a, b]).toEqual(['RLS-2033-000001', 'RLS-2034-000001']);
    });
  });

  describe('issueInvoice', () => {
    it('numbers the invoice, freezes the tenant as buyer, stores the row and its PDF', async () => {
      const issued = await issueInvoice(deps(), subscriptionFor(bepanda, '2026-04-01'));
      expect(issued.created).toBe(true);
      expect(issued.invoice).toMatchObject({
        tenantId: bepanda,
        number: 'RLS-2026-000001',
        kind: 'subscription',
        periodStart: '2026-04-01',
        periodEnd: '2026-04-28',
        amountXaf: 52_000,
        status: 'open',
        pdfKey: `invoices/${bepanda}/RLS-2026-000001.pdf`,
        paidAt: null,
      });
      expect(issued.invoice.issuedAt).toEqual(ISSUED_AT);
      expect(issued.document).toMatchObject({
        number: 'RLS-2026-000001',
        locale: 'fr',
        issueDate: '2026-04-01',
        buyer: { tenantId: bepanda, name: 'Wifi Zone Bépanda', email: 'owner@bepanda.cm', phone: '+237690123456' },
        seller: { name: 'Relais' },
        totals: { subtotalXaf: 52_000, vat: null, totalXaf: 52_000 },
        amountDueXaf: 52_000,
        status: { state: 'open', dueDate: '2026-04-08' },
      });

      const [row] = await db.withPlatform((tx) => tx.select().from(invoices).where(eq(invoices.id, issued.invoice.id)));
      expect(row!.document).toEqual(issued.document);
      expect(row!.pdfKey).toBe(issued.invoice.pdfKey);
      const stored = await fileStore.get(issued.invoice.pdfKey!);
      expect(stored!.contentType).toBe('application/pdf');
      expect(stored!.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    });

    it('returns the existing invoice for the same tenant, kind and period, without taking a number', async () => {
      const before = await counterValue(2026);
      const again = await issueInvoice(deps(), subscriptionFor(bepanda, '2026-04-01', { lines: [{ description: 'Other', quantity: 9, unitPriceXaf: 1 }] }));
      expect(again.created).toBe(false);
      expect(again.invoice.number).toBe('RLS-2026-000001');
      expect(again.invoice.amountXaf).toBe(52_000);
      expect(await counterValue(2026)).toBe(before);
    });

    it('lets exactly one of concurrent issuances for one period create the invoice, and leaves no gap', async () => {
      const before = await counterValue(2026);
      const results = await Promise.all(Array.from({ length: 6 }, () => issueInvoice(deps(), subscriptionFor(bepanda, '2026-05-01'))));
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(results.map((result) => result.invoice.id)).size).toBe(1);
      expect(results[0]!.invoice.number).toBe(`RLS-2026-${String(before + 1).padStart(6, '0')}`);
      expect(await counterValue(2026)).toBe(before + 1);
      const next = await issueInvoice(deps(), subscriptionFor(bepanda, '2026-06-01'));
      expect(next.invoice.number).toBe(`RLS-2026-${String(before + 2).padStart(6, '0')}`);
    });

    it('issues a commission statement, paid at source, in the tenant language and at its rate', async () => {
      const issued = await issueInvoice(deps(), {
        tenantId: akwa,
        kind: 'commission_statement',
        periodStart: '2026-03-01',
        periodEnd: '2026-03-31',
        lines: [
          { description: '01/03/2026', paymentsCount: 12, grossXaf: 9_000, commissionXaf: 900 },
          { description: '02/03/2026', paymentsCount: 30, grossXaf: 15_500, commissionXaf: 1_550 },
        ],
      });
      expect(issued.invoice).toMatchObject({ kind: 'commission_statement', amountXaf: 2_450, status: 'paid', paidAt: ISSUED_AT });
      expect(issued.document).toMatchObject({
        kind: 'commission_statement',
        locale: 'en',
        commissionRateBps: 1000,
        totals: { grossXaf: 24_500, subtotalXaf: 2_450, netXaf: 22_050, totalXaf: 2_450 },
        amountDueXaf: 0,
        status: { state: 'paid', paidOn: '2026-04-01' },
        buyer: { name: 'Hotspot Akwa', phone: null },
      });
    });

    it.each([
      ['no lines', { lines: [] }, /lines/],
      ['a fractional price', { lines: [{ description: 'x', quantity: 1, unitPriceXaf: 10.5 }] }, /unitPriceXaf/],
      ['a period that ends before it starts', { periodEnd: '2026-06-30' }, /periodEnd: period ends before it starts/],
      ['paidAt on an open invoice', { paidAt: new Date() }, /paidAt applies to a paid invoice only/],
      ['a bad date', { periodStart: '2026-13-01' }, /periodStart/],
    ])('refuses %s without taking a number', async (_why, overrides, message) => {
      const before = await counterValue(2026);
      const error = await errorOf(issueInvoice(deps(), subscriptionFor(bepanda, '2026-07-01', overrides as Partial<IssueInvoiceInput>)));
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.message).toMatch(message);
      expect(await counterValue(2026)).toBe(before);
    });

    it('refuses a commission above the amount collected', async () => {
      const error = await errorOf(
        issueInvoice(deps(), {
          tenantId: akwa,
          kind: 'commission_statement',
          periodStart: '2026-04-01',
          periodEnd: '2026-04-30',
          lines: [{ description: 'x', paymentsCount: 1, grossXaf: 100, commissionXaf: 101 }],
        }),
      );
      expect(error.code).toBe('VALIDATION_FAILED');
    });

    it('refuses an unknown tenant and rolls its number back', async () => {
      const before = await counterValue(2026);
      const error = await errorOf(issueInvoice(deps(), subscriptionFor('00000000-0000-4000-8000-000000000000', '2026-04-01')));
      expect(error.code).toBe('NOT_FOUND');
      expect(await counterValue(2026)).toBe(before);
    });

    it('keeps the invoice when its PDF cannot be stored, and stores it on retry', async () => {
      const failing: FileStore = { ...fileStore, put: () => Promise.reject(new Error('disk full')) };
      const error = await errorOf(issueInvoice({ db, fileStore: failing, clock: fixedClock }, subscriptionFor(bepanda, '2026-08-01')));
      expect(error.code).toBe('DEPENDENCY_UNAVAILABLE');
      expect(error.retryable).toBe(true);
      const [row] = await db.withPlatform((tx) => tx.select().from(invoices).where(eq(invoices.id, error.details!.invoiceId as string)));
      expect(row).toMatchObject({ number: error.details!.number, pdfKey: null });

      // Meanwhile the reseller can still download it: rendered again from the stored document.
      const pdf = await getInvoicePdf({ db, fileStore: failing }, { invoiceId: row!.id, tenantId: bepanda });
      expect(pdf.bytes.subarray(0, 5).toString()).toBe('%PDF-');

      const retried = await issueInvoice(deps(), subscriptionFor(bepanda, '2026-08-01'));
      expect(retried).toMatchObject({ created: false, invoice: { id: row!.id, pdfKey: invoicePdfKey(bepanda, row!.number) } });
      expect((await fileStore.get(retried.invoice.pdfKey!))!.bytes.equals(pdf.bytes)).toBe(true);
    });
  });

  describe('listInvoices', () => {
    it('lists newest first, per tenant or all, a page at a time', async () => {
      const laterClock: Clock = { now: () => new Date('2026-09-01T08:00:00Z') };
      await issueInvoice({ db, fileStore, clock: laterClock }, subscriptionFor(akwa, '2026-09-01'));

      const all = await listInvoices({ db }, { limit: 100 });
      const total = (await db.withPlatform((tx) => tx.select({ n: count() }).from(invoices)))[0]!.n;
      expect(all).toHaveLength(total);
      expect(all[0]!.periodStart).toBe('2026-09-01');
      for (let i = 1; i < all.length; i += 1) {
        const [newer, older] = [all[i - 1]!, all[i]!];
        expect(newer.issuedAt.getTime() > older.issuedAt.getTime() || (newer.issuedAt.getTime() === older.issuedAt.getTime() && newer.number > older.number)).toBe(true);
      }

      const mine = await listInvoices({ db }, { tenantId: bepanda });
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((invoice) => invoice.tenantId === bepanda)).toBe(true);
      expect(mine).toEqual(all.filter((invoice) => invoice.tenantId === bepanda));

      const paged: string[] = [];
      let before: string | undefined;
      for (;;) {
        const page = await listInvoices({ db }, { limit: 2, before });
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(2);
        paged.push(...page.map((invoice) => invoice.id));
        before = page.at(-1)!.id;
      }
      expect(paged).toEqual(all.map((invoice) => invoice.id));
    });

    it('refuses a limit out of range', async () => {
      expect((await errorOf(listInvoices({ db }, { limit: 0 }))).code).toBe('VALIDATION_FAILED');
      expect((await errorOf(listInvoices({ db }, { limit: 101 }))).code).toBe('VALIDATION_FAILED');
    });
  });

  describe('getInvoicePdf', () => {
    it("returns the stored PDF with a file name, and refuses another tenant's invoice as not found", async () => {
      const [invoice] = await listInvoices({ db }, { tenantId: bepanda, limit: 1 });
      const pdf = await getInvoicePdf({ db, fileStore }, { invoiceId: invoice!.id, tenantId: bepanda });
      expect(pdf.fileName).toBe(`${invoice!.number}.pdf`);
      expect(pdf.contentType).toBe('application/pdf');
      expect(pdf.bytes.equals((await fileStore.get(invoice!.pdfKey!))!.bytes)).toBe(true);

      for (const options of [
        { invoiceId: invoice!.id, tenantId: akwa },
        { invoiceId: '00000000-0000-4000-8000-000000000000', tenantId: bepanda },
        { invoiceId: 'not-a-uuid', tenantId: bepanda },
      ]) {
        expect((await errorOf(getInvoicePdf({ db, fileStore }, options))).code).toBe('NOT_FOUND');
      }
    });

    it('renders the PDF again, identically, when the file is gone, and stores it back', async () => {
      const [invoice] = await listInvoices({ db }, { tenantId: akwa, limit: 1 });
      const original = (await fileStore.get(invoice!.pdfKey!))!.bytes;
      await fileStore.delete(invoice!.pdfKey!);

      const pdf = await getInvoicePdf({ db, fileStore }, { invoiceId: invoice!.id, tenantId: akwa });
      expect(pdf.bytes.equals(original)).toBe(true);
      expect((await fileStore.get(invoice!.pdfKey!))!.bytes.equals(original)).toBe(true);
    });
  });
});
