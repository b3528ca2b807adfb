import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { EMBEDDED_RUNTIME_ROLE, MIGRATIONS_FOLDER, type DatabaseConfig } from './config.js';
import { createDatabase, type Database, type DrizzleDatabase } from './database.js';
import { lockDataDirectory } from './embedded-lock.js';
import { DatabaseSetupError } from './errors.js';
import { ensureRuntimeRole, findRowLevelSecurityEscapes, quoteRoleName, type RunStatement } from './runtime-role.js';
import { schema } from './schema/index.js';

export interface OpenOptions {
  /**
   * Apply pending migrations first. PGlite always does (the process is its own owner);
   * PostgreSQL needs `ownerUrl`.
   */
  migrate?: boolean;
}

/** Serialises migrators of one database (several servers starting at once). */
const MIGRATION_LOCK_KEY = 72_616_963; // "rais"

function runner(execute: (statement: string) => Promise<{ rows: unknown[] }>): RunStatement {
  return async (statement) => ({ rows: (await execute(statement)).rows as Record<string, unknown>[] });
}

async function refuseUnconfined(run: RunStatement, close: () => Promise<void>): Promise<void> {
  const escapes = await findRowLevelSecurityEscapes(run);
  if (escapes.length === 0) return;
  await close();
  throw new DatabaseSetupError(
    `Refusing to use the database: ${escapes.join('; ')}. That would let tenants see each other's rows. ` +
      'Connect DATABASE_URL as the runtime role (for example postgres://relais_app@host/db) and ' +
      'migrate with DATABASE_OWNER_URL set to the owner.',
  );
}

export function runtimeRoleOf(url: string): { role: string; password?: string } {
  const parsed = new URL(url);
  const role = decodeURIComponent(parsed.username);
  if (!role) throw new DatabaseSetupError('DATABASE_URL must name its user (the runtime role), e.g. postgres://relais_app@127.0.0.1:5432/relais.');
  quoteRoleName(role);
  return { role, password: parsed.password ? decodeURIComponent(parsed.password) : undefined };
}

/** Applies migrations as the owner and (re)grants the runtime role named by `runtimeUrl`. */
export async function migratePostgres(ownerUrl: string, runtimeUrl: string): Promise<void> {
  const { role, password } = runtimeRoleOf(runtimeUrl);
  const client = new pg.Client({ connectionString: ownerUrl });
  client.on('error', () => {}); // surfaced by the failing query instead
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await migrateNodePg(drizzleNodePg(client, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
    await ensureRuntimeRole(runner((statement) => client.query(statement)), role, password);
  } finally {
    await client.end();
  }
}

type QueryFunction = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * drizzle sends BEGIN as a round trip of its own, and every transaction's first statement is
 * set_config, a statement without parameters. Holding BEGIN back and sending both as one simple
 * query ("BEGIN; select set_config(...)") saves a round trip per transaction. Anything else after
 * a held BEGIN (parameters, a callback) is queued behind a plain BEGIN, as before; a transaction
 * that ends before any statement sends nothing at all.
 */
function foldBeginIntoFirstStatement(pool: pg.Pool): void {
  const holdingBegin = new WeakMap<object, boolean>();
  pool.on('release', (_error: unknown, client: object) => holdingBegin.delete(client));
  pool.on('connect', (client) => {
    // Looked up on every call, not bound once: the prototype's query may be wrapped later (bench/src/sql-round-trips.ts).
    const send: QueryFunction = (...args) => (Object.getPrototypeOf(client) as { query: QueryFunction }).query.apply(client, args);
    const folded: QueryFunction = (config, values, callback) => {
      const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
      const plain =
        typeof text === 'string' &&
        callback === undefined &&
        (values === undefined || (Array.isArray(values) && values.length === 0)) &&
        (typeof config === 'string' || (!(config as { name?: unknown }).name && !(config as { values?: unknown[] }).values?.length && typeof (config as { submit?: unknown }).submit !== 'function'));
      const keyword = plain ? text.trim().toLowerCase() : '';
      if (!holdingBegin.get(client)) {
        if (keyword !== 'begin') return send(config, values, callback);
        holdingBegin.set(client, true);
        return Promise.resolve({ command: 'BEGIN', rowCount: null, rows: [], fields: [] });
      }
      holdingBegin.delete(client);
      if (keyword === 'commit' || keyword === 'rollback') return Promise.resolve({ command: keyword.toUpperCase(), rowCount: null, rows: [], fields: [] });
      if (!plain) {
        // Queued first: node-postgres sends a client's queries in order.
        (send('BEGIN') as Promise<unknown>).catch(() => {});
        return send(config, values, callback);
      }
      const statement = typeof config === 'string' ? { text } : { ...(config as object), text };
      return (send({ ...statement, text: `BEGIN; ${text}` }, values) as Promise<unknown>).then((results) => (Array.isArray(results) ? results[results.length - 1] : results));
    };
    (client as unknown as { query: QueryFunction }).query = folded;
  });
}

async function openPostgres(config: Extract<DatabaseConfig, { driver: 'postgres' }>, options: OpenOptions): Promise<Database> {
  const { role } = runtimeRoleOf(config.url);
  if (options.migrate) {
    if (!config.ownerUrl) {
      throw new DatabaseSetupError('Migrating PostgreSQL needs DATABASE_OWNER_URL: the role that owns the schema.');
    }
    await migratePostgres(config.ownerUrl, config.url);
  }
  const pool = new pg.Pool({ connectionString: config.url, max: config.poolSize ?? 10 });
  foldBeginIntoFirstStatement(pool);
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const close = () => pool.end();
  try {
    await refuseUnconfined(runner((statement) => pool.query(statement)), close);
  } catch (error) {
    if (error instanceof DatabaseSetupError) throw error;
    await close();
    throw error;
  }
  const drizzle = drizzleNodePg(pool, { schema }) as unknown as DrizzleDatabase;
  return createDatabase({ driver: 'postgres', runtimeRole: role, drizzle, close });
}

async function openPglite(config: Extract<DatabaseConfig, { driver: 'pglite' }>): Promise<Database> {
  const inMemory = config.dataDir.startsWith('memory://');
  const unlock = inMemory ? async () => {} : await lockDataDirectory(config.dataDir);
  let client: PGlite | undefined;
  const close = async () => {
    try {
      await client?.close();
    } finally {
      await unlock();
    }
  };
  try {
    client = new PGlite(config.dataDir);
    const owner = drizzlePglite(client, { schema });
    await migratePglite(owner, { migrationsFolder: MIGRATIONS_FOLDER });
    const run = runner((statement) => client!.query(statement));
    await ensureRuntimeRole(run, EMBEDDED_RUNTIME_ROLE);
    // PGlite authenticates as a superuser. Becoming the runtime role for the whole session makes
    // row-level security apply to every query and refuses SET ROLE; see docs/decisions/002.
    await client.exec(`SET SESSION AUTHORIZATION ${quoteRoleName(EMBEDDED_RUNTIME_ROLE)}`);
    await refuseUnconfined(run, async () => {});
    const drizzle = drizzlePglite(client, { schema }) as unknown as DrizzleDatabase;
    await drizzle.execute(sql`select 1`);
    // Again at the start of every transaction: a statement that switched the session back to the
    // bootstrap superuser cannot outlive its transaction (docs/decisions/002).
    const reassertRole = sql.raw(`SET LOCAL SESSION AUTHORIZATION ${quoteRoleName(EMBEDDED_RUNTIME_ROLE)}`);
    return createDatabase({
      driver: 'pglite',
      runtimeRole: EMBEDDED_RUNTIME_ROLE,
      drizzle,
      close,
      beginTransaction: async (tx) => {
        await tx.execute(reassertRole);
      },
    });
  } catch (error) {
    await close();
    throw error;
  }
}

export async function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Promise<Database> {
  return config.driver === 'postgres' ? openPostgres(config, options) : openPglite(config);
}
