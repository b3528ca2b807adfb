import { and, eq, isNull } from 'drizzle-orm';
import { tickets, users, type Tx } from '@relais/db';
import { notifyUsers } from '../../notifications/notify-users.js';
import { AppError } from '../../shared/app-error.js';
import { writeToOutbox } from '../../shared/outbox.js';
import { applyTicketChanges, type TicketChanges } from '../apply-ticket-changes.js';
import { renderCannedResponseInTx } from '../canned-responses/render-canned-response.js';
import { postTicketReply } from '../post-ticket-reply.js';
import type { TicketActor } from '../ticket-actor.js';
import type { TicketPriority } from '../ticket-values.js';
import type { AutomationAction } from './automation-rules.js';

/** Outbox topic of a webhook action: { automationId, eventId, actionIndex }, the signed call is made by its consumer. */
export const AUTOMATION_WEBHOOK_TOPIC = 'automation.webhook';

/** What one action did, stored in the run's `results` at the action's index. */
export type AutomationActionResult = { type: AutomationAction['type'] } & Record<string, unknown>;

export interface AutomationActionContext {
  tenantId: string;
  automation: { id: string; name: string };
  /** The event the automation runs on, and the chain of automations that caused it. */
  event: { id: string; causedBy: string[] };
  ticketId: string;
  now: Date;
}

const NEXT_PRIORITY: Record<TicketPriority, TicketPriority> = { low: 'medium', medium: 'high', high: 'urgent', urgent: 'urgent' };

/**
 * Runs an automation's actions in order, in the caller's transaction, through the ticket use
 * cases with the automation as actor: the events they record carry the chain (loop guard). Any
 * failure throws and the caller's transaction takes every effect back.
 */
export async function applyAutomationActions(tx: Tx, context: AutomationActionContext, actions: readonly AutomationAction[]): Promise<AutomationActionResult[]> {
  const actor: TicketActor = { kind: 'automation', automationId: context.automation.id, chain: context.event.causedBy };
  const results: AutomationActionResult[] = [];
  for (const [index, action] of actions.entries()) {
    results.push(await applyAction(tx, context, actor, action, index));
  }
  return results;
}

async function applyAction(tx: Tx, context: AutomationActionContext, actor: TicketActor, action: AutomationAction, index: number): Promise<AutomationActionResult> {
  const { tenantId, ticketId, now } = context;
  const change = async (changes: TicketChanges) => (await applyTicketChanges(tx, { tenantId, actor, ticketId, changes, now })).changed;
  switch (action.type) {
    case 'assign_agent':
      return { type: action.type, changed: await change({ assigneeId: action.userId }) };
    case 'assign_team':
      return { type: action.type, changed: await change({ teamId: action.teamId }) };
    case 'set_priority':
      return { type: action.type, changed: await change({ priority: action.priority }) };
    case 'set_status':
      return { type: action.type, changed: await change({ status: action.status }) };
    case 'add_tag':
      return { type: action.type, changed: await change({ addTags: [action.tag] }) };
    case 'send_canned': {
      // Signed by the assignee as it is now (an earlier action may just have assigned someone).
      const { text } = await renderCannedResponseInTx(tx, { tenantId, cannedResponseId: action.cannedResponseId, ticketId });
      const { messageId } = await postTicketReply(tx, { tenantId, actor, ticketId, body: text, isPrivate: false, now });
      return { type: action.type, messageId };
    }
    case 'notify': {
      const ticket = await currentTicket(tx, tenantId, ticketId);
      const userIds = action.to === 'assignee' ? (ticket.assigneeId ? [ticket.assigneeId] : []) : action.to === 'admins' ? await adminIds(tx, tenantId) : action.to;
      const notified = await notifyUsers(tx, {
        tenantId,
        userIds,
        kind: 'automation.notify',
        content: {
          title: { fr: `Ticket #${ticket.number} : ${context.automation.name}`, en: `Ticket #${ticket.number}: ${context.automation.name}` },
          body: action.message,
          ticketId,
          ticketNumber: ticket.number,
        },
        at: now,
      });
      return { type: action.type, notified: notified.length };
    }
    case 'escalate': {
      const before = await currentTicket(tx, tenantId, ticketId);
      const priority = NEXT_PRIORITY[before.priority];
      const changed = priority === before.priority ? [] : await change({ priority });
      const notified = await notifyUsers(tx, {
        tenantId,
        userIds: await adminIds(tx, tenantId),
        kind: 'automation.notify',
        content: {
          title: { fr: `Ticket #${before.number} escaladé`, en: `Ticket #${before.number} escalated` },
          body: {
            fr: `L’automatisation « ${context.automation.name} » a escaladé le ticket #${before.number} : « ${before.subject} » (priorité ${PRIORITY_FR[priority]}).`,
            en: `Automation "${context.automation.name}" escalated ticket #${before.number}: "${before.subject}" (priority ${priority}).`,
          },
          ticketId,
          ticketNumber: before.number,
        },
        at: now,
      });
      return { type: action.type, priority: [before.priority, priority], changed, notified: notified.length };
    }
    case 'webhook': {
      // Ids only: the consumer reads the URL and the signing key when it calls.
      await writeToOutbox(tx, tenantId, {
        topic: AUTOMATION_WEBHOOK_TOPIC,
        dedupeKey: `automation-webhook:${context.automation.id}:${context.event.id}:${index}`,
        payload: { automationId: context.automation.id, eventId: context.event.id, actionIndex: index },
      });
      return { type: action.type, delivery: 'queued' };
    }
  }
}

const PRIORITY_FR: Record<TicketPriority, string> = { low: 'basse', medium: 'normale', high: 'haute', urgent: 'urgente' };

async function currentTicket(tx: Tx, tenantId: string, ticketId: string) {
  const [ticket] = await tx
    .select({ number: tickets.number, subject: tickets.subject, priority: tickets.priority, assigneeId: tickets.assigneeId })
    .from(tickets)
    .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId)));
  if (!ticket) throw new AppError('NOT_FOUND', 'ticket not found');
  return ticket;
}

async function adminIds(tx: Tx, tenantId: string): Promise<string[]> {
  const rows = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.role, 'admin'), isNull(users.disabledAt)));
  return rows.map((row) => row.id);
}
