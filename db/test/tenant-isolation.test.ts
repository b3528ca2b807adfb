import { randomUUID } from 'node:crypto';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendOnlyTableNames, centralTables, executeRows, tenantTables, type Database, type Tx } from '@relais/db';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';
import { insertBareTenants, insertRowInEveryCentralTable, insertRowInEveryTenantTable } from '../../tests/support/tenant-rows.js';

const count = async (db: Database, tenantId: string | null, table: string) => {
  const query = async (tx: Tx) => Number((await executeRows(tx, sql.raw(`select count(*)::int as n from "${table}"`)))[0]!.n);
  return tenantId ? db.withTenant(tenantId, query) : db.withPlatform(query);
};

const firstColumn = (table: string) => `"${getTableConfig(centralTables.find((t) => getTableConfig(t).name === table)!).columns[0]!.name}"`;

/** Rows touched by an UPDATE/DELETE, whichever driver ran it. */
const affected = (result: unknown) =>
  (result as { rowCount?: number | null }).rowCount ?? (result as { affectedRows?: number }).affectedRows;

/** Runs `statement` and returns its error message (or null when it succeeded). */
async function errorOf(work: () => Promise<unknown>): Promise<string | null> {
  try {
    await work();
    return null;
  } catch (error) {
    const cause = (error as { cause?: Error }).cause;
    return cause?.message ?? (error as Error).message;
  }
}

describe.each(testDrivers())('tenant isolation on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  const tenantA = randomUUID();
  const tenantB = randomUUID();
  let rowsOfA: Map<string, Record<string, unknown>>;
  let centralRows: Map<string, Record<string, unknown>>;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    await insertBareTenants(db, [tenantA, tenantB]);
    rowsOfA = await db.withTenant(tenantA, (tx) => insertRowInEveryTenantTable(tx, tenantA));
    await db.withTenant(tenantB, (tx) => insertRowInEveryTenantTable(tx, tenantB));
    centralRows = await db.withPlatform((tx) => insertRowInEveryCentralTable(tx, tenantA));
  });
  afterAll(async () => test?.drop());

  const tableNames = tenantTables.map((table) => getTableConfig(table).name);

  it('covers every tenant table of the schema', () => {
    expect(tableNames.length).toBeGreaterThan(20);
    expect([...rowsOfA.keys()].sort()).toEqual([...tableNames].sort());
  });

  describe.each(tableNames)('%s', (table) => {
    const appendOnly = appendOnlyTableNames.includes(table);

    it("shows each tenant only its own row, and nothing without a tenant", async () => {
      expect(await count(db, tenantA, table)).toBe(1);
      expect(await count(db, tenantB, table)).toBe(1);
      expect(await count(db, null, table)).toBe(0);
      const owners = await db.withTenant(tenantB, async (tx) =>
        (await executeRows(tx, sql.raw(`select distinct tenant_id from "${table}"`))).map((r) => r.tenant_id),
      );
      expect(owners).toEqual([tenantB]);
    });

    it("cannot update or delete another tenant's rows", async () => {
      const victims = `where tenant_id = '${tenantA}'`;
      if (appendOnly) {
        for (const statement of [`update "${table}" set tenant_id = tenant_id ${victims}`, `delete from "${table}" ${victims}`]) {
          expect(await errorOf(() => db.withTenant(tenantB, (tx) => tx.execute(sql.raw(statement))))).toMatch(/permission denied/);
        }
      } else {
        const touched = await db.withTenant(tenantB, async (tx) => ({
          updated: affected(await tx.execute(sql.raw(`update "${table}" set tenant_id = tenant_id ${victims}`))),
          deleted: affected(await tx.execute(sql.raw(`delete from "${table}" ${victims}`))),
        }));
        expect(touched).toEqual({ updated: 0, deleted: 0 });
      }
      expect(await count(db, tenantA, table)).toBe(1);
    });

    it('cannot insert a row for another tenant, nor move a row to another tenant', async () => {
      const tableObject = tenantTables.find((t) => getTableConfig(t).name === table)!;
      const smuggled = await errorOf(() => db.withTenant(tenantB, (tx) => tx.insert(tableObject).values(rowsOfA.get(table)!)));
      expect(smuggled).toMatch(/row-level security/);
      if (!appendOnly) {
        const moved = await errorOf(() =>
          db.withTenant(tenantA, (tx) => tx.execute(sql.raw(`update "${table}" set tenant_id = '${tenantB}'`))),
        );
        expect(moved).toMatch(/row-level security/);
      }
    });

    if (appendOnly) {
      it('is append-only: even its own tenant cannot update or delete', async () => {
        expect(await errorOf(() => db.withTenant(tenantA, (tx) => tx.execute(sql.raw(`update "${table}" set tenant_id = tenant_id`))))).toMatch(/permission denied/);
        expect(await errorOf(() => db.withTenant(tenantA, (tx) => tx.execute(sql.raw(`delete from "${table}"`))))).toMatch(/permission denied/);
      });
    }
  });

  /** What a tenant context may read of a central table: its plans, its own tenant row and invoices. */
  const visibleToTenant: Record<string, (row: Record<string, unknown>, tenantId: string) => boolean> = {
    plans: () => true,
    tenants: (row, tenantId) => row.id === tenantId,
    subscriptions: (row, tenantId) => row.tenant_id === tenantId,
    invoices: (row, tenantId) => row.tenant_id === tenantId,
  };

  describe.each(centralTables.map((table) => getTableConfig(table).name))('central table %s', (table) => {
    const rowsUnder = (tenantId: string | null): Promise<Record<string, unknown>[]> => {
      const read = (tx: Tx) => executeRows(tx, sql.raw(`select * from "${table}"`));
      return tenantId ? db.withTenant(tenantId, read) : db.withPlatform(read);
    };

    it('is open to the platform context and shows a tenant context only what concerns it', async () => {
      const all = await rowsUnder(null);
      expect(all.length).toBeGreaterThan(0);
      for (const tenantId of [tenantA, tenantB]) {
        const visible = await rowsUnder(tenantId);
        const rule = visibleToTenant[table] ?? (() => false);
        expect(visible.length).toBe(all.filter((row) => rule(row, tenantId)).length);
      }
    });

    it('cannot be written from a tenant context', async () => {
      const tableObject = centralTables.find((t) => getTableConfig(t).name === table)!;
      const copy = centralRows.get(table)!;
      expect(await errorOf(() => db.withTenant(tenantA, (tx) => tx.insert(tableObject).values(copy)))).toMatch(/row-level security|permission denied/);
      const touched = await db.withTenant(tenantA, async (tx) =>
        appendOnlyTableNames.includes(table)
          ? 0
          : (affected(await tx.execute(sql.raw(`update "${table}" set ${firstColumn(table)} = ${firstColumn(table)}`))) ?? 0) +
            (affected(await tx.execute(sql.raw(`delete from "${table}"`))) ?? 0),
      );
      expect(touched).toBe(0);
      expect((await rowsUnder(null)).length).toBeGreaterThan(0);
    });
  });

  it('withTenant runs hand-written (named, prepared) statements under the same tenant context', async () => {
    const statement = { name: 'test.count_tickets_of', text: 'select count(*)::int as n, min(tenant_id::text) as tenant from tickets where tenant_id = $1 or tenant_id = $2' };
    // Twice per tenant: the second call reuses the statement prepared on the connection.
    for (const [tenant, other] of [[tenantA, tenantB], [tenantB, tenantA], [tenantA, tenantB], [tenantB, tenantA]] as const) {
      expect(await db.withTenant(tenant, (_tx, { query }) => query(statement, [tenant, other]))).toEqual([{ n: 1, tenant }]);
    }
  });

  it('the runtime role cannot disable or unforce row-level security', async () => {
    for (const statement of [
      'alter table users disable row level security',
      'alter table users no force row level security',
      'drop policy tenant_isolation on users',
      'create policy everything on users using (true)',
    ]) {
      expect(await errorOf(() => db.withTenant(tenantA, (tx) => tx.execute(sql.raw(statement))))).toMatch(/must be owner|permission denied/);
    }
  });

  it('the runtime role cannot change role', async () => {
    for (const role of ['postgres', 'pg_read_all_data', 'pg_write_all_data']) {
      expect(await errorOf(() => db.withTenant(tenantA, (tx) => tx.execute(sql.raw(`set role ${role}`))))).toMatch(/permission denied/);
    }
    // Resetting lands on the runtime role itself, which stays confined.
    const after = await db.withTenant(tenantA, async (tx) => {
      await tx.execute(sql.raw('reset role'));
      return (await executeRows(tx, sql.raw('select current_user as u')))[0]!.u;
    });
    expect(after).toBe(db.runtimeRole);
  });

  // PGlite authenticates as its bootstrap superuser, so SET SESSION AUTHORIZATION cannot be
  // refused there; the process owns the data files anyway (docs/decisions/002-runtime-role.md).
  it.runIf(driver === 'postgres')('the runtime role cannot change session authorization', async () => {
    expect(await errorOf(() => db.withTenant(tenantA, (tx) => tx.execute(sql.raw('set session authorization postgres'))))).toMatch(/permission denied/);
  });
});

