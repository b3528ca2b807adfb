import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { tenantTableNames } from '@relais/db';

/**
 * What a tenant table must look like (DESIGN.md, "Data and tenancy"): tenant_id first in the
 * primary key and in every foreign key, and the tenant_isolation policy. Returns the breaches.
 */
export function tenantTableViolations(table: PgTable): string[] {
  const config = getTableConfig(table);
  const problems: string[] = [];
  const singleColumnKey = config.columns.find((column) => column.primary);
  const compositeKey = config.primaryKeys[0];
  if (singleColumnKey && singleColumnKey.name !== 'tenant_id') {
    problems.push(`${config.name}: primary key is ${singleColumnKey.name}, not (tenant_id, ...)`);
  } else if (!singleColumnKey && compositeKey?.columns[0]?.name !== 'tenant_id') {
    problems.push(`${config.name}: primary key does not start with tenant_id`);
  }
  for (const fk of config.foreignKeys) {
    const reference = fk.reference();
    const target = getTableConfig(reference.foreignTable).name;
    if (reference.columns[0]?.name !== 'tenant_id') {
      problems.push(`${config.name}: foreign key to ${target} does not start with tenant_id`);
    }
    if (tenantTableNames.includes(target) && reference.foreignColumns[0]?.name !== 'tenant_id') {
      problems.push(`${config.name}: foreign key to ${target} does not reference its tenant_id`);
    }
  }
  if (!config.policies.some((policy) => policy.name === 'tenant_isolation')) {
    problems.push(`${config.name}: no tenant_isolation policy`);
  }
  return problems;
}
