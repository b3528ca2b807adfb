import pg from 'pg';

/**
 * Counts the queries node-postgres sends from this process (one call of Client.query = one round
 * trip to the server) until the returned function is called, which also stops counting.
 * PGlite is not counted.
 */
export function countSqlRoundTrips(): () => number {
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  let count = 0;
  prototype.query = function query(this: unknown, ...args: unknown[]) {
    count += 1;
    return original.apply(this, args);
  };
  return () => {
    prototype.query = original;
    return count;
  };
}
