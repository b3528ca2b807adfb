import { wifiPackages, type Database } from '@relais/db';

export interface TestPackage {
  id: string;
  nameFr: string;
  nameEn: string;
}

/**
 * A WiFi package row for tests, inserted directly (not through the packages use case, so tests of
 * other features do not depend on it): "1 jour" / "1 day", 500 FCFA, unless told otherwise.
 */
export async function insertWifiPackage(
  db: Database,
  tenantId: string,
  values: Partial<{ nameFr: string; nameEn: string; priceXaf: number; validityMinutes: number; mikrotikProfile: string }> = {},
): Promise<TestPackage> {
  return db.withTenant(tenantId, async (tx) => {
    const [row] = await tx
      .insert(wifiPackages)
      .values({
        tenantId,
        nameFr: values.nameFr ?? '1 jour',
        nameEn: values.nameEn ?? '1 day',
        priceXaf: values.priceXaf ?? 500,
        validityMinutes: values.validityMinutes ?? 24 * 60,
        mikrotikProfile: values.mikrotikProfile ?? '1jour',
      })
      .returning({ id: wifiPackages.id, nameFr: wifiPackages.nameFr, nameEn: wifiPackages.nameEn });
    return row!;
  });
}
