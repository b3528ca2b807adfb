import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeRows, executeStatement, tenants, type Database } from '@relais/db';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';
import { insertBareTenants } from '../../tests/support/tenant-rows.js';

// Transaction boundaries are pipelined on PostgreSQL (connect.ts): BEGIN and the context ride with
// the first statement, COMMIT with a final statement. These tests pin the transaction semantics
// that must survive it, on both drivers.
describe.each(testDrivers())('transaction boundaries on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  const tenantA = randomUUID();
  const tenantB = randomUUID();
  const insertCounter = { name: 'test.insert_counter', text: 'insert into tenant_counters (tenant_id, name, value) values ($1, $2, $3) returning value' };
  const counterOf = async (tenantId: string, name: string) =>
    db.withTenant(tenantId, async (tx) => (await executeRows(tx, sql`select value from tenant_counters where name = ${name}`)).map((row) => Number(row.value)));

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    await insertBareTenants(db, [tenantA, tenantB]);
  });
  afterAll(async () => test?.drop());

  it('commits a final statement sent with its COMMIT, under the tenant context', async () => {
    const rows = await db.withTenant(tenantA, (_tx, { queryAndCommit }) => queryAndCommit<{ value: string }>(insertCounter, [tenantA, 'final', 7]));
    expect(rows.map((row) => Number(row.value))).toEqual([7]);
    expect(await counterOf(tenantA, 'final')).toEqual([7]);
    expect(await counterOf(tenantB, 'final')).toEqual([]);
  });

  it('commits earlier statements of the transaction with the final one', async () => {
    await db.withTenant(tenantA, async (_tx, { query, queryAndCommit }) => {
      await query(insertCounter, [tenantA, 'first-of-two', 1]);
      await queryAndCommit(insertCounter, [tenantA, 'second-of-two', 2]);
    });
    expect([...(await counterOf(tenantA, 'first-of-two')), ...(await counterOf(tenantA, 'second-of-two'))]).toEqual([1, 2]);
  });

  it('a failing final statement rolls the whole transaction back and reports its error', async () => {
    const failing = db.withTenant(tenantA, async (_tx, { query, queryAndCommit }) => {
      await query(insertCounter, [tenantA, 'before-failure', 1]);
      // Row-level security refuses a row of another tenant.
      await queryAndCommit(insertCounter, [tenantB, 'other-tenant', 1]);
    });
    await expect(failing).rejects.toThrow(/row-level security/);
    expect(await counterOf(tenantA, 'before-failure')).toEqual([]);
    expect(await counterOf(tenantB, 'other-tenant')).toEqual([]);
  });

  it('a failing first statement rolls back, and the connection serves the next transactions', async () => {
    for (let attempt = 0; attempt < 12; attempt += 1) {
      await expect(db.withTenant(tenantA, (_tx, { query }) => query(insertCounter, [tenantB, `refused-${attempt}`, 1]))).rejects.toThrow(/row-level security/);
      await db.withTenant(tenantA, (_tx, { query }) => query(insertCounter, [tenantA, `after-refusal-${attempt}`, attempt]));
    }
    expect(await counterOf(tenantA, 'after-refusal-11')).toEqual([11]);
    expect(await counterOf(tenantB, 'refused-0')).toEqual([]);
  });

  it('a transaction that fails or ends before any statement changes nothing and returns its value', async () => {
    await expect(db.withTenant(tenantA, async () => 'nothing sent')).resolves.toBe('nothing sent');
    await expect(
      db.withTenant(tenantA, async () => {
        throw new Error('work failed before any statement');
      }),
    ).rejects.toThrow('work failed before any statement');
    expect(await counterOf(tenantA, 'final')).toEqual([7]);
  });

  it('the tenant context holds for the first statement of a transaction, whichever kind it is', async () => {
    // A builder query, a hand-written one and a raw one, each first in its transaction.
    const seen = await Promise.all([
      db.withTenant(tenantB, async (tx) => (await tx.select({ id: tenants.id }).from(tenants)).map((row) => row.id)),
      db.withTenant(tenantB, async (_tx, { query }) => (await query<{ id: string }>({ name: 'test.tenant_ids', text: 'select id from tenants' })).map((row) => row.id)),
      db.withTenant(tenantB, async (tx) => (await executeRows(tx, sql`select current_setting('app.tenant_id') as id`)).map((row) => row.id)),
    ]);
    expect(seen).toEqual([[tenantB], [tenantB], [tenantB]]);
  });

  it('executeStatement runs a hand-written statement in the transaction it is given, under its context', async () => {
    const seen = await db.withTenant(tenantB, async (tx) => {
      await executeStatement(tx, insertCounter, [tenantB, 'through-tx', 3]);
      return (await executeStatement<{ id: string }>(tx, { name: 'test.tenant_ids', text: 'select id from tenants' })).map((row) => row.id);
    });
    expect(seen).toEqual([tenantB]);
    expect(await counterOf(tenantB, 'through-tx')).toEqual([3]);
    await expect(db.withTenant(tenantA, (tx) => executeStatement(tx, insertCounter, [tenantB, 'refused-through-tx', 1]))).rejects.toThrow(/row-level security/);
  });

  it.runIf(driver === 'postgres')('refuses any statement after the final one (its COMMIT is already sent)', async () => {
    const misuse = db.withTenant(tenantA, async (_tx, { query, queryAndCommit }) => {
      await queryAndCommit(insertCounter, [tenantA, 'final-then-more', 1]);
      await query(insertCounter, [tenantA, 'after-final', 1]);
    });
    await expect(misuse).rejects.toThrow(/final statement/);
    expect(await counterOf(tenantA, 'final-then-more')).toEqual([1]);
    expect(await counterOf(tenantA, 'after-final')).toEqual([]);
  });

  it('a final statement that checks itself with relais_assert rolls back with its COMMIT when the check fails', async () => {
    const checked = {
      name: 'test.checked_insert',
      text: `with inserted as (insert into tenant_counters (tenant_id, name, value) values ($1, $2, $3) returning value)
        select relais_assert((select count(*) from inserted) = $4, 'inserted other rows than asked') as ok`,
    };
    await expect(db.withTenant(tenantA, (_tx, { query, queryAndCommit }) => query(insertCounter, [tenantA, 'before-check', 1]).then(() => queryAndCommit(checked, [tenantA, 'checked-bad', 5, 2])))).rejects.toThrow(
      'inserted other rows than asked',
    );
    expect([...(await counterOf(tenantA, 'before-check')), ...(await counterOf(tenantA, 'checked-bad'))]).toEqual([]);
    await db.withTenant(tenantA, (_tx, { queryAndCommit }) => queryAndCommit(checked, [tenantA, 'checked-good', 6, 1]));
    expect(await counterOf(tenantA, 'checked-good')).toEqual([6]);
  });
  it('genericPlans holds for its transaction only, with the tenant context, and never leaks to the next ones on a connection', async () => {
    const settings = { name: 'test.plan_settings', text: "select current_setting('plan_cache_mode') as mode, current_setting('app.tenant_id', true) as tenant" };
    const inGeneric = await db.withTenant(tenantA, (_tx, { query }) => query<{ mode: string; tenant: string }>(settings), { genericPlans: true });
    expect(inGeneric).toEqual([{ mode: 'force_generic_plan', tenant: tenantA }]);
    const platformGeneric = await db.withPlatform((_tx, { queryAndCommit }) => queryAndCommit<{ mode: string }>(settings), { genericPlans: true });
    expect(platformGeneric.map((row) => row.mode)).toEqual(['force_generic_plan']);
    // As many transactions at once as the pool has connections: each reports the default.
    const after = await Promise.all(Array.from({ length: 12 }, () => db.withTenant(tenantB, (_tx, { query }) => query<{ mode: string }>(settings))));
    expect(new Set(after.flat().map((row) => row.mode))).toEqual(new Set(['auto']));
  });
});
