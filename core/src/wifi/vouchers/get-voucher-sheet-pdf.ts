import { and, asc, eq } from 'drizzle-orm';
import { mikrotikRouters, tenants, wifiPackages, wifiVouchers, VOUCHER_STATUSES, type Database } from '@relais/db';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import { renderVoucherSheetPdf } from './render-voucher-sheet-pdf.js';

const MAX_VOUCHERS_PER_SHEET = 10_000;

const sheetInput = z.object({
  tenantId: z.uuid(),
  packageId: z.uuid(),
  status: z.enum(VOUCHER_STATUSES, `must be one of ${VOUCHER_STATUSES.join(', ')}`).default('available'),
  locale: z.enum(['fr', 'en'], 'must be fr or en').default('fr'),
  limit: z.number().int().min(1).max(MAX_VOUCHERS_PER_SHEET).default(MAX_VOUCHERS_PER_SHEET),
});

/** The printable sheet of a package's vouchers (by default those still available), oldest first. */
export async function getVoucherSheetPdf(deps: { db: Database }, options: z.input<typeof sheetInput>): Promise<{ pdf: Buffer; count: number }> {
  const input = parseInput(sheetInput, options);
  const { tenantId, packageId } = input;
  const { tenant, pkg, vouchers } = await deps.db.withTenant(tenantId, async (tx) => {
    const [tenant] = await tx.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, tenantId));
    const [pkg] = await tx.select().from(wifiPackages).where(and(eq(wifiPackages.tenantId, tenantId), eq(wifiPackages.id, packageId)));
    if (!tenant || !pkg) throw new AppError('NOT_FOUND', `no package ${packageId}`);
    const vouchers = await tx
      .select({ username: wifiVouchers.username, password: wifiVouchers.password, dnsName: mikrotikRouters.dnsName })
      .from(wifiVouchers)
      .leftJoin(mikrotikRouters, and(eq(mikrotikRouters.tenantId, wifiVouchers.tenantId), eq(mikrotikRouters.id, wifiVouchers.routerId)))
      .where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.packageId, packageId), eq(wifiVouchers.status, input.status)))
      .orderBy(asc(wifiVouchers.createdAt), asc(wifiVouchers.username))
      .limit(input.limit);
    return { tenant, pkg, vouchers };
  });
  if (vouchers.length === 0) throw new AppError('NOT_FOUND', `no ${input.status} voucher for package "${pkg.nameFr}"`);
  const pdf = await renderVoucherSheetPdf(
    {
      tenantName: tenant.name,
      packageName: { fr: pkg.nameFr, en: pkg.nameEn },
      priceXaf: pkg.priceXaf,
      validityMinutes: pkg.validityMinutes,
      vouchers: vouchers.map((voucher) => ({ ...voucher, dnsName: voucher.dnsName || null })),
    },
    input.locale,
  );
  return { pdf, count: vouchers.length };
}
