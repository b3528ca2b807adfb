import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseConfig } from '@relais/db';
import { cleanEnv } from './relais-process.js';
import { createTestDatabase, primaryTestDriver, type TestDatabase } from './test-database.js';

export interface CliEnvironment {
  /** A temporary directory of the test's own (files, PGlite data, outputs). */
  directory: string;
  /** The environment `relais` processes run with: a random APP_KEY, FILES_DIR, the database. */
  env: NodeJS.ProcessEnv;
  /** The same database, for the test to open itself (only while no process holds PGlite). */
  databaseConfig: DatabaseConfig;
  cleanup(): Promise<void>;
}

/**
 * What tests of `relais` commands run against: a fresh PostgreSQL database when configured (its
 * pool closed: each process opens its own connections), else a PGlite data directory.
 */
export async function createCliEnvironment(name: string): Promise<CliEnvironment> {
  const directory = mkdtempSync(join(tmpdir(), `relais-${name}-`));
  const common = { APP_KEY: randomBytes(32).toString('base64'), FILES_DIR: join(directory, 'files') };
  let test: TestDatabase | undefined;
  let databaseConfig: DatabaseConfig;
  let env: NodeJS.ProcessEnv;
  if (primaryTestDriver() === 'postgres') {
    test = await createTestDatabase('postgres');
    await test.db.close();
    databaseConfig = test.config;
    env = cleanEnv({ ...common, DATABASE_URL: (test.config as { url: string }).url });
  } else {
    databaseConfig = { driver: 'pglite', dataDir: join(directory, 'pglite') };
    env = cleanEnv({ ...common, PGLITE_DATA_DIR: join(directory, 'pglite') });
  }
  return {
    directory,
    env,
    databaseConfig,
    async cleanup() {
      await test?.drop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
