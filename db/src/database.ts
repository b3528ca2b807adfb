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

/** What a platform transaction may do beyond central tables. */
export interface PlatformContext {
  /**
   * Opens `tenantId`'s rows in this same transaction (the platform context stays on), for work
   * that must change the platform and one tenant atomically, like creating a tenant.
   */
  enterTenant(tenantId: string): Promise<void>;
}

export interface Database {
  readonly driver: DriverName;
  /** The role every runtime query runs as. */
  readonly runtimeRole: string;
  /**
   * Runs `work` in a transaction where row-level security shows only `tenantId`'s rows, and
   * central tables only as far as they concern that tenant (read-only).
   */
  withTenant<T>(tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs `work` in a transaction on central tables; tenant tables show nothing until enterTenant. */
  withPlatform<T>(work: (tx: Tx, context: PlatformContext) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

async function setContext(tx: Tx, context: { platform: boolean; tenantId: string }): Promise<void> {
  // Transaction-local (third argument true): pooled connections never carry a context over.
  await tx.execute(
    sql`select set_config('app.platform', ${context.platform ? 'on' : ''}, true), set_config('app.tenant_id', ${context.tenantId}, true)`,
  );
}

export function createDatabase(options: {
  driver: DriverName;
  runtimeRole: string;
  drizzle: DrizzleDatabase;
  close: () => Promise<void>;
  /** Runs first in every transaction (PGlite re-asserts the runtime role there). */
  beginTransaction?: (tx: Tx) => Promise<void>;
}): Database {
  const { drizzle } = options;
  let closing: Promise<void> | undefined;
  const transaction = <T>(work: (tx: Tx) => Promise<T>) =>
    drizzle.transaction(async (tx) => {
      await options.beginTransaction?.(tx);
      return work(tx);
    });
  return {
    driver: options.driver,
    runtimeRole: options.runtimeRole,
    async withTenant(tenantId, work) {
      const parsed = tenantIdSchema.parse(tenantId);
      return transaction(async (tx) => {
        await setContext(tx, { platform: false, tenantId: parsed });
        return work(tx);
      });
    },
    async withPlatform(work) {
      return transaction(async (tx) => {
        await setContext(tx, { platform: true, tenantId: '' });
        return work(tx, { enterTenant: (tenantId) => setContext(tx, { platform: true, tenantId: tenantIdSchema.parse(tenantId) }) });
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
