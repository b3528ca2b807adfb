import { executeStatement, type RawStatement, type Tx } from '@relais/db';

/** The tenant_counters row that numbers tickets (#1, #2...). */
export const TICKET_NUMBER_COUNTER = 'ticket';

const TAKE_NUMBERS: RawStatement = {
  name: 'tickets.take_numbers',
  text: `insert into tenant_counters (tenant_id, name, value) values ($1, '${TICKET_NUMBER_COUNTER}', $2::integer)
    on conflict (tenant_id, name) do update set value = tenant_counters.value + $2::integer
    returning value`,
};

/**
 * The tenant's next `count` ticket numbers (returns the last one: they are last - count + 1 ...
 * last). Gap-free: the counter row stays locked until the caller's transaction ends, which also
 * serialises the tenant's ticket openings and assignments. 0 takes the lock and no number.
 */
export async function takeTicketNumbers(tx: Tx, tenantId: string, count: number): Promise<number> {
  const [counter] = await executeStatement<{ value: string | number }>(tx, TAKE_NUMBERS, [tenantId, count]);
  return Number(counter!.value);
}

/** Takes the tenant's ticket lock (the counter row) without using a number. */
export async function lockTicketCounter(tx: Tx, tenantId: string): Promise<void> {
  await takeTicketNumbers(tx, tenantId, 0);
}
