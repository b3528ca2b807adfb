import { randomUUID } from 'node:crypto';
import { getTableColumns } from 'drizzle-orm';
import { getTableConfig, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import { centralTables, tenants, tenantTables, type Database, type Tx } from '@relais/db';

interface Reference {
  columns: string[];
  foreignTable: string;
  foreignColumns: string[];
}

function referencesOf(table: PgTable): Reference[] {
  return getTableConfig(table).foreignKeys.map((fk) => {
    const ref = fk.reference();
    return {
      columns: ref.columns.map((c) => c.name),
      foreignTable: getTableConfig(ref.foreignTable).name,
      foreignColumns: ref.foreignColumns.map((c) => c.name),
    };
  });
}

const tableByName = new Map([...centralTables, ...tenantTables].map((table) => [getTableConfig(table).name, table]));

function propertyFor(table: PgTable, columnName: string): string {
  return Object.entries(getTableColumns(table)).find(([, column]) => column.name === columnName)![0];
}

/** Tables ordered so that every table comes after the tables it references. */
export function inDependencyOrder(tables: readonly PgTable[]): PgTable[] {
  const byName = new Map(tables.map((table) => [getTableConfig(table).name, table]));
  const ordered: PgTable[] = [];
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string) => {
    if (done.has(name) || visiting.has(name)) return;
    visiting.add(name);
    for (const ref of referencesOf(byName.get(name)!)) {
      if (byName.has(ref.foreignTable) && ref.foreignTable !== name) visit(ref.foreignTable);
    }
    visiting.delete(name);
    done.add(name);
    ordered.push(byName.get(name)!);
  };
  for (const name of byName.keys()) visit(name);
  return ordered;
}

function sampleValue(column: PgColumn): unknown {
  const enumValues = (column as { enumValues?: string[] }).enumValues;
  if (enumValues && enumValues.length > 0) return enumValues[0];
  switch (column.columnType) {
    case 'PgUUID':
      return randomUUID();
    case 'PgInteger':
    case 'PgBigInt53':
      return 1;
    case 'PgBoolean':
      return false;
    case 'PgTimestamp':
      return new Date();
    case 'PgDate':
    case 'PgDateString':
      return '2026-01-01';
    case 'PgJsonb':
      return {};
    case 'PgArray':
      return [];
    default:
      return `sample-${randomUUID().slice(0, 8)}`;
  }
}

/**
 * Inserts one valid row into every tenant table for `tenantId` (within a tx already switched to
 * that tenant), filling required columns generically and required references with the parent
 * rows it created. Returns the rows by table name.
 */
export async function insertRowInEveryTenantTable(tx: Tx, tenantId: string): Promise<Map<string, Record<string, unknown>>> {
  return insertRowInEveryTable(tx, tenantTables, tenantId);
}

/**
 * Same for central tables (in a platform transaction): nullable tenant references are left empty,
 * required ones point at `tenantId`; existing rows (plans, tenants) serve as parents.
 */
export async function insertRowInEveryCentralTable(tx: Tx, tenantId: string): Promise<Map<string, Record<string, unknown>>> {
  return insertRowInEveryTable(tx, centralTables, tenantId);
}

async function insertRowInEveryTable(tx: Tx, tables: readonly PgTable[], tenantId: string): Promise<Map<string, Record<string, unknown>>> {
  const inserted = new Map<string, Record<string, unknown>>();
  for (const table of inDependencyOrder(tables)) {
    const config = getTableConfig(table);
    const row: Record<string, unknown> = {};
    const referenced = new Map<string, { table: string; column: string }>();
    for (const ref of referencesOf(table)) {
      ref.columns.forEach((column, i) => {
        if (column !== 'tenant_id') referenced.set(column, { table: ref.foreignTable, column: ref.foreignColumns[i]! });
      });
    }
    for (const [key, column] of Object.entries(getTableColumns(table)) as [string, PgColumn][]) {
      const parent = referenced.get(column.name);
      if (column.name === 'tenant_id') {
        if (column.notNull) row[key] = tenantId;
      } else if (parent && column.notNull) {
        row[key] = inserted.get(parent.table)![propertyFor(tableByName.get(parent.table)!, parent.column)];
      } else if (column.notNull && !column.hasDefault) {
        row[key] = sampleValue(column);
      }
    }
    const [created] = await tx.insert(table).values(row).returning();
    inserted.set(config.name, created as Record<string, unknown>);
  }
  return inserted;
}

/** Bare tenant rows (commission mode, no plan, no users) for tests of the database layer, slugged from their ids. */
export async function insertBareTenants(db: Database, ids: readonly string[]): Promise<void> {
  await db.withPlatform(async (tx) => {
    for (const [index, id] of ids.entries()) {
      const slug = `${String.fromCharCode(97 + index)}-${id.slice(0, 8)}`;
      await tx.insert(tenants).values({ id, slug, name: slug, email: `${slug}@example.test`, billingMode: 'commission' });
    }
  });
}
