import { ticketEvents, type Tx } from '@relais/db';
import { writeToOutbox } from '../shared/outbox.js';
import { actorColumns, type TicketActor } from './ticket-actor.js';

/** What can happen to a ticket. */
export const TICKET_EVENT_KINDS = [
  'created',
  'updated',
  'customer_replied',
  'sla_warning',
  'sla_breached',
  'payment_received',
  'agent_replied',
  'note_added',
  'assigned',
  'resolved',
  'reopened',
  'closed',
  'merged',
  'csat_received',
] as const;
export type TicketEventKind = (typeof TICKET_EVENT_KINDS)[number];

/** The kinds automations can be written for. */
export const AUTOMATION_TRIGGER_KINDS = ['created', 'updated', 'customer_replied', 'sla_warning', 'sla_breached', 'payment_received'] as const satisfies readonly TicketEventKind[];

/** Outbox topic of the ticket events automations react to: the automations job reads it. */
export const TICKET_EVENT_TOPIC = 'ticket.event';

/**
 * Records what happened to a ticket, in the caller's transaction: a ticket_events row (the
 * ticket's activity log, append-only) and, for the kinds automations react to, an outbox message
 * `ticket.event` { eventId }. When an automation is the actor, `data.causedBy` keeps its chain (loop guard).
 * Returns the event id.
 */
export async function recordTicketEvent(
  tx: Tx,
  event: {
    tenantId: string;
    ticketId: string;
    kind: TicketEventKind;
    actor: TicketActor;
    data?: Record<string, unknown>;
    at: Date;
    /** Given by at-least-once callers (outbox consumers): the same id records the event once. */
    eventId?: string;
  },
): Promise<string> {
  const data = { ...(event.data ?? {}), ...(event.actor.kind === 'automation' ? { causedBy: [...event.actor.chain, event.actor.automationId] } : {}) };
  const [row] = await tx
    .insert(ticketEvents)
    .values({ tenantId: event.tenantId, id: event.eventId, ticketId: event.ticketId, kind: event.kind, ...actorColumns(event.actor), data, createdAt: event.at })
    .onConflictDoNothing()
    .returning({ id: ticketEvents.id });
  if (!row) return event.eventId!;
  if (!(AUTOMATION_TRIGGER_KINDS as readonly string[]).includes(event.kind)) return row.id;
  await writeToOutbox(tx, event.tenantId, { topic: TICKET_EVENT_TOPIC, dedupeKey: `ticket-event:${row.id}`, payload: { eventId: row.id } });
  return row.id;
}
