import { sql } from 'drizzle-orm';
import { executeRows, type Tx } from '@relais/db';

/** The tenant_counters row that numbers tickets (#1, #2...). */
export const TICKET_NUMBER_COUNTER = 'ticket';

/**
 * The tenant's next ticket number. Gap-free: the counter row stays locked until the caller's
 * transaction ends, which also serialises the tenant's ticket openings and assignments.
 */
export async function nextTicketNumber(tx: Tx, tenantId: string): Promise<number> {
  return upsertCounter(tx, tenantId, 1);
}

/** Takes the tenant's ticket lock (the counter row) without using a number. */
export async function lockTicketCounter(tx: Tx, tenantId: string): Promise<void> {
  await upsertCounter(tx, tenantId, 0);
}

async function upsertCounter(tx: Tx, tenantId: string, increment: 0 | 1): Promise<number> {
  const [counter] = (await executeRows(
    tx,
    sql`insert into tenant_counters (tenant_id, name, value) values (${tenantId}, ${TICKET_NUMBER_COUNTER}, ${increment})
        on conflict (tenant_id, name) do update set value = tenant_counters.value + ${increment}
        returning value`,
  )) as { value: string | number }[];
  return Number(counter!.value);
}
