import { sql } from 'drizzle-orm';
import { executeRows, type Tx } from '@relais/db';

export const INVOICE_NUMBER_PREFIX = 'RLS';
/** RLS-<year>-<sequence>, the sequence zero-padded to six digits (it may grow past them). */
export const INVOICE_NUMBER_PATTERN = /^RLS-(\d{4})-(\d{6,})$/;

export function formatInvoiceNumber(year: number, sequence: number): string {
  return `${INVOICE_NUMBER_PREFIX}-${year}-${String(sequence).padStart(6, '0')}`;
}

/**
 * Takes the next invoice number of `year` inside the caller's transaction (`deps.tx`, a platform
 * transaction), e.g. RLS-2026-000123.
 *
 * Gap-free by construction: the counter row `invoice:<year>` in platform_counters is incremented
 * by an upsert, which locks the row until the transaction ends. Concurrent issuers therefore
 * queue on that row and each sees the value the previous one committed; a transaction that rolls
 * back releases its increment, so the next issuer gets the same number. (A PostgreSQL sequence
 * would be faster but is never rolled back, so it leaves gaps — which invoice numbering forbids.)
 * The price is that issuances serialize from this call to commit: keep that stretch short.
 */
export async function nextInvoiceNumber(deps: { tx: Tx }, options: { year: number }): Promise<string> {
  const { year } = options;
  if (!Number.isInteger(year) || year < 2000 || year > 9999) {
    throw new RangeError(`nextInvoiceNumber: ${year} is not a plausible year`);
  }
  const rows = await executeRows(
    deps.tx,
    sql`insert into platform_counters (name, value) values (${`invoice:${year}`}, 1)
        on conflict (name) do update set value = platform_counters.value + 1
        returning value`,
  );
  // bigint arrives as a string from node-postgres and as a bigint or number from PGlite.
  return formatInvoiceNumber(year, Number(rows[0]!.value));
}
