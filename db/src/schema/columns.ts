import { sql } from 'drizzle-orm';
import { pgPolicy, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * The tenant a row belongs to, as set by withTenant() for the current transaction.
 * `nullif` matters: once a transaction-local setting ends, PostgreSQL leaves it as '' for the
 * rest of the session, and ''::uuid would raise instead of matching nothing.
 */
export const CURRENT_TENANT_SQL = sql`nullif(current_setting('app.tenant_id', true), '')::uuid`;

/** Row-level security policy every tenant table carries (FORCE is added by the migration generator). */
export function tenantIsolation() {
  return pgPolicy('tenant_isolation', {
    as: 'permissive',
    for: 'all',
    to: 'public',
    using: sql`tenant_id = ${CURRENT_TENANT_SQL}`,
    withCheck: sql`tenant_id = ${CURRENT_TENANT_SQL}`,
  });
}

/** True only inside withPlatform(): the platform context, the one place central tables are open. */
export const PLATFORM_CONTEXT_SQL = sql`coalesce(current_setting('app.platform', true), '') = 'on'`;

/** Central tables: every operation needs the platform context. */
export function platformOnly() {
  return pgPolicy('platform_only', {
    as: 'permissive',
    for: 'all',
    to: 'public',
    using: PLATFORM_CONTEXT_SQL,
    withCheck: PLATFORM_CONTEXT_SQL,
  });
}

/** Lets a tenant context read the central rows that are about itself (its plan, its invoices). */
export function tenantReadsOwnRows(column: 'id' | 'tenant_id') {
  return pgPolicy('tenant_reads_own', { as: 'permissive', for: 'select', to: 'public', using: sql`${sql.identifier(column)} = ${CURRENT_TENANT_SQL}` });
}

/** Reference data any context may read (plans). */
export function readableByAll() {
  return pgPolicy('readable_by_all', { as: 'permissive', for: 'select', to: 'public', using: sql`true` });
}

export const id = () => uuid('id').notNull().defaultRandom();

export const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
export const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
export const at = (name: string) => timestamp(name, { withTimezone: true });
