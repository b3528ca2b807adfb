import { and, eq, or, sql } from 'drizzle-orm';
import { wifiPackages, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';

export interface ImportPackage {
  id: string;
  nameFr: string;
  nameEn: string;
}

/**
 * The package vouchers go into, named by id or by its French or English name (any case), within
 * the transaction's tenant. NOT_FOUND when none, CONFLICT when a name fits several.
 */
export async function findImportPackage(tx: Tx, tenantId: string, ref: { id: string } | { name: string }): Promise<ImportPackage> {
  const columns = { id: wifiPackages.id, nameFr: wifiPackages.nameFr, nameEn: wifiPackages.nameEn };
  if ('id' in ref) {
    const [found] = await tx.select(columns).from(wifiPackages).where(and(eq(wifiPackages.tenantId, tenantId), eq(wifiPackages.id, ref.id)));
    if (!found) throw new AppError('NOT_FOUND', `no WiFi package with id ${ref.id} for this tenant`);
    return found;
  }
  const name = ref.name.trim().toLowerCase();
  const matches = await tx
    .select(columns)
    .from(wifiPackages)
    .where(and(eq(wifiPackages.tenantId, tenantId), or(eq(sql`lower(${wifiPackages.nameFr})`, name), eq(sql`lower(${wifiPackages.nameEn})`, name))))
    .limit(2);
  if (matches.length === 0) throw new AppError('NOT_FOUND', `no WiFi package named "${ref.name}" for this tenant (French or English name)`);
  if (matches.length > 1) throw new AppError('CONFLICT', `several WiFi packages are named "${ref.name}"; name one by id`);
  return matches[0]!;
}
