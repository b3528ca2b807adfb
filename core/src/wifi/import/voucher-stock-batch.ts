import { sql } from 'drizzle-orm';
import { executeRows, type Tx } from '@relais/db';
import type { ImportedVoucher } from './voucher-fields.js';

/**
 * Inserts a batch of vouchers as `available` imported stock, skipping usernames the tenant
 * already has; returns how many were new. One statement whatever the batch size: the rows travel
 * as six array parameters and `unnest` turns them back into rows, which parses and plans once
 * (multi-row VALUES would carry ~10 parameters per row). See docs/benchmarks.md, "wifi — import".
 */
export async function insertVoucherBatch(
  tx: Tx,
  target: { tenantId: string; packageId: string; importLogId: string },
  vouchers: readonly ImportedVoucher[],
): Promise<number> {
  if (vouchers.length === 0) return 0;
  const [row] = await executeRows(
    tx,
    sql`with inserted as (
      insert into wifi_vouchers (tenant_id, package_id, username, password, status, source, import_log_id, comment, profile, time_limit_seconds, data_limit_bytes)
      select ${target.tenantId}::uuid, ${target.packageId}::uuid, v.username, v.password, 'available', 'import', ${target.importLogId}::uuid, v.comment, v.profile, v.time_limit, v.data_limit
      from unnest(
        ${sql.param(vouchers.map((v) => v.username))}::text[],
        ${sql.param(vouchers.map((v) => v.password))}::text[],
        ${sql.param(vouchers.map((v) => v.comment))}::text[],
        ${sql.param(vouchers.map((v) => v.profile))}::text[],
        ${sql.param(vouchers.map((v) => v.timeLimitSeconds))}::integer[],
        ${sql.param(vouchers.map((v) => v.dataLimitBytes))}::bigint[]
      ) as v(username, password, comment, profile, time_limit, data_limit)
      on conflict (tenant_id, username) do nothing
      returning 1
    )
    select count(*)::integer as inserted from inserted`,
  );
  return Number(row!.inserted);
}

/** How many of `usernames` the tenant already has (a dry run's duplicate count). */
export async function countVouchersInStock(tx: Tx, tenantId: string, usernames: readonly string[]): Promise<number> {
  if (usernames.length === 0) return 0;
  const [row] = await executeRows(
    tx,
    sql`select count(*)::integer as found from wifi_vouchers where tenant_id = ${tenantId}::uuid and username = any(${sql.param(usernames)}::text[])`,
  );
  return Number(row!.found);
}
