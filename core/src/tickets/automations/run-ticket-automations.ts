import { and, asc, eq } from 'drizzle-orm';
import { automationRuns, automations, channelAccounts, contacts, conversations, ticketEvents, tickets, type Database, type Tx } from '@relais/db';
import { z } from 'zod';
import { isAppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import type { Clock } from '../../shared/ports/clock.js';
import { applyAutomationActions, type AutomationActionResult } from './apply-automation-actions.js';
import { AUTOMATION_EVENTS, storedAutomationRuleSchema, type AutomationEvent } from './automation-rules.js';
import { automationConditionsMatch, type AutomationTicketFacts } from './evaluate-conditions.js';
import { automationChainOf, isAutomationLoop } from './loop-guard.js';

export const runTicketAutomationsInput = z.object({ tenantId: z.uuid(), eventId: z.uuid() });

export type AutomationRunStatus = 'applied' | 'not_matched' | 'skipped_loop' | 'failed';

export interface AutomationRunOutcome {
  automationId: string;
  /** `already_ran`: another delivery of this event recorded this automation's run first. */
  status: AutomationRunStatus | 'already_ran';
}

/**
 * The consumer of `ticket.event`: runs the tenant's active automations of the event's kind, in
 * position order, each recorded once per event in automation_runs (unique (automation, event):
 * a redelivered event, or two consumers at once, run nothing twice).
 *
 * - Loop guard first: an automation in the event's chain (`data.causedBy`), or a chain already
 *   MAX_AUTOMATION_CHAIN long, is recorded `skipped_loop`.
 * - Conditions are evaluated on the ticket as it is now (earlier automations of the same event
 *   included), with the ticket row locked; `not_matched` when they fail.
 * - Actions run in ONE transaction with the run row: all or nothing. A non-retryable AppError
 *   (a disabled agent, a deleted canned response, a merged ticket...) rolls them back and a run
 *   `failed` is recorded with its message; other errors propagate and the outbox retries.
 */
export async function runTicketAutomations(deps: { db: Database; clock: Clock }, options: z.input<typeof runTicketAutomationsInput>): Promise<AutomationRunOutcome[]> {
  const { tenantId, eventId } = parseInput(runTicketAutomationsInput, options);
  const loaded = await deps.db.withTenant(tenantId, async (tx) => {
    const [event] = await tx.select().from(ticketEvents).where(and(eq(ticketEvents.tenantId, tenantId), eq(ticketEvents.id, eventId)));
    if (!event || !(AUTOMATION_EVENTS as readonly string[]).includes(event.kind)) return undefined;
    const rules = await tx
      .select({ id: automations.id, name: automations.name, match: automations.match, conditions: automations.conditions, actions: automations.actions })
      .from(automations)
      .where(and(eq(automations.tenantId, tenantId), eq(automations.event, event.kind as AutomationEvent), eq(automations.active, true)))
      .orderBy(asc(automations.position), asc(automations.createdAt), asc(automations.id));
    return { event, rules };
  });
  if (!loaded) return [];
  const { event, rules } = loaded;
  const causedBy = automationChainOf(event.data);
  const run = { tenantId, ticketEventId: event.id, ticketId: event.ticketId };

  const outcomes: AutomationRunOutcome[] = [];
  for (const rule of rules) {
    if (isAutomationLoop(rule.id, causedBy)) {
      const recorded = await deps.db.withTenant(tenantId, (tx) => insertRun(tx, { ...run, automationId: rule.id, status: 'skipped_loop', results: { causedBy } }));
      outcomes.push({ automationId: rule.id, status: recorded ? 'skipped_loop' : 'already_ran' });
      continue;
    }
    try {
      const status = await deps.db.withTenant(tenantId, async (tx): Promise<AutomationRunOutcome['status']> => {
        // The run row first: a second delivery waits on it here, then finds it and stops.
        const runId = await insertRun(tx, { ...run, automationId: rule.id, status: 'applied' });
        if (!runId) return 'already_ran';
        // Parsed with the schema that validated it when saved: the rule read is the rule checked.
        const stored = parseInput(storedAutomationRuleSchema, { conditions: rule.conditions, actions: rule.actions });
        const facts = await loadTicketFacts(tx, tenantId, event.ticketId);
        let status: AutomationRunStatus = 'not_matched';
        let results: AutomationActionResult[] = [];
        if (facts && automationConditionsMatch(rule.match, stored.conditions, facts)) {
          status = 'applied';
          results = await applyAutomationActions(
            tx,
            { tenantId, automation: { id: rule.id, name: rule.name }, event: { id: event.id, causedBy }, ticketId: event.ticketId, now: deps.clock.now() },
            stored.actions,
          );
        }
        await tx.update(automationRuns).set({ status, results }).where(and(eq(automationRuns.tenantId, tenantId), eq(automationRuns.id, runId)));
        return status;
      });
      outcomes.push({ automationId: rule.id, status });
    } catch (error) {
      if (!isAppError(error) || error.retryable) throw error;
      // Nothing of the actions stayed (their transaction rolled back): only the failure is kept.
      const recorded = await deps.db.withTenant(tenantId, (tx) => insertRun(tx, { ...run, automationId: rule.id, status: 'failed', error: error.message.slice(0, 1_000) }));
      outcomes.push({ automationId: rule.id, status: recorded ? 'failed' : 'already_ran' });
    }
  }
  return outcomes;
}

/** Records a run unless this automation already has one for this event; its id, or undefined. */
async function insertRun(
  tx: Tx,
  values: { tenantId: string; automationId: string; ticketEventId: string; ticketId: string; status: AutomationRunStatus; results?: unknown; error?: string },
): Promise<string | undefined> {
  const [row] = await tx
    .insert(automationRuns)
    .values({ ...values, results: values.results ?? [] })
    .onConflictDoNothing({ target: [automationRuns.tenantId, automationRuns.automationId, automationRuns.ticketEventId] })
    .returning({ id: automationRuns.id });
  return row?.id;
}

/** The ticket (locked until the run commits), its contact and its channel, as conditions read them. */
async function loadTicketFacts(tx: Tx, tenantId: string, ticketId: string): Promise<AutomationTicketFacts | undefined> {
  const [ticket] = await tx
    .select()
    .from(tickets)
    .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId)))
    .for('update');
  if (!ticket) return undefined;
  const [contact] = await tx
    .select({ name: contacts.name, phone: contacts.phoneE164, locale: contacts.locale })
    .from(contacts)
    .where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, ticket.contactId)));
  const [channel] = ticket.conversationId
    ? await tx
        .select({ kind: channelAccounts.kind })
        .from(conversations)
        .innerJoin(channelAccounts, and(eq(channelAccounts.tenantId, conversations.tenantId), eq(channelAccounts.id, conversations.channelAccountId)))
        .where(and(eq(conversations.tenantId, tenantId), eq(conversations.id, ticket.conversationId)))
    : [];
  return {
    'ticket.status': ticket.status,
    'ticket.priority': ticket.priority,
    'ticket.tags': ticket.tags,
    'ticket.category_id': ticket.categoryId,
    'ticket.assignee_id': ticket.assigneeId,
    'ticket.team_id': ticket.teamId,
    'ticket.subject': ticket.subject,
    'ticket.channel': channel?.kind ?? null,
    'contact.name': contact?.name ?? null,
    'contact.phone': contact?.phone ?? null,
    'contact.locale': contact?.locale ?? null,
  };
}
