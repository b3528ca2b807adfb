import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migratePostgres, openDatabase, type Database } from '@relais/db';

/** A migrated database of the benchmark's own, dropped afterwards. */
export interface ScratchDatabase {
  db: Database;
  /** The owner's connection to this database (PostgreSQL only): for scratch tables and checks. */
  ownerUrl?: string;
  /** Database name on the server (PostgreSQL only). */
  name?: string;
  /** e.g. "PostgreSQL 15.20" or "PGlite". */
  server: string;
  drop(): Promise<void>;
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/**
 * A fresh database on PostgreSQL when DATABASE_URL and DATABASE_OWNER_URL are set (created by the
 * owner, migrated, opened as the runtime role with `poolSize` connections), PGlite in memory otherwise.
 */
export async function createScratchDatabase(options: { poolSize: number }): Promise<ScratchDatabase> {
  const { DATABASE_URL: runtimeBase, DATABASE_OWNER_URL: ownerBase } = process.env;
  if (!runtimeBase) {
    const db = await openDatabase({ driver: 'pglite', dataDir: 'memory://' });
    return { db, server: 'PGlite (in memory)', drop: () => db.close() };
  }
  if (!ownerBase) throw new Error('This benchmark needs DATABASE_OWNER_URL with DATABASE_URL: it creates and drops a database of its own.');
  const name = `relais_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ownerBase });
  await admin.connect();
  let server: string;
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
    server = `PostgreSQL ${(await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version.split(' ')[0]}`;
  } finally {
    await admin.end();
  }
  const ownerUrl = withDatabaseName(ownerBase, name);
  const url = withDatabaseName(runtimeBase, name);
  const dropDatabase = async () => {
    const cleanup = new pg.Client({ connectionString: ownerBase });
    await cleanup.connect();
    try {
      await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await cleanup.end();
    }
  };
  let db: Database;
  try {
    await migratePostgres(ownerUrl, url);
    db = await openDatabase({ driver: 'postgres', url, ownerUrl, poolSize: options.poolSize });
  } catch (error) {
    await dropDatabase();
    throw error;
  }
  return {
    db,
    ownerUrl,
    name,
    server,
    async drop() {
      try {
        await db.close();
      } finally {
        await dropDatabase();
      }
    },
  };
}

/** Runs statements in order on a connection of its own as the owner (settings, ANALYZE, index changes). */
export async function ownerStatements(ownerUrl: string, statements: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}
