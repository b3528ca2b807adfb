import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { EMBEDDED_RUNTIME_ROLE, MIGRATIONS_FOLDER, type DatabaseConfig } from './config.js';
import { COMMIT_AFTER, CONTEXT_STATEMENT_PREFIX, createDatabase, type Database, type DrizzleDatabase } from './database.js';
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

interface PipelineState {
  /**
   * Simple statements held back to go out with the next real one: BEGIN, and context statements
   * (set_config: a transaction's, or a platform transaction entering a tenant).
   */
  held: string[];
  /** The COMMIT sent behind a transaction's final statement (see COMMIT_AFTER). */
  committing?: Promise<unknown>;
}

const fakeResult = (command: string) => Promise.resolve({ command, rowCount: null, rows: [], fields: [] });

/**
 * Transaction boundaries and context switches cost no round trip of their own. drizzle sends
 * BEGIN, and every transaction then sets its context (database.ts), as does a platform
 * transaction entering a tenant: these are held back and written in the same packet as the next
 * real statement, and a final statement marked COMMIT_AFTER has its COMMIT
 * written behind it — the client runs in node-postgres's pipeline mode, so queries go out without
 * waiting for the previous answer, in order, each with its own Sync. A transaction of one
 * statement is then one round trip; a transaction that ends before any statement sends nothing.
 *
 * If the held prefix fails, the statement behind it fails too (its result is not used). If the
 * final statement fails, the COMMIT behind it finds an aborted transaction and only rolls back.
 * After a final statement nothing may run in the transaction: anything but COMMIT/ROLLBACK is
 * refused, and a ROLLBACK cannot undo what the COMMIT already made durable.
 */
function pipelineTransactionBoundaries(pool: pg.Pool): void {
  const states = new WeakMap<object, PipelineState>();
  pool.on('release', (_error: unknown, client: object) => states.delete(client));
  pool.on('connect', (client) => {
    // Looked up on every call, not bound once: the prototype's query may be wrapped later (bench/src/sql-round-trips.ts).
    const send: QueryFunction = (...args) => (Object.getPrototypeOf(client) as { query: QueryFunction }).query.apply(client, args);
    const stream = (client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
    let corked = false;
    /**
     * Queries go out in one write per tick: the socket is corked at the first and uncorked once
     * the current run of code and its promise continuations is over (pipeline mode submits each
     * query synchronously). Statements a transaction sends without awaiting each other (a payment
     * batch's per-tenant fulfilments) then cost one system call, not one each.
     */
    const sendInTicksWrite = <T>(sends: () => T): T => {
      if (!corked && stream?.cork && stream.uncork) {
        const uncork = stream.uncork.bind(stream);
        stream.cork();
        corked = true;
        process.nextTick(() => {
          corked = false;
          uncork();
        });
      }
      return sends();
    };
    const pipelined: QueryFunction = (config, values, callback) => {
      const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
      const plain =
        typeof text === 'string' &&
        callback === undefined &&
        (values === undefined || (Array.isArray(values) && values.length === 0)) &&
        (typeof config === 'string' || (!(config as { name?: unknown }).name && !(config as { values?: unknown[] }).values?.length && typeof (config as { submit?: unknown }).submit !== 'function'));
      const keyword = plain ? text.trim().toLowerCase() : '';
      const state = states.get(client) ?? { held: [] };
      states.set(client, state);

      if (state.committing) {
        const committing = state.committing;
        delete state.committing;
        if (keyword === 'commit') return committing;
        if (keyword === 'rollback') return committing.then(() => fakeResult('ROLLBACK'), () => fakeResult('ROLLBACK'));
        return Promise.reject(new Error('no statement may follow a transaction\'s final statement (it was sent with its COMMIT)'));
      }
      if (keyword === 'begin' && state.held.length === 0) {
        state.held.push('BEGIN');
        return fakeResult('BEGIN');
      }
      if (plain && text.startsWith(CONTEXT_STATEMENT_PREFIX)) {
        state.held.push(text);
        return fakeResult('SELECT');
      }
      if ((keyword === 'commit' || keyword === 'rollback') && state.held.length > 0) {
        const begun = state.held[0] !== 'BEGIN';
        // Context held since the last statement is transaction-local: nothing to send for it.
        state.held = [];
        // Nothing was sent since BEGIN: the server never saw this transaction.
        if (!begun) return fakeResult(keyword.toUpperCase());
        return sendInTicksWrite(() => send(config, values, callback));
      }
      const prefix = state.held.length > 0 ? state.held.join('; ') : undefined;
      state.held = [];
      const commitAfter = typeof config === 'object' && config !== null && (config as { [COMMIT_AFTER]?: unknown })[COMMIT_AFTER] === true;
      return sendInTicksWrite(() => {
        if (prefix === undefined && !commitAfter) return send(config, values, callback);
        const opening = prefix === undefined ? undefined : (send(prefix) as Promise<unknown>);
        opening?.catch(() => {}); // reported through the statement below
        const statement = send(config, values, callback) as Promise<unknown>;
        if (commitAfter) {
          state.committing = send('COMMIT') as Promise<unknown>;
          state.committing.catch(() => {}); // reported when drizzle sends its COMMIT
        }
        return opening ? Promise.all([opening, statement]).then(([, result]) => result) : statement;
      });
    };
    (client as unknown as { query: QueryFunction }).query = pipelined;
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
  const pool = new pg.Pool({ connectionString: config.url, max: config.poolSize ?? 10, pipeline: true });
  pipelineTransactionBoundaries(pool);
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
