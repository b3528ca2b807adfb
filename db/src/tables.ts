import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { centralSchema, tenantSchema } from './schema/index.js';

function tablesOf(module: Record<string, unknown>): PgTable[] {
  return Object.values(module).filter((value): value is PgTable => value instanceof PgTable);
}

/** Every tenant-owned table, enumerated from the schema module (not a hand-written list). */
export const tenantTables: readonly PgTable[] = tablesOf(tenantSchema);
export const centralTables: readonly PgTable[] = tablesOf(centralSchema);

export const tenantTableNames: readonly string[] = tenantTables.map((table) => getTableConfig(table).name);
export const centralTableNames: readonly string[] = centralTables.map((table) => getTableConfig(table).name);

/** Ledger, audit and ticket-activity lines are facts: the runtime role may add them, never rewrite them. */
export const appendOnlyTableNames: readonly string[] = ['payment_splits', 'audit_log', 'ticket_events'];
