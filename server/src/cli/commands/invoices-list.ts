import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AppError, formatXaf, listInvoices, listTenants } from '@relais/core';
import { openDatabase } from '@relais/db';
import type { Config } from '../../config.js';
import { parseFlags, printTable, type CliOutput } from '../output.js';

export const invoicesListUsage = 'relais invoices:list [--tenant SLUG] [--limit N] [--json]';

const flagsSchema = z.object({
  tenant: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** The newest invoices and commission statements, of every reseller or of one. */
export async function invoicesListCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { tenant: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const flags = parseFlags(flagsSchema, { tenant: values.tenant, limit: values.limit });
  const db = await openDatabase(config.database);
  try {
    const tenants = await listTenants({ db });
    const slugById = new Map(tenants.map((t) => [t.id, t.slug]));
    let tenantId: string | undefined;
    if (flags.tenant) {
      tenantId = tenants.find((t) => t.slug === flags.tenant)?.id;
      if (!tenantId) throw new AppError('NOT_FOUND', `no tenant with slug "${flags.tenant}" (see relais tenant:list)`);
    }
    const invoices = await listInvoices({ db }, { tenantId, limit: flags.limit });
    if (values.json) {
      output.out(JSON.stringify(invoices.map((invoice) => ({ ...invoice, tenantSlug: slugById.get(invoice.tenantId) ?? null }))));
      return;
    }
    if (invoices.length === 0) {
      output.out('No invoices yet.');
      return;
    }
    const header = ['NUMBER', 'TENANT', 'KIND', 'PERIOD', 'AMOUNT', 'STATUS'];
    const rows = invoices.map((invoice) => [
      invoice.number,
      slugById.get(invoice.tenantId) ?? invoice.tenantId,
      invoice.kind,
      `${invoice.periodStart}..${invoice.periodEnd}`,
      formatXaf(invoice.amountXaf, 'fr'),
      invoice.status,
    ]);
    printTable(output, header, rows);
  } finally {
    await db.close();
  }
}
