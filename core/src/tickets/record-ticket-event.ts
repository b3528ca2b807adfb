import { randomUUID } from 'node:crypto';
import { executeStatement, type RawStatement, type Tx } from '@relais/db';
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

export interface TicketEventRecord {
  tenantId: string;
  ticketId: string;
  kind: TicketEventKind;
  actor: TicketActor;
  data?: Record<string, unknown>;
  at: Date;
  /** Given by at-least-once callers (outbox consumers): the same id records the event once. */
  eventId?: string;
}

/**
 * Records what happened to a ticket, in the caller's transaction: a ticket_events row (the
 * ticket's activity log, append-only) and, for the kinds automations react to, an outbox message
 * `ticket.event` { eventId }. When an automation is the actor, `data.causedBy` keeps its chain
 * (loop guard). Returns the event id.
 */
export async function recordTicketEvent(tx: Tx, event: TicketEventRecord): Promise<string> {
  return (await recordTicketEvents(tx, [event]))[0]!;
}

const RECORD_TICKET_EVENTS: RawStatement = {
  name: 'tickets.record_events',
  text: `with ticket_event_input as (
      select * from jsonb_to_recordset($2::jsonb) as e(id uuid, ticket_id uuid, kind text, actor_kind text, actor_id text, data jsonb, created_at timestamptz)
    ), ${ticketEventCtes('$1::uuid')} select 1`,
};

/** Several events of one tenant in one statement. */
export async function recordTicketEvents(tx: Tx, events: TicketEventRecord[]): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = events.map((event) => ({
    id: event.eventId ?? randomUUID(),
    ticket_id: event.ticketId,
    kind: event.kind,
    ...actorRow(event.actor),
    data: { ...(event.data ?? {}), ...(event.actor.kind === 'automation' ? { causedBy: [...event.actor.chain, event.actor.automationId] } : {}) },
    created_at: event.at.toISOString(),
  }));
  await executeStatement(tx, RECORD_TICKET_EVENTS, [events[0]!.tenantId, JSON.stringify(rows)]);
  return rows.map((row) => row.id);
}

/**
 * The CTE items of `recordTicketEvents`, as SQL text, for a statement that does more (ticket
 * opening records its events in the statement that inserts its tickets): they read an earlier
 * item `ticket_event_input` (id, ticket_id, kind, actor_kind, actor_id, data, created_at);
 * `tenant` is the tenant id's SQL expression. An id already recorded is skipped; kinds
 * automations react to get their outbox message.
 */
export function ticketEventCtes(tenant: string): string {
  return `ticket_event_rows as (
      insert into ticket_events (tenant_id, id, ticket_id, kind, actor_kind, actor_id, data, created_at)
      select ${tenant}, id, ticket_id, kind, actor_kind, actor_id, data, created_at from ticket_event_input
      on conflict do nothing
      returning id, kind
    ),
    ticket_event_outbox as (
      insert into outbox (tenant_id, topic, dedupe_key, payload)
      select ${tenant}, '${TICKET_EVENT_TOPIC}', 'ticket-event:' || r.id, jsonb_build_object('eventId', r.id)
      from ticket_event_rows r
      where r.kind in (${AUTOMATION_TRIGGER_KINDS.map((kind) => `'${kind}'`).join(', ')})
      on conflict do nothing
    )`;
}

/** The ticket_events actor columns, as `ticketEventCtes` rows carry them. */
export function actorRow(actor: TicketActor): { actor_kind: string; actor_id: string | null } {
  const columns = actorColumns(actor);
  return { actor_kind: columns.actorKind, actor_id: columns.actorId };
}
