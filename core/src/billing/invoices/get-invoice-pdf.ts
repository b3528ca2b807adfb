import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { invoices, type Database } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import type { FileStore } from '../../shared/ports/file-store.js';
import { invoiceDocumentSchema } from './invoice-document.js';
import { INVOICE_PDF_CONTENT_TYPE, invoicePdfKey } from './issue-invoice.js';
import { renderInvoicePdf } from './render-invoice-pdf.js';

export const getInvoicePdfInput = z.object({ invoiceId: z.uuid(), tenantId: z.uuid() });
export type GetInvoicePdfInput = z.input<typeof getInvoicePdfInput>;

export interface InvoicePdf {
  bytes: Buffer;
  /** e.g. RLS-2026-000123.pdf */
  fileName: string;
  contentType: typeof INVOICE_PDF_CONTENT_TYPE;
}

/**
 * The PDF of one of `tenantId`'s invoices. Another tenant's invoice is NOT_FOUND, exactly like a
 * missing one, so ids cannot be probed.
 *
 * The stored file is served when there is one. When there is none — issueInvoice committed the
 * invoice but storing its PDF failed, or the file was lost — the PDF is rendered again from the
 * document frozen in the row (the same bytes: rendering is deterministic) and stored for next
 * time. A failure to store it again does not fail the download.
 */
export async function getInvoicePdf(deps: { db: Database; fileStore: FileStore }, options: GetInvoicePdfInput): Promise<InvoicePdf> {
  const parsed = getInvoicePdfInput.safeParse(options);
  if (!parsed.success) throw new AppError('NOT_FOUND', 'invoice not found');
  const { invoiceId, tenantId } = parsed.data;

  const [row] = await deps.db.withPlatform((tx) =>
    tx
      .select({ id: invoices.id, tenantId: invoices.tenantId, number: invoices.number, pdfKey: invoices.pdfKey, document: invoices.document })
      .from(invoices)
      .where(and(eq(invoices.id, invoiceId), eq(invoices.tenantId, tenantId))),
  );
  if (!row) throw new AppError('NOT_FOUND', 'invoice not found', { details: { invoiceId } });
  const fileName = `${row.number}.pdf`;

  const stored = row.pdfKey ? await deps.fileStore.get(row.pdfKey) : undefined;
  if (stored) return { bytes: stored.bytes, fileName, contentType: INVOICE_PDF_CONTENT_TYPE };

  const document = invoiceDocumentSchema.safeParse(row.document);
  if (!document.success) {
    throw new AppError('INTERNAL', `invoice ${row.number} has neither a stored PDF nor a printable document`, { cause: document.error });
  }
  const bytes = await renderInvoicePdf(document.data, document.data.locale);
  await repairStoredPdf(deps, row, bytes).catch(() => {
    // Best effort: the caller gets the right bytes either way, and the next download tries again.
  });
  return { bytes, fileName, contentType: INVOICE_PDF_CONTENT_TYPE };
}

async function repairStoredPdf(
  deps: { db: Database; fileStore: FileStore },
  row: { id: string; tenantId: string; number: string; pdfKey: string | null },
  bytes: Buffer,
): Promise<void> {
  const key = row.pdfKey ?? invoicePdfKey(row.tenantId, row.number);
  await deps.fileStore.put(key, bytes, INVOICE_PDF_CONTENT_TYPE);
  if (!row.pdfKey) await deps.db.withPlatform((tx) => tx.update(invoices).set({ pdfKey: key }).where(eq(invoices.id, row.id)));
}
