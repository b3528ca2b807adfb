import { and, eq } from 'drizzle-orm';
import { wifiPackages, type Database } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import { updatePackageInput, type UpdatePackageInput } from './package-input.js';
import { assertPackageNamesFree, loadPackages, resolveRouters, setPackageRouters, type WifiPackage } from './wifi-package.js';

/**
 * Changes the given fields of a package (omitted ones stay). Vouchers already in stock keep the
 * limits they were created with on the router; price and validity apply to the next sale.
 */
export async function updatePackage(deps: { db: Database }, options: UpdatePackageInput): Promise<WifiPackage> {
  const input = parseInput(updatePackageInput, options);
  const { tenantId, packageId } = input;
  return deps.db.withTenant(tenantId, async (tx) => {
    const [current] = await tx
      .select()
      .from(wifiPackages)
      .where(and(eq(wifiPackages.tenantId, tenantId), eq(wifiPackages.id, packageId)))
      .for('update');
    if (!current) throw new AppError('NOT_FOUND', `no package ${packageId}`);
    if (input.nameFr !== undefined || input.nameEn !== undefined) {
      await assertPackageNamesFree(tx, tenantId, { nameFr: input.nameFr ?? current.nameFr, nameEn: input.nameEn ?? current.nameEn }, packageId);
    }
    const changes = Object.fromEntries(
      (
        [
          'nameFr',
          'nameEn',
          'priceXaf',
          'validityMinutes',
          'timeLimitSeconds',
          'dataLimitBytes',
          'mikrotikProfile',
          'rateLimit',
          'lowStockThreshold',
          'generateOnDemand',
          'active',
        ] as const
      )
        .filter((field) => input[field] !== undefined)
        .map((field) => [field, input[field]]),
    );
    await tx
      .update(wifiPackages)
      .set({ ...changes, updatedAt: new Date() })
      .where(and(eq(wifiPackages.tenantId, tenantId), eq(wifiPackages.id, packageId)));
    if (input.routerIds !== undefined || input.routerNames !== undefined) {
      await setPackageRouters(tx, tenantId, packageId, await resolveRouters(tx, tenantId, input.routerIds ?? [], input.routerNames ?? []));
    }
    return (await loadPackages(tx, tenantId, [packageId]))[0]!;
  });
}
