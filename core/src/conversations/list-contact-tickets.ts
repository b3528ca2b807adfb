import { sql } from 'drizzle-orm';
import { executeRows, type Database } from '@relais/db';
import { z } from 'zod';
import { parseInput } from '../shared/parse-input.js';
import type { TicketSummary } from './conversation-input.js';

const listContactTicketsInput = z.object({ tenantId: z.uuid(), contactId: z.uuid(), limit: z.number().int().min(1).max(20).default(3) });

/** A contact's latest tickets with their status and the last public reply an agent wrote. */
export async function listContactTickets(deps: { db: Database }, options: z.input<typeof listContactTicketsInput>): Promise<TicketSummary[]> {
  const input = parseInput(listContactTicketsInput, options);
  const rows = await deps.db.withTenant(input.tenantId, (tx) =>
    executeRows(
      tx,
      sql`select t.number, t.subject, t.status, r.body as last_reply
          from tickets t
          left join lateral (
            select m.body from ticket_messages m
            where m.tenant_id = t.tenant_id and m.ticket_id = t.id and m.author_kind = 'agent' and not m.is_private
            order by m.created_at desc limit 1) r on true
          where t.tenant_id = ${input.tenantId} and t.contact_id = ${input.contactId}
          order by t.created_at desc limit ${input.limit}`,
    ),
  );
  return rows.map((row) => ({
    number: Number(row.number),
    subject: row.subject as string,
    status: row.status as string,
    lastReply: row.last_reply ? String(row.last_reply).slice(0, 200) : null,
  }));
}
