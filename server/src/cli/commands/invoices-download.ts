import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AppError, createLocalDiskFileStore, getInvoicePdf, INVOICE_NUMBER_PATTERN, listInvoices, type InvoiceSummary } from '@relais/core';
import { openDatabase, type Database } from '@relais/db';
import type { Config } from '../../config.js';
import { parseFlags, type CliOutput } from '../output.js';

export const invoicesDownloadUsage = 'relais invoices:download --number RLS-YYYY-NNNNNN [--out FILE] [--force]';

const flagsSchema = z.object({
  number: z.string({ error: 'is required' }).regex(INVOICE_NUMBER_PATTERN, { message: 'must look like RLS-2026-000123' }),
  out: z.string().min(1).optional(),
});
const PAGE_SIZE = 100;

/**
 * Writes the PDF of one invoice or commission statement (the stored file, or the document
 * rendered again) to `--out`, by default ./<number>.pdf, and prints the path. An existing file
 * is left alone unless --force.
 */
export async function invoicesDownloadCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { number: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean', default: false } },
  });
  const flags = parseFlags(flagsSchema, { number: values.number, out: values.out });
  const { number } = flags;
  const target = resolve(flags.out ?? `${number}.pdf`);
  const db = await openDatabase(config.database);
  try {
    const invoice = await findInvoiceByNumber(db, number);
    if (!invoice) throw new AppError('NOT_FOUND', `no invoice numbered ${number}`);
    const pdf = await getInvoicePdf({ db, fileStore: createLocalDiskFileStore(config.filesDir) }, { invoiceId: invoice.id, tenantId: invoice.tenantId });
    try {
      // 'wx' fails if the file exists: the check and the write are one step.
      await writeFile(target, pdf.bytes, { flag: values.force ? 'w' : 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new AppError('CONFLICT', `${target} already exists; pass --force to overwrite it`);
      throw error;
    }
    output.out(target);
  } finally {
    await db.close();
  }
}

/**
 * Pages through listInvoices (newest first) for `number`. Numbers are taken in the year of
 * issue, so once a page reaches invoices issued in an earlier year the number cannot follow.
 * Linear in the invoices issued since; good enough for the owner's occasional download.
 */
async function findInvoiceByNumber(db: Database, number: string): Promise<InvoiceSummary | undefined> {
  const year = Number(INVOICE_NUMBER_PATTERN.exec(number)![1]);
  let before: string | undefined;
  for (;;) {
    const page = await listInvoices({ db }, { limit: PAGE_SIZE, ...(before ? { before } : {}) });
    const found = page.find((invoice) => invoice.number === number);
    if (found) return found;
    const last = page.at(-1);
    if (page.length < PAGE_SIZE || !last || Number(last.number.slice(4, 8)) < year) return undefined;
    before = last.id;
  }
}
