import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { mikrotikRouters, wifiPackageRouters, wifiPackages, wifiVouchers, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import type { BilingualText } from '../../shared/bilingual-text.js';

/** A WiFi package as the rest of the application sees it. */
export interface WifiPackage {
  id: string;
  tenantId: string;
  name: BilingualText;
  priceXaf: number;
  validityMinutes: number;
  timeLimitSeconds: number | null;
  dataLimitBytes: number | null;
  mikrotikProfile: string;
  rateLimit: string | null;
  lowStockThreshold: number;
  generateOnDemand: boolean;
  active: boolean;
  routers: { id: string; name: string }[];
  /** Vouchers by status (available = stock left to sell). */
  stock: { available: number; sold: number; active: number; expired: number; disabled: number };
  createdAt: Date;
}

type PackageRow = typeof wifiPackages.$inferSelect;

/** Loads packages (all of the tenant's, or those ids) with their routers and stock counts. */
export async function loadPackages(tx: Tx, tenantId: string, packageIds?: readonly string[]): Promise<WifiPackage[]> {
  const rows = await tx
    .select()
    .from(wifiPackages)
    .where(and(eq(wifiPackages.tenantId, tenantId), packageIds ? inArray(wifiPackages.id, [...packageIds]) : undefined))
    .orderBy(asc(wifiPackages.priceXaf), asc(wifiPackages.nameFr));
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const routers = await tx
    .select({ packageId: wifiPackageRouters.packageId, id: mikrotikRouters.id, name: mikrotikRouters.name })
    .from(wifiPackageRouters)
    .innerJoin(mikrotikRouters, and(eq(mikrotikRouters.tenantId, wifiPackageRouters.tenantId), eq(mikrotikRouters.id, wifiPackageRouters.routerId)))
    .where(and(eq(wifiPackageRouters.tenantId, tenantId), inArray(wifiPackageRouters.packageId, ids)))
    .orderBy(asc(mikrotikRouters.name));
  const counts = await tx
    .select({ packageId: wifiVouchers.packageId, status: wifiVouchers.status, count: sql<number>`count(*)::int` })
    .from(wifiVouchers)
    .where(and(eq(wifiVouchers.tenantId, tenantId), inArray(wifiVouchers.packageId, ids)))
    .groupBy(wifiVouchers.packageId, wifiVouchers.status);
  return rows.map((row) => toPackage(row, routers.filter((r) => r.packageId === row.id), counts.filter((c) => c.packageId === row.id)));
}

function toPackage(row: PackageRow, routers: { id: string; name: string }[], counts: { status: string; count: number }[]): WifiPackage {
  const stock = { available: 0, sold: 0, active: 0, expired: 0, disabled: 0 };
  for (const { status, count } of counts) stock[status as keyof typeof stock] = Number(count);
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: { fr: row.nameFr, en: row.nameEn },
    priceXaf: row.priceXaf,
    validityMinutes: row.validityMinutes,
    timeLimitSeconds: row.timeLimitSeconds,
    dataLimitBytes: row.dataLimitBytes,
    mikrotikProfile: row.mikrotikProfile,
    rateLimit: row.rateLimit,
    lowStockThreshold: row.lowStockThreshold,
    generateOnDemand: row.generateOnDemand,
    active: row.active,
    routers: routers.map(({ id, name }) => ({ id, name })),
    stock,
    createdAt: row.createdAt,
  };
}

/** The tenant's routers with these ids or names; an unknown one is a VALIDATION_FAILED naming it. */
export async function resolveRouters(tx: Tx, tenantId: string, routerIds: readonly string[], routerNames: readonly string[]): Promise<string[]> {
  const resolved = new Set<string>();
  if (routerIds.length > 0) {
    const found = await tx
      .select({ id: mikrotikRouters.id })
      .from(mikrotikRouters)
      .where(and(eq(mikrotikRouters.tenantId, tenantId), inArray(mikrotikRouters.id, [...routerIds])));
    const missing = routerIds.filter((id) => !found.some((row) => row.id === id));
    if (missing.length > 0) throw new AppError('VALIDATION_FAILED', `routers: no router with id ${missing[0]}`);
    for (const row of found) resolved.add(row.id);
  }
  if (routerNames.length > 0) {
    const lowered = routerNames.map((name) => name.toLowerCase());
    const found = await tx
      .select({ id: mikrotikRouters.id, name: mikrotikRouters.name })
      .from(mikrotikRouters)
      .where(and(eq(mikrotikRouters.tenantId, tenantId), inArray(sql`lower(${mikrotikRouters.name})`, lowered)));
    for (const name of routerNames) {
      const matches = found.filter((row) => row.name.toLowerCase() === name.toLowerCase());
      if (matches.length === 0) throw new AppError('VALIDATION_FAILED', `routers: no router named "${name}"`);
      if (matches.length > 1) throw new AppError('VALIDATION_FAILED', `routers: several routers are named "${name}"; use their ids`);
      resolved.add(matches[0]!.id);
    }
  }
  return [...resolved];
}

/** Two packages of a tenant may not share a name in either language: people pick them by name. */
export async function assertPackageNamesFree(tx: Tx, tenantId: string, names: { nameFr: string; nameEn: string }, exceptPackageId?: string): Promise<void> {
  const lowered = [names.nameFr.toLowerCase(), names.nameEn.toLowerCase()];
  const clashes = await tx
    .select({ id: wifiPackages.id, nameFr: wifiPackages.nameFr, nameEn: wifiPackages.nameEn })
    .from(wifiPackages)
    .where(
      and(
        eq(wifiPackages.tenantId, tenantId),
        sql`(lower(${wifiPackages.nameFr}) in (${sql.join(lowered.map((n) => sql`${n}`), sql`, `)}) or lower(${wifiPackages.nameEn}) in (${sql.join(lowered.map((n) => sql`${n}`), sql`, `)}))`,
      ),
    );
  const clash = clashes.find((row) => row.id !== exceptPackageId);
  if (clash) throw new AppError('CONFLICT', `a package named "${clash.nameFr}" / "${clash.nameEn}" already exists`);
}

/** Replaces the routers a package is sold on. */
export async function setPackageRouters(tx: Tx, tenantId: string, packageId: string, routerIds: readonly string[]): Promise<void> {
  await tx.delete(wifiPackageRouters).where(and(eq(wifiPackageRouters.tenantId, tenantId), eq(wifiPackageRouters.packageId, packageId)));
  if (routerIds.length > 0) await tx.insert(wifiPackageRouters).values(routerIds.map((routerId) => ({ tenantId, packageId, routerId })));
}
