import { migratePostgres, openDatabase } from '@relais/db';
import { ConfigError, type Config } from '../../config.js';
import type { CliOutput } from '../output.js';

export const migrateUsage = 'relais migrate';

export async function migrateCommand(_args: string[], config: Config, output: CliOutput): Promise<void> {
  const database = config.database;
  if (database.driver === 'pglite') {
    // Opening the embedded database applies pending migrations.
    const db = await openDatabase(database);
    await db.close();
    output.out(`Migrations applied (pglite, ${database.dataDir})`);
    return;
  }
  if (!database.ownerUrl) {
    throw new ConfigError('DATABASE_OWNER_URL must be set to migrate: the role that owns the schema (the runtime role may not)');
  }
  await migratePostgres(database.ownerUrl, database.url);
  output.out('Migrations applied (postgres)');
}
