import pg from 'pg';

/**
 * Counts the round trips node-postgres makes from this process until the returned function is
 * called, which also stops counting. A round trip is a Client.query call, except that queries a
 * client sends together in one tick (pipelined: BEGIN and the context with the first statement,
 * COMMIT behind a final one — db/src/connect.ts) wait for the server once, so count once.
 * PGlite is not counted.
 */
export function countSqlRoundTrips(): () => number {
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  const sendingThisTick = new WeakSet<object>();
  let count = 0;
  prototype.query = function query(this: object, ...args: unknown[]) {
    if (!sendingThisTick.has(this)) {
      count += 1;
      sendingThisTick.add(this);
      process.nextTick(() => sendingThisTick.delete(this));
    }
    return original.apply(this, args);
  };
  return () => {
    prototype.query = original;
    return count;
  };
}
