import { wifiPackages, type Database } from '@relais/db';
import { parseInput } from '../../shared/parse-input.js';
import { createPackageInput, type CreatePackageInput } from './package-input.js';
import { assertPackageNamesFree, loadPackages, resolveRouters, setPackageRouters, type WifiPackage } from './wifi-package.js';

/** Creates a WiFi package and the set of routers it is sold on, in one transaction. */
export async function createPackage(deps: { db: Database }, options: CreatePackageInput): Promise<WifiPackage> {
  const input = parseInput(createPackageInput, options);
  return deps.db.withTenant(input.tenantId, async (tx) => {
    await assertPackageNamesFree(tx, input.tenantId, input);
    const routerIds = await resolveRouters(tx, input.tenantId, input.routerIds, input.routerNames);
    const [row] = await tx
      .insert(wifiPackages)
      .values({
        tenantId: input.tenantId,
        nameFr: input.nameFr,
        nameEn: input.nameEn,
        priceXaf: input.priceXaf,
        validityMinutes: input.validityMinutes,
        timeLimitSeconds: input.timeLimitSeconds ?? null,
        dataLimitBytes: input.dataLimitBytes ?? null,
        mikrotikProfile: input.mikrotikProfile,
        rateLimit: input.rateLimit ?? null,
        lowStockThreshold: input.lowStockThreshold,
        generateOnDemand: input.generateOnDemand,
        active: input.active,
      })
      .returning({ id: wifiPackages.id });
    await setPackageRouters(tx, input.tenantId, row!.id, routerIds);
    return (await loadPackages(tx, input.tenantId, [row!.id]))[0]!;
  });
}
