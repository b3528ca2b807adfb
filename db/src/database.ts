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

/** What a tenant transaction may do beyond the query builder. */
export interface TenantContext {
  /**
   * Runs one hand-written statement in this transaction (same role, same tenant, same RLS) and
   * returns its rows, for hot paths where building SQL with the query builder costs more CPU than
   * the database spends on it.
   */
  query<R = Record<string, unknown>>(statement: RawStatement, params?: readonly unknown[]): Promise<R[]>;
  /**
   * Runs the transaction's last statement with its COMMIT written right behind it (one round trip
   * for both on PostgreSQL). Nothing may run in the transaction after it, and `work` must return
   * without throwing: the COMMIT is already on its way, a later error cannot roll it back.
   */
  queryAndCommit<R = Record<string, unknown>>(statement: RawStatement, params?: readonly unknown[]): Promise<R[]>;
}

/** What a platform transaction may do beyond central tables. */
export interface PlatformContext {
  /**
   * Opens `tenantId`'s rows in this same transaction (the platform context stays on), for work
   * that must change the platform and one tenant atomically, like creating a tenant.
   */
  enterTenant(tenantId: string): Promise<void>;
  /**
   * Runs one hand-written statement in this transaction and returns its rows, for hot paths where
   * building SQL with the query builder costs more CPU than the database spends on it.
   */
  query<R = Record<string, unknown>>(statement: RawStatement, params?: readonly unknown[]): Promise<R[]>;
  /** As TenantContext.queryAndCommit. */
  queryAndCommit<R = Record<string, unknown>>(statement: RawStatement, params?: readonly unknown[]): Promise<R[]>;
}

/**
 * A statement written as SQL text. `name` (unique per text) lets node-postgres parse and plan it
 * once per connection instead of on every call; PGlite ignores it.
 */
export interface RawStatement {
  name: string;
  text: string;
}

/** How a transaction is run. */
export interface TransactionOptions {
  /**
   * Prepared (named) statements run their generic plan, made once per connection, instead of
   * being planned again for each call's values. For hot paths whose statements are written to
   * need no values to plan well (ids reached through arrays, never by joining JSON input): the
   * planner otherwise keeps choosing custom plans for them, and planning their CTEs cost a quarter
   * of PostgreSQL's CPU in a payment settlement (docs/decisions/009). Transaction-local.
   */
  genericPlans?: boolean;
}

export interface Database {
  readonly driver: DriverName;
  /** The role every runtime query runs as. */
  readonly runtimeRole: string;
  /**
   * Runs `work` in a transaction where row-level security shows only `tenantId`'s rows, and
   * central tables only as far as they concern that tenant (read-only).
   */
  withTenant<T>(tenantId: string, work: (tx: Tx, context: TenantContext) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Runs `work` in a transaction on central tables; tenant tables show nothing until enterTenant. */
  withPlatform<T>(work: (tx: Tx, context: PlatformContext) => Promise<T>, options?: TransactionOptions): Promise<T>;
  ping(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** How every transaction's context statement starts: the PostgreSQL driver holds it back to send it with the first real one (connect.ts). */
export const CONTEXT_STATEMENT_PREFIX = "select set_config('app.platform'";

/** Marks a query config as its transaction's final statement: the PostgreSQL driver sends COMMIT right behind it (connect.ts). */
export const COMMIT_AFTER = Symbol('commitAfter');

/** What set_config may be given inline: a validated uuid or nothing (see setContext). */
const INLINE_TENANT_ID = /^[0-9a-f-]{36}$|^$/i;

async function setContext(tx: Tx, context: { platform: boolean; tenantId: string }, options: TransactionOptions = {}): Promise<void> {
  // Values inline rather than as parameters: a statement without parameters goes out as a simple
  // query, which the node-postgres driver sends with BEGIN and the first real statement (connect.ts).
  // Safe: the tenant id was parsed as a uuid (hex digits and dashes only), checked again here.
  if (!INLINE_TENANT_ID.test(context.tenantId)) throw new Error('tenant id must be a uuid');
  // Transaction-local (third argument true): pooled connections never carry a context over.
  await tx.execute(
    sql.raw(
      `${CONTEXT_STATEMENT_PREFIX}, '${context.platform ? 'on' : ''}', true), set_config('app.tenant_id', '${context.tenantId}', true)` +
        (options.genericPlans ? ", set_config('plan_cache_mode', 'force_generic_plan', true)" : ''),
    ),
  );
}

interface QueryableClient {
  query(...args: unknown[]): Promise<{ rows: unknown[] }>;
}

/** The connection a drizzle transaction runs on (drizzle keeps it on its session, outside its typed API). */
function connectionOf(tx: Tx): QueryableClient {
  const client = (tx as unknown as { session?: { client?: Partial<QueryableClient> } }).session?.client;
  if (typeof client?.query !== 'function') throw new Error('drizzle transaction without a client: has drizzle-orm changed its session layout?');
  return client as QueryableClient;
}

/** The driver of each connection a transaction has run on (savepoints share their transaction's connection). */
const driverOfConnection = new WeakMap<QueryableClient, DriverName>();

async function runOnConnection<R>(client: QueryableClient, driver: DriverName, statement: RawStatement, params: readonly unknown[], commitAfter: boolean): Promise<R[]> {
  const result =
    driver === 'postgres'
      ? await client.query({ name: statement.name, text: statement.text, values: params, ...(commitAfter ? { [COMMIT_AFTER]: true } : {}) })
      : await client.query(statement.text, params);
  return result.rows as R[];
}

/**
 * Runs a hand-written statement in `tx` (a transaction of withTenant or withPlatform: same
 * connection, role, context and RLS) and returns its rows; named statements are prepared once
 * per connection on PostgreSQL. The same as the context's `query`, for code that holds only `tx`.
 */
export function executeStatement<R = Record<string, unknown>>(tx: Tx, statement: RawStatement, params: readonly unknown[] = []): Promise<R[]> {
  const client = connectionOf(tx);
  const driver = driverOfConnection.get(client);
  if (!driver) return Promise.reject(new Error('executeStatement needs a transaction opened by withTenant or withPlatform'));
  return runOnConnection<R>(client, driver, statement, params, false);
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
  const runRaw = <R>(tx: Tx, statement: RawStatement, params: readonly unknown[] = [], commitAfter = false): Promise<R[]> =>
    runOnConnection<R>(connectionOf(tx), options.driver, statement, params, commitAfter);
  const rawRunners = (tx: Tx) => ({
    query: <R>(statement: RawStatement, params?: readonly unknown[]) => runRaw<R>(tx, statement, params),
    queryAndCommit: <R>(statement: RawStatement, params?: readonly unknown[]) => runRaw<R>(tx, statement, params, true),
  });
  const transaction = <T>(work: (tx: Tx) => Promise<T>) =>
    drizzle.transaction(async (tx) => {
      driverOfConnection.set(connectionOf(tx), options.driver);
      await options.beginTransaction?.(tx);
      return work(tx);
    });
  return {
    driver: options.driver,
    runtimeRole: options.runtimeRole,
    async withTenant(tenantId, work, transactionOptions) {
      const parsed = tenantIdSchema.parse(tenantId);
      return transaction(async (tx) => {
        await setContext(tx, { platform: false, tenantId: parsed }, transactionOptions);
        return work(tx, rawRunners(tx));
      });
    },
    async withPlatform(work, transactionOptions) {
      return transaction(async (tx) => {
        await setContext(tx, { platform: true, tenantId: '' }, transactionOptions);
        return work(tx, {
          enterTenant: (tenantId) => setContext(tx, { platform: true, tenantId: tenantIdSchema.parse(tenantId) }),
          ...rawRunners(tx),
        });
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
