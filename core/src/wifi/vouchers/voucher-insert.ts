import { and, asc, eq } from 'drizzle-orm';
import { mikrotikRouters, wifiPackageRouters, wifiVouchers, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { randomVoucherCode, type VoucherAlphabet } from './voucher-codes.js';

/** Rounds of "draw the missing codes, insert, keep what did not collide" before giving up. */
const MAX_COLLISION_ROUNDS = 32;
/** Rows per INSERT: well under PostgreSQL's 65 535 bind parameters. */
const INSERT_CHUNK = 1_000;

export interface CodeShape {
  alphabet: VoucherAlphabet;
  length: number;
  prefix: string;
  separatePassword: boolean;
}

type NewVoucher = Omit<typeof wifiVouchers.$inferInsert, 'username' | 'password'>;

/**
 * Inserts `count` vouchers with fresh random codes, unique per tenant: a code already taken (by
 * any voucher of the tenant, or earlier in this batch) is skipped by ON CONFLICT DO NOTHING and
 * drawn again. Runs in the caller's transaction, so a failure leaves no partial batch.
 */
export async function insertVouchersWithFreshCodes(
  tx: Tx,
  shape: CodeShape,
  count: number,
  template: NewVoucher,
): Promise<{ id: string; username: string; password: string }[]> {
  const inserted: { id: string; username: string; password: string }[] = [];
  for (let round = 0; round < MAX_COLLISION_ROUNDS && inserted.length < count; round += 1) {
    const drawn = new Map<string, string>();
    while (drawn.size < count - inserted.length) {
      const username = shape.prefix + randomVoucherCode(shape.alphabet, shape.length);
      drawn.set(username, shape.separatePassword ? randomVoucherCode(shape.alphabet, shape.length) : username);
    }
    const rows = [...drawn].map(([username, password]) => ({ ...template, username, password }));
    for (let offset = 0; offset < rows.length; offset += INSERT_CHUNK) {
      const kept = await tx
        .insert(wifiVouchers)
        .values(rows.slice(offset, offset + INSERT_CHUNK))
        .onConflictDoNothing({ target: [wifiVouchers.tenantId, wifiVouchers.username] })
        .returning({ id: wifiVouchers.id, username: wifiVouchers.username, password: wifiVouchers.password });
      inserted.push(...kept);
    }
  }
  if (inserted.length < count) {
    throw new AppError('CONFLICT', `could only find ${inserted.length} unused codes of ${count} after ${MAX_COLLISION_ROUNDS} attempts; use a longer code or another prefix`);
  }
  return inserted;
}

/**
 * The router new vouchers of a package go to: the one asked for (it must sell the package), the
 * package's only router, or none when the package is on no router. A package on several routers
 * needs a choice: a hotspot user exists on one router only.
 */
export async function routerForNewVouchers(tx: Tx, tenantId: string, packageId: string, requestedRouterId: string | undefined): Promise<string | null> {
  const routers = await packageRouters(tx, tenantId, packageId);
  if (requestedRouterId) {
    if (!routers.some((router) => router.id === requestedRouterId)) {
      throw new AppError('VALIDATION_FAILED', `router: this package is not sold on router ${requestedRouterId}`);
    }
    return requestedRouterId;
  }
  if (routers.length === 0) return null;
  if (routers.length === 1) return routers[0]!.id;
  throw new AppError('VALIDATION_FAILED', `router: the package is sold on several routers (${routers.map((r) => r.name).join(', ')}); say which one these vouchers are for`);
}

/** The package's routers, by name. */
export function packageRouters(tx: Tx, tenantId: string, packageId: string): Promise<{ id: string; name: string }[]> {
  return tx
    .select({ id: mikrotikRouters.id, name: mikrotikRouters.name })
    .from(wifiPackageRouters)
    .innerJoin(mikrotikRouters, and(eq(mikrotikRouters.tenantId, wifiPackageRouters.tenantId), eq(mikrotikRouters.id, wifiPackageRouters.routerId)))
    .where(and(eq(wifiPackageRouters.tenantId, tenantId), eq(wifiPackageRouters.packageId, packageId)))
    .orderBy(asc(mikrotikRouters.name), asc(mikrotikRouters.id));
}
