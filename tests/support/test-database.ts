import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migratePostgres, openDatabase, type Database, type DatabaseConfig, type DriverName } from '@relais/db';

/**
 * Database drivers the suite runs against: PGlite always (the embedded default), PostgreSQL
 * when DATABASE_URL (runtime role) and DATABASE_OWNER_URL (owner) are set, as .ci/run does.
 */
export function testDrivers(): DriverName[] {
  const { DATABASE_URL, DATABASE_OWNER_URL } = process.env;
  if (DATABASE_URL && !DATABASE_OWNER_URL) {
    throw new Error('Tests on PostgreSQL need DATABASE_OWNER_URL too (a role that can create databases).');
  }
  return DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

/** The driver app-level tests use: PostgreSQL when configured, PGlite otherwise. */
export function primaryTestDriver(): DriverName {
  return testDrivers().includes('postgres') ? 'postgres' : 'pglite';
}

export interface TestDatabase {
  db: Database;
  config: DatabaseConfig;
  /** Owner connection string (PostgreSQL only): for checks that need the schema owner. */
  ownerUrl?: string;
  drop(): Promise<void>;
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** A fresh, migrated database of its own: in memory for PGlite, a new database on PostgreSQL. */
export async function createTestDatabase(driver: DriverName = primaryTestDriver()): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const config: DatabaseConfig = { driver: 'pglite', dataDir: 'memory://' };
    const db = await openDatabase(config);
    return { db, config, drop: () => db.close() };
  }
  const ownerBase = process.env.DATABASE_OWNER_URL!;
  const runtimeBase = process.env.DATABASE_URL!;
  const name = `relais_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ownerBase });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const ownerUrl = withDatabaseName(ownerBase, name);
  const config: DatabaseConfig = { driver: 'postgres', url: withDatabaseName(runtimeBase, name), ownerUrl, poolSize: 8 };
  await migratePostgres(ownerUrl, config.url);
  const db = await openDatabase(config);
  return {
    db,
    config,
    ownerUrl,
    async drop() {
      await db.close();
      const cleanup = new pg.Client({ connectionString: ownerBase });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await cleanup.end();
    },
  };
}
