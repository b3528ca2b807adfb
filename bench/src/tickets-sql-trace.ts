import pg from 'pg';
import type { Database } from '@relais/db';

/** One statement node-postgres sent, with when it was sent and when its answer came back (performance.now()). */
export interface TracedStatement {
  text: string;
  values: readonly unknown[];
  startMs: number;
  endMs: number;
}

/**
 * Records every query node-postgres sends from this process until the returned function is
 * called (which stops recording and returns them in the order sent). PGlite is not traced.
 */
export function traceSqlStatements(): () => TracedStatement[] {
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  const traced: TracedStatement[] = [];
  prototype.query = function query(this: unknown, ...args: unknown[]) {
    const [first, second] = args;
    const config = typeof first === 'string' ? { text: first, values: second } : (first as { text: string; values?: unknown });
    const statement: TracedStatement = {
      text: config.text,
      values: Array.isArray(config.values) ? config.values : Array.isArray(second) ? second : [],
      startMs: performance.now(),
      endMs: Number.NaN,
    };
    traced.push(statement);
    const result = original.apply(this, args);
    const done = () => {
      statement.endMs = performance.now();
    };
    if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(done, done);
    return result;
  };
  return () => {
    prototype.query = original;
    return traced;
  };
}

/** A statement's text shortened to what tells it apart (first 90 characters, whitespace folded). */
export function statementLabel(text: string): string {
  const folded = text.replace(/\s+/g, ' ').trim();
  return folded.length > 90 ? `${folded.slice(0, 87)}...` : folded;
}

/** EXPLAIN (ANALYZE, BUFFERS) of the reads `work` sends, re-run in a tenant transaction with the same parameters. */
export async function explainReads(db: Database, tenantId: string, work: () => Promise<unknown>): Promise<string> {
  const stop = traceSqlStatements();
  let traced: TracedStatement[];
  try {
    await work();
  } finally {
    traced = stop();
  }
  const statements = traced.filter((statement) => /^\s*(select|with)\b/i.test(statement.text) && !/set_config/.test(statement.text));
  const plans: string[] = [];
  for (const statement of statements) {
    const rows = await db.withTenant(tenantId, (_tx, context) =>
      context.query<{ 'QUERY PLAN': string }>({ name: '', text: `explain (analyze, buffers) ${statement.text}` }, statement.values),
    );
    plans.push(`-- ${statementLabel(statement.text)}\n${rows.map((row) => row['QUERY PLAN']).join('\n')}`);
  }
  return plans.join('\n\n');
}

