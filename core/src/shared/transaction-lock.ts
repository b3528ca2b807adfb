import { sql } from 'drizzle-orm';
import type { Tx } from '@relais/db';

/**
 * Serialises, until the transaction ends, work on one key (first contact of one identity, the last
 * place of a plan limit...): a transaction-level advisory lock, with no row to lock, released at
 * commit or rollback, available to the runtime role.
 */
export async function lockKey(tx: Tx, key: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
}
