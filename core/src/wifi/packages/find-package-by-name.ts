import type { Database } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { loadPackages, type WifiPackage } from './wifi-package.js';

/** The package an operator names (French or English name, any case); NOT_FOUND lists the names there are. */
export async function findPackageByName(deps: { db: Database }, options: { tenantId: string; name: string }): Promise<WifiPackage> {
  const packages = await deps.db.withTenant(options.tenantId, (tx) => loadPackages(tx, options.tenantId));
  const wanted = options.name.trim().toLowerCase();
  const found = packages.find((item) => item.name.fr.toLowerCase() === wanted || item.name.en.toLowerCase() === wanted);
  if (!found) {
    const names = packages.map((item) => `"${item.name.fr}"`).join(', ') || 'none yet (see relais package:create)';
    throw new AppError('NOT_FOUND', `no package named "${options.name}"; packages: ${names}`);
  }
  return found;
}
