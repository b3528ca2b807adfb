import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { invoices, type Database } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import type { InvoiceKind } from './invoice-document.js';

/** An invoice as lists and APIs show it; the full document stays in the row (see getInvoicePdf). */
export interface InvoiceSummary {
  id: string;
  tenantId: string;
  number: string;
  kind: InvoiceKind;
  periodStart: string;
  periodEnd: string;
  amountXaf: number;
  status: 'open' | 'paid' | 'void';
  pdfKey: string | null;
  issuedAt: Date;
  paidAt: Date | null;
}

export const invoiceSummaryColumns = {
  id: invoices.id,
  tenantId: invoices.tenantId,
  number: invoices.number,
  kind: invoices.kind,
  periodStart: invoices.periodStart,
  periodEnd: invoices.periodEnd,
  amountXaf: invoices.amountXaf,
  status: invoices.status,
  pdfKey: invoices.pdfKey,
  issuedAt: invoices.issuedAt,
  paidAt: invoices.paidAt,
};

const CURSOR_ALIAS = 'page_cursor';

export const listInvoicesInput = z.object({
  /** One reseller's invoices; omitted = every tenant's (platform back office). */
  tenantId: z.uuid().optional(),
  limit: z.number().int().min(1).max(100).default(20),
  /** Keyset cursor: the id of the last invoice of the previous page. */
  before: z.uuid().optional(),
});
export type ListInvoicesInput = z.input<typeof listInvoicesInput>;

/**
 * Invoices newest first (issue time, then number), a page at a time. Paging by cursor rather
 * than offset so a page never repeats or skips a row when invoices are issued meanwhile.
 */
export async function listInvoices(deps: { db: Database }, options: ListInvoicesInput = {}): Promise<InvoiceSummary[]> {
  const parsed = listInvoicesInput.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('VALIDATION_FAILED', `${issue.path.join('.') || 'input'}: ${issue.message}`);
  }
  const { tenantId, limit, before } = parsed.data;
  const conditions: SQL[] = [];
  if (tenantId) conditions.push(eq(invoices.tenantId, tenantId));
  if (before) {
    // An unknown cursor (or another tenant's) matches nothing: the page is empty, not wrong.
    const cursor = alias(invoices, CURSOR_ALIAS);
    const cursorConditions = [eq(cursor.id, before), ...(tenantId ? [eq(cursor.tenantId, tenantId)] : [])];
    conditions.push(
      sql`(${invoices.issuedAt}, ${invoices.number}) < (select ${cursor.issuedAt}, ${cursor.number} from ${invoices} as ${sql.identifier(CURSOR_ALIAS)} where ${and(...cursorConditions)})`,
    );
  }
  return deps.db.withPlatform((tx) =>
    tx
      .select(invoiceSummaryColumns)
      .from(invoices)
      .where(and(...conditions))
      .orderBy(desc(invoices.issuedAt), desc(invoices.number))
      .limit(limit),
  );
}
