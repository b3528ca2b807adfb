import { outbox, type Tx } from '@relais/db';

export interface OutboxMessage {
  topic: string;
  /** Unique per tenant: writing the same key twice records one message. */
  dedupeKey: string;
  payload: Record<string, unknown>;
}

/**
 * Records a side effect to perform after commit, in the caller's (tenant) transaction: it exists
 * if and only if the change that caused it committed. Returns false when the key was already there.
 */
export async function writeToOutbox(tx: Tx, tenantId: string, message: OutboxMessage): Promise<boolean> {
  const inserted = await tx
    .insert(outbox)
    .values({ tenantId, topic: message.topic, dedupeKey: message.dedupeKey, payload: message.payload })
    .onConflictDoNothing({ target: [outbox.tenantId, outbox.dedupeKey] })
    .returning({ id: outbox.id });
  return inserted.length > 0;
}
