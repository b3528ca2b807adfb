import { z } from 'zod';
import type { Database } from '@relais/db';
import { uuidFromKey } from '../conversations/conversation-records.js';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';
import { recordTicketEvent } from './record-ticket-event.js';
import { SYSTEM_ACTOR } from './ticket-actor.js';

const recordTicketPaymentInput = z.object({ tenantId: z.uuid(), ticketId: z.uuid(), eventKey: z.string().min(1) });

/**
 * `payment_received` on a paid ticket, for the automations; once per `eventKey` (the `ticket.paid`
 * outbox delivery: its consumer runs at least once).
 */
export async function recordTicketPayment(deps: { db: Database; clock: Clock }, options: z.input<typeof recordTicketPaymentInput>): Promise<void> {
  const input = parseInput(recordTicketPaymentInput, options);
  await deps.db.withTenant(input.tenantId, (tx) =>
    recordTicketEvent(tx, {
      tenantId: input.tenantId,
      ticketId: input.ticketId,
      kind: 'payment_received',
      actor: SYSTEM_ACTOR,
      eventId: uuidFromKey(`payment-received:${input.eventKey}`),
      at: deps.clock.now(),
    }),
  );
}
