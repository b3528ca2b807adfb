import { sql } from 'drizzle-orm';
import { foreignKey, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  centralTableNames,
  executeRows,
  findRowLevelSecurityEscapes,
  openDatabase,
  tenants,
  tenantTableNames,
  tenantTables,
  type Database,
} from '@relais/db';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';
import { tenantTableViolations } from '../../tests/support/tenancy-rules.js';

describe('tenant table rules, from the schema', () => {
  it.each(tenantTableNames.map((name, i) => [name, tenantTables[i]!]))('%s follows them', (_name, table) => {
    expect(tenantTableViolations(table)).toEqual([]);
  });

  it('catch a table that forgets them', () => {
    const parents = pgTable('parents', { tenantId: uuid('tenant_id').notNull(), id: uuid('id').notNull() }, (t) => [
      primaryKey({ columns: [t.tenantId, t.id] }),
    ]);
    const forgetful = pgTable('forgetful', { id: uuid('id').primaryKey(), tenantId: uuid('tenant_id').notNull(), parentId: uuid('parent_id') }, (t) => [
      foreignKey({ columns: [t.parentId], foreignColumns: [parents.id] }),
      foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id] }),
    ]);
    expect(tenantTableViolations(forgetful)).toEqual([
      'forgetful: primary key is id, not (tenant_id, ...)',
      'forgetful: foreign key to parents does not start with tenant_id',
      'forgetful: no tenant_isolation policy',
    ]);
    const keyedButOpen = pgTable('keyed_but_open', { tenantId: uuid('tenant_id').notNull(), name: text('name').notNull() }, (t) => [
      primaryKey({ columns: [t.name, t.tenantId] }),
    ]);
    expect(tenantTableViolations(keyedButOpen)).toEqual([
      'keyed_but_open: primary key does not start with tenant_id',
      'keyed_but_open: no tenant_isolation policy',
    ]);
  });

  it('classifies every table as central or tenant, never both', () => {
    expect(centralTableNames.filter((name) => tenantTableNames.includes(name))).toEqual([]);
    expect(centralTableNames).toEqual(expect.arrayContaining(['plans', 'tenants', 'subscriptions', 'payments', 'payment_splits', 'invoices', 'platform_revenue_analytics', 'tenant_status_history']));
  });
});

describe.each(testDrivers())('tenant table rules, in the migrated database on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
  });
  afterAll(async () => test?.drop());

  const catalog = (query: string) => db.withPlatform((tx) => executeRows(tx, sql.raw(query)));

  it('holds exactly the tables of the schema', async () => {
    const rows = await catalog(`select relname from pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p') order by 1`);
    expect(rows.map((r) => r.relname)).toEqual([...centralTableNames, ...tenantTableNames].sort());
  });

  it('enables and forces row-level security with the tenant policy on every tenant table', async () => {
    const rows = await catalog(`
      select c.relname, c.relrowsecurity, c.relforcerowsecurity,
             (select count(*)::int from pg_policy p where p.polrelid = c.oid and p.polname = 'tenant_isolation') as policies
        from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'`);
    const tenantRows = rows.filter((r) => tenantTableNames.includes(String(r.relname)));
    expect(tenantRows).toHaveLength(tenantTableNames.length);
    for (const row of tenantRows) expect(row, String(row.relname)).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true, policies: 1 });
  });

  it('enables and forces row-level security with the platform policy on every central table', async () => {
    const rows = await catalog(`
      select c.relname, c.relrowsecurity, c.relforcerowsecurity,
             (select count(*)::int from pg_policy p where p.polrelid = c.oid and p.polname = 'platform_only') as policies
        from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'`);
    const centralRows = rows.filter((r) => centralTableNames.includes(String(r.relname)));
    expect(centralRows).toHaveLength(centralTableNames.length);
    for (const row of centralRows) expect(row, String(row.relname)).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true, policies: 1 });
  });

  it('starts every tenant primary and foreign key with tenant_id', async () => {
    const rows = await catalog(`
      select c.relname, k.conname, k.contype, a.attname as first_column
        from pg_constraint k
        join pg_class c on c.oid = k.conrelid
        join pg_attribute a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
       where c.relnamespace = 'public'::regnamespace and k.contype in ('p', 'f')`);
    const tenantKeys = rows.filter((r) => tenantTableNames.includes(String(r.relname)));
    expect(tenantKeys.length).toBeGreaterThan(tenantTableNames.length);
    expect(tenantKeys.filter((r) => r.first_column !== 'tenant_id')).toEqual([]);
  });

  it('reports nothing that would escape row-level security for the runtime role', async () => {
    const run = async (statement: string) => ({ rows: await catalog(statement) });
    expect(await findRowLevelSecurityEscapes(run)).toEqual([]);
  });

  // Needs the owner's connection to weaken a table; PGlite's runtime session has none.
  it.runIf(driver === 'postgres')('refuses to open a database where a tenant table lost FORCE, and a superuser connection', async () => {
    const owner = new pg.Client({ connectionString: test.ownerUrl });
    await owner.connect();
    try {
      await owner.query('alter table tickets no force row level security');
      const config = test.config as Extract<typeof test.config, { driver: 'postgres' }>;
      await expect(openDatabase({ ...config, ownerUrl: undefined })).rejects.toThrow(/row-level security is not enabled and forced on tickets/);
      await owner.query('alter table tickets force row level security');
      await expect(openDatabase({ driver: 'postgres', url: test.ownerUrl! })).rejects.toThrow(/role "postgres" is a superuser/);
    } finally {
      await owner.end();
    }
  });

  // These need the owner's connection to create roles and weaken grants; PGlite's runtime session has none.
  it.runIf(driver === 'postgres')('refuses a runtime role that owns, or can switch to, anything that escapes row-level security', async () => {
    const owner = new pg.Client({ connectionString: test.ownerUrl });
    await owner.connect();
    const suffix = randomBytes(4).toString('hex');
    const runtime = `relais_t_${suffix}`;
    const bypass = `relais_t_bypass_${suffix}`;
    const config = test.config as Extract<typeof test.config, { driver: 'postgres' }>;
    const asRuntime = () => {
      const url = new URL(config.url);
      url.username = runtime;
      return openDatabase({ driver: 'postgres', url: url.toString() });
    };
    try {
      await owner.query(`CREATE ROLE ${runtime} LOGIN NOINHERIT; CREATE ROLE ${bypass} NOLOGIN BYPASSRLS; GRANT USAGE ON SCHEMA public TO ${runtime}`);
      const confined = await asRuntime();
      await confined.close();

      await owner.query(`GRANT ${bypass} TO ${runtime}`);
      await expect(asRuntime()).rejects.toThrow(`role "${runtime}" can switch to role "${bypass}", which has BYPASSRLS`);
      await owner.query(`REVOKE ${bypass} FROM ${runtime}; GRANT pg_read_server_files TO ${runtime}`);
      await expect(asRuntime()).rejects.toThrow(`role "${runtime}" is a member of pg_read_server_files`);
      await owner.query(`REVOKE pg_read_server_files FROM ${runtime}; ALTER ROLE ${runtime} CREATEROLE`);
      await expect(asRuntime()).rejects.toThrow(`role "${runtime}" has CREATEROLE`);
      await owner.query(`ALTER ROLE ${runtime} NOCREATEROLE; ALTER TABLE tickets OWNER TO ${runtime}`);
      await expect(asRuntime()).rejects.toThrow(`role "${runtime}" owns tables (tickets)`);
      await owner.query(`ALTER TABLE tickets OWNER TO CURRENT_USER; GRANT CREATE ON SCHEMA public TO ${runtime}`);
      await expect(asRuntime()).rejects.toThrow('the role may CREATE objects in the public schema');
      await owner.query(`REVOKE CREATE ON SCHEMA public FROM ${runtime}; ALTER DATABASE "${new URL(config.url).pathname.slice(1)}" OWNER TO ${runtime}`);
      await expect(asRuntime()).rejects.toThrow(`role "${runtime}" owns the database`);
    } finally {
      await owner.query(`ALTER DATABASE "${new URL(config.url).pathname.slice(1)}" OWNER TO CURRENT_USER`).catch(() => {});
      await owner.query(`ALTER TABLE tickets OWNER TO CURRENT_USER`).catch(() => {});
      await owner.query(`DROP OWNED BY ${runtime}; DROP ROLE IF EXISTS ${runtime}; DROP ROLE IF EXISTS ${bypass}`).catch(() => {});
      await owner.end();
    }
  });
});
