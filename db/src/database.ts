import { sql, type ExtractTablesWithRelations, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { DriverName } from './config.js';
import type { schema } from './schema/index.js';

export type Schema = typeof schema;
export type DrizzleDatabase = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle: everything a use case may do to the database goes through one. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

const tenantIdSchema = z.uuid();

export interface Database {
  readonly driver: DriverName;
  /** The role every runtime query runs as. */
  readonly runtimeRole: string;
  /** Runs `work` in a transaction whose row-level security shows only `tenantId`'s rows. */
  withTenant<T>(tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs `work` in a transaction for central tables; tenant tables show nothing there. */
  withPlatform<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * Switches the current transaction to `tenantId` (transaction-local, so pooled connections never
 * carry it over). For work that must span the platform and a tenant atomically, like creating one.
 */
export async function useTenant(tx: Tx, tenantId: string): Promise<void> {
  const parsed = tenantIdSchema.parse(tenantId);
  await tx.execute(sql`select set_config('app.tenant_id', ${parsed}, true)`);
}

export function createDatabase(options: {
  driver: DriverName;
  runtimeRole: string;
  drizzle: DrizzleDatabase;
  close: () => Promise<void>;
}): Database {
  const { drizzle } = options;
  let closing: Promise<void> | undefined;
  return {
    driver: options.driver,
    runtimeRole: options.runtimeRole,
    async withTenant(tenantId, work) {
      tenantIdSchema.parse(tenantId);
      return drizzle.transaction(async (tx) => {
        await useTenant(tx, tenantId);
        return work(tx);
      });
    },
    async withPlatform(work) {
      return drizzle.transaction(async (tx) => {
        await tx.execute(sql`select set_config('app.tenant_id', '', true)`);
        return work(tx);
      });
    },
    async ping() {
      await drizzle.execute(sql`select 1`);
    },
    close() {
      closing ??= options.close();
      return closing;
    },
  };
}

/** Rows of a raw statement, whichever driver ran it (both return `{ rows }`). */
export async function executeRows(tx: Tx | DrizzleDatabase, statement: SQL): Promise<Record<string, unknown>[]> {
  const result = (await tx.execute(statement)) as { rows: Record<string, unknown>[] };
  return result.rows;
}
