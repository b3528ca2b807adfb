import { sql, type SQL } from 'drizzle-orm';
import { executeRows, type RawStatement, type TenantContext, type Tx } from '@relais/db';

/** Runs a hand-written statement ($1, $2... parameters) in a transaction and returns its rows. */
export type StatementRunner = <R = Record<string, unknown>>(statement: RawStatement, params?: readonly unknown[]) => Promise<R[]>;

/**
 * The runner of a transaction: the tenant context's named statements when the caller has one
 * (parsed and planned once per connection), else the same text sent through drizzle, unnamed
 * (callers that open tickets inside their own transactions hold only `tx`).
 */
export function statementRunner(tx: Tx, context?: Pick<TenantContext, 'query'>): StatementRunner {
  if (context) return (statement, params) => context.query(statement, params);
  return async <R>(statement: RawStatement, params: readonly unknown[] = []) => (await executeRows(tx, statementSql(statement.text, params))) as R[];
}

/** A hand-written statement as drizzle SQL: each `$n` becomes the n-th parameter. The texts never hold `$` elsewhere. */
export function statementSql(text: string, params: readonly unknown[]): SQL {
  const parts = text.split(/\$(\d+)/);
  return sql.join(parts.map((part, i) => (i % 2 === 0 ? sql.raw(part) : sql.param(params[Number(part) - 1]))));
}
