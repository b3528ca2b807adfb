import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { invoices, tenants, violatedUniqueConstraint, type Database } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { FileStore } from '../../shared/ports/file-store.js';
import {
  buildInvoiceDocument,
  DEFAULT_PLATFORM_SELLER,
  invoiceDocumentSchema,
  type InvoiceDocument,
  type PlatformSeller,
} from './invoice-document.js';
import { invoiceSummaryColumns, type InvoiceSummary } from './list-invoices.js';
import { nextInvoiceNumber } from './next-invoice-number.js';
import { renderInvoicePdf } from './render-invoice-pdf.js';
import { parseInput } from '../../shared/parse-input.js';

/** Invoices are dated, numbered by year and due in the platform's time zone. */
export const INVOICE_TIME_ZONE = 'Africa/Douala';
export const DEFAULT_PAYMENT_TERM_DAYS = 7;
export const INVOICE_PDF_CONTENT_TYPE = 'application/pdf';

const isoDate = z.iso.date();
const xaf = z.number().int().min(0).max(1_000_000_000);
const description = z.string().trim().min(1).max(200);

const common = {
  tenantId: z.uuid(),
  periodStart: isoDate,
  periodEnd: isoDate,
  /**
   * Default: subscription invoices are issued open (the reseller pays by Mobile Money);
   * commission statements paid, because the commission was kept at source when the platform
   * collected the customers' payments (DESIGN.md: 90/10 split in the ledger).
   */
  status: z.enum(['open', 'paid']).optional(),
  /** When it was paid (status paid); default: now. */
  paidAt: z.date().optional(),
  /** For open invoices; default: issue date + DEFAULT_PAYMENT_TERM_DAYS. */
  dueDate: isoDate.optional(),
};

export const issueInvoiceInput = z
  .discriminatedUnion('kind', [
    z.object({
      ...common,
      kind: z.literal('subscription'),
      lines: z.array(z.object({ description, quantity: z.number().int().min(1).max(10_000), unitPriceXaf: xaf })).min(1).max(200),
    }),
    z.object({
      ...common,
      kind: z.literal('commission_statement'),
      lines: z
        .array(
          z
            .object({ description, paymentsCount: z.number().int().min(0).max(1_000_000), grossXaf: xaf, commissionXaf: xaf })
            .refine((line) => line.commissionXaf <= line.grossXaf, { message: 'commission cannot exceed the gross amount' }),
        )
        .min(1)
        .max(5_000),
    }),
  ])
  .superRefine((input, ctx) => {
    if (input.periodEnd < input.periodStart) ctx.addIssue({ code: 'custom', path: ['periodEnd'], message: 'period ends before it starts' });
    const status = input.status ?? defaultStatus(input.kind);
    if (status !== 'paid' && input.paidAt) ctx.addIssue({ code: 'custom', path: ['paidAt'], message: 'paidAt applies to a paid invoice only' });
    if (status !== 'open' && input.dueDate) ctx.addIssue({ code: 'custom', path: ['dueDate'], message: 'dueDate applies to an open invoice only' });
  });
export type IssueInvoiceInput = z.input<typeof issueInvoiceInput>;

export interface IssuedInvoice {
  invoice: InvoiceSummary;
  document: InvoiceDocument;
  /** false when the invoice for this tenant, kind and period already existed and is returned as is. */
  created: boolean;
}

export interface IssueInvoiceDeps {
  db: Database;
  fileStore: FileStore;
  clock: Clock;
  /** The platform's legal details as printed; from configuration. */
  seller?: PlatformSeller;
}

/** Where an invoice's PDF lives in the file store. */
export function invoicePdfKey(tenantId: string, number: string): string {
  return `invoices/${tenantId}/${number}.pdf`;
}

/**
 * Issues the invoice (or commission statement) of one tenant for one period.
 *
 * One platform transaction takes the next gap-free number, snapshots the tenant as buyer and
 * inserts the row with its document. The PDF is rendered and stored after commit, so the
 * counter row stays locked only for a few statements and a rolled-back number never leaves a
 * file behind. If storing fails the invoice still exists (numbers are never taken back): this
 * throws DEPENDENCY_UNAVAILABLE, a retry stores the PDF, and getInvoicePdf re-renders it from the
 * document meanwhile.
 *
 * Idempotent per (tenant, kind, periodStart) — the invoices_period_key unique index: a second
 * call, even a concurrent one, returns the invoice issued first, whatever its own lines say.
 */
export async function issueInvoice(deps: IssueInvoiceDeps, options: IssueInvoiceInput): Promise<IssuedInvoice> {
  const input = parseInput(issueInvoiceInput, options);
  const existing = await findIssued(deps.db, input);
  if (existing) return storePdfIfMissing(deps, { ...existing, created: false });

  const now = deps.clock.now();
  const issueDate = dateIn(INVOICE_TIME_ZONE, now);
  const status = input.status ?? defaultStatus(input.kind);
  const paidAt = status === 'paid' ? (input.paidAt ?? now) : null;
  const seller = deps.seller ?? DEFAULT_PLATFORM_SELLER;

  let issued: Omit<IssuedInvoice, 'created'>;
  try {
    issued = await deps.db.withPlatform(async (tx) => {
      const [tenant] = await tx
        .select({
          id: tenants.id,
          name: tenants.name,
          email: tenants.email,
          phone: tenants.billingPhone,
          locale: tenants.defaultLocale,
          commissionRateBps: tenants.commissionRateBps,
        })
        .from(tenants)
        .where(eq(tenants.id, input.tenantId));
      if (!tenant) throw new AppError('NOT_FOUND', `tenant ${input.tenantId} not found`);

      const number = await nextInvoiceNumber({ tx }, { year: Number(issueDate.slice(0, 4)) });
      const common = {
        number,
        locale: tenant.locale,
        issueDate,
        period: { start: input.periodStart, end: input.periodEnd },
        seller,
        buyer: { tenantId: tenant.id, name: tenant.name, email: tenant.email, phone: tenant.phone },
        status: paidAt
          ? { state: 'paid' as const, paidOn: dateIn(INVOICE_TIME_ZONE, paidAt) }
          : { state: 'open' as const, dueDate: input.dueDate ?? addDays(issueDate, DEFAULT_PAYMENT_TERM_DAYS) },
      };
      const document =
        input.kind === 'subscription'
          ? buildInvoiceDocument({ ...common, kind: 'subscription', lines: input.lines })
          : buildInvoiceDocument({ ...common, kind: 'commission_statement', commissionRateBps: tenant.commissionRateBps, lines: input.lines });

      const [invoice] = await tx
        .insert(invoices)
        .values({
          tenantId: tenant.id,
          number,
          kind: input.kind,
          periodStart: input.periodStart,
          periodEnd: input.periodEnd,
          amountXaf: document.totals.totalXaf,
          status,
          document,
          issuedAt: now,
          paidAt,
        })
        .returning(invoiceSummaryColumns);
      return { invoice: invoice!, document };
    });
  } catch (error) {
    // A concurrent call issued this period first; our transaction (and its number) rolled back.
    if (violatedUniqueConstraint(error) === 'invoices_period_key') {
      const winner = await findIssued(deps.db, input);
      if (winner) return storePdfIfMissing(deps, { ...winner, created: false });
    }
    throw error;
  }
  return storePdfIfMissing(deps, { ...issued, created: true });
}

function defaultStatus(kind: 'subscription' | 'commission_statement'): 'open' | 'paid' {
  return kind === 'commission_statement' ? 'paid' : 'open';
}

async function findIssued(
  db: Database,
  input: { tenantId: string; kind: 'subscription' | 'commission_statement'; periodStart: string },
): Promise<Omit<IssuedInvoice, 'created'> | undefined> {
  const [row] = await db.withPlatform((tx) =>
    tx
      .select({ ...invoiceSummaryColumns, document: invoices.document })
      .from(invoices)
      .where(and(eq(invoices.tenantId, input.tenantId), eq(invoices.kind, input.kind), eq(invoices.periodStart, input.periodStart))),
  );
  if (!row) return undefined;
  const { document, ...invoice } = row;
  const parsed = invoiceDocumentSchema.safeParse(document);
  if (!parsed.success) {
    // Only rows written before invoices carried their document can fail here.
    throw new AppError('CONFLICT', `invoice ${invoice.number} already covers this period but has no printable document`, {
      details: { invoiceId: invoice.id, number: invoice.number },
    });
  }
  return { invoice, document: parsed.data };
}

async function storePdfIfMissing(deps: IssueInvoiceDeps, issued: IssuedInvoice): Promise<IssuedInvoice> {
  if (issued.invoice.pdfKey) return issued;
  const { invoice, document } = issued;
  const key = invoicePdfKey(invoice.tenantId, invoice.number);
  try {
    await deps.fileStore.put(key, await renderInvoicePdf(document, document.locale), INVOICE_PDF_CONTENT_TYPE);
    await deps.db.withPlatform((tx) => tx.update(invoices).set({ pdfKey: key }).where(eq(invoices.id, invoice.id)));
  } catch (error) {
    throw new AppError('DEPENDENCY_UNAVAILABLE', `invoice ${invoice.number} is issued but its PDF could not be stored; issuing again stores it`, {
      cause: error,
      details: { invoiceId: invoice.id, number: invoice.number },
    });
  }
  return { ...issued, invoice: { ...invoice, pdfKey: key } };
}

/** YYYY-MM-DD of `instant` on the wall calendar of `timeZone`. */
function dateIn(timeZone: string, instant: Date): string {
  const parts = new Intl.DateTimeFormat('en', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

function addDays(isoDate: string, days: number): string {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}
