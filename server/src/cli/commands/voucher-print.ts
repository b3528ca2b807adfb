import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AppError, findPackageByName, findTenantBySlug, getVoucherSheetPdf, VOUCHERS_PER_SHEET_PAGE } from '@relais/core';
import { VOUCHER_STATUSES } from '@relais/db';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { withCliContext } from '../cli-context.js';
import { parseFlags, type CliOutput } from '../output.js';

export const voucherPrintUsage =
  'relais voucher:print --tenant SLUG --package NAME --out FILE.pdf [--status available|sold|active|expired|disabled] [--locale fr|en] [--limit N] [--force]';

const flagsSchema = z.object({
  tenant: z.string({ error: '--tenant is required' }),
  package: z.string({ error: '--package is required' }),
  out: z.string({ error: '--out is required' }).min(1),
  status: z.enum(VOUCHER_STATUSES, `--status must be one of ${VOUCHER_STATUSES.join(', ')}`).optional(),
  locale: z.enum(['fr', 'en'], '--locale must be fr or en').optional(),
  limit: z.string().regex(/^\d+$/, '--limit must be a whole number').transform(Number).optional(),
});

/** Writes an A4 PDF of voucher cards (QR, code, package, price, validity) to print and cut. */
export async function voucherPrintCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      package: { type: 'string' },
      out: { type: 'string' },
      status: { type: 'string' },
      locale: { type: 'string' },
      limit: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  const parsed = parseFlags(flagsSchema, values);
  const target = resolve(parsed.out);
  await withCliContext(config, async (context) => {
    const tenant = await findTenantBySlug(context, parsed.tenant);
    const pkg = await findPackageByName(context, { tenantId: tenant.id, name: parsed.package });
    const sheet = await getVoucherSheetPdf(context, {
      tenantId: tenant.id,
      packageId: pkg.id,
      status: parsed.status,
      locale: parsed.locale ?? tenant.defaultLocale,
      limit: parsed.limit,
    });
    try {
      // 'wx' fails if the file exists: the check and the write are one step.
      await writeFile(target, sheet.pdf, { flag: values.force ? 'w' : 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new AppError('CONFLICT', `${target} already exists; pass --force to overwrite it`);
      throw error;
    }
    output.out(`${target}: ${sheet.count} vouchers on ${Math.ceil(sheet.count / VOUCHERS_PER_SHEET_PAGE)} pages`);
  });
}
