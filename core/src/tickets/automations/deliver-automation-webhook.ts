import { and, eq } from 'drizzle-orm';
import { automationRuns, automations, ticketEvents, tickets, type Database, type Tx } from '@relais/db';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { SecretBox } from '../../shared/secret-box.js';
import { automationActionSchema } from './automation-rules.js';
import { signAutomationWebhook, AUTOMATION_WEBHOOK_SIGNATURE_HEADER, AUTOMATION_WEBHOOK_TIMESTAMP_HEADER } from './automation-webhook-signature.js';

export const AUTOMATION_WEBHOOK_TIMEOUT_MS = 10_000;

export const deliverAutomationWebhookInput = z.object({
  tenantId: z.uuid(),
  automationId: z.uuid(),
  eventId: z.uuid(),
  actionIndex: z.number().int().min(0),
});

export type AutomationWebhookDelivery =
  | { status: 'delivered'; httpStatus: number }
  /** The receiver refused it for good (a 4xx other than 408 / 429): recorded, not retried. */
  | { status: 'gave_up'; httpStatus: number }
  /** The automation, or its webhook action, is gone: nothing to call. */
  | { status: 'dropped' };

/**
 * The consumer of `automation.webhook`: POSTs {event, ticket, automation} as JSON to the
 * action's URL (as the automation says now), signed with the automation's key
 * (X-Relais-Signature: sha256=<hex HMAC-SHA256 of the raw body>, X-Relais-Timestamp: Unix
 * seconds). A 2xx is delivered; no answer within 10 s, a 5xx, 408 or 429 throws a retryable
 * DEPENDENCY_UNAVAILABLE (the outbox retries with backoff); another 4xx gives up. Each outcome is
 * written into the run's result for that action. The key is never logged nor put in an error.
 */
export async function deliverAutomationWebhook(
  deps: { db: Database; clock: Clock; secrets: SecretBox; fetch?: typeof fetch; webhookTimeoutMs?: number },
  options: z.input<typeof deliverAutomationWebhookInput>,
): Promise<AutomationWebhookDelivery> {
  const input = parseInput(deliverAutomationWebhookInput, options);
  const { tenantId } = input;
  const found = await deps.db.withTenant(tenantId, async (tx) => {
    const [automation] = await tx.select().from(automations).where(and(eq(automations.tenantId, tenantId), eq(automations.id, input.automationId)));
    const action = automationActionSchema.safeParse((automation?.actions as unknown[] | undefined)?.[input.actionIndex]);
    if (!automation?.webhookSecretEnc || !action.success || action.data.type !== 'webhook') return undefined;
    const [event] = await tx.select().from(ticketEvents).where(and(eq(ticketEvents.tenantId, tenantId), eq(ticketEvents.id, input.eventId)));
    if (!event) return undefined;
    const [ticket] = await tx
      .select({
        id: tickets.id,
        number: tickets.number,
        subject: tickets.subject,
        status: tickets.status,
        priority: tickets.priority,
        tags: tickets.tags,
        categoryId: tickets.categoryId,
        teamId: tickets.teamId,
        assigneeId: tickets.assigneeId,
        contactId: tickets.contactId,
        createdAt: tickets.createdAt,
        updatedAt: tickets.updatedAt,
      })
      .from(tickets)
      .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, event.ticketId)));
    return { automation, url: action.data.url, event, ticket };
  });
  if (!found) return { status: 'dropped' };

  const now = deps.clock.now();
  const timestamp = Math.floor(now.getTime() / 1_000);
  const deliveryId = `${input.eventId}:${input.automationId}:${input.actionIndex}`;
  const body = JSON.stringify({
    id: deliveryId,
    timestamp,
    event: { id: found.event.id, kind: found.event.kind, at: found.event.createdAt.toISOString(), data: found.event.data },
    ticket: found.ticket ? { ...found.ticket, createdAt: found.ticket.createdAt.toISOString(), updatedAt: found.ticket.updatedAt.toISOString() } : null,
    automation: { id: found.automation.id, name: found.automation.name },
  });
  const signature = signAutomationWebhook(deps.secrets.open(found.automation.webhookSecretEnc!, tenantId), body);
  const timeoutMs = deps.webhookTimeoutMs ?? AUTOMATION_WEBHOOK_TIMEOUT_MS;

  let httpStatus: number;
  try {
    const response = await (deps.fetch ?? globalThis.fetch)(found.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Relais-Webhooks/1',
        'x-relais-delivery': deliveryId,
        [AUTOMATION_WEBHOOK_SIGNATURE_HEADER]: signature,
        [AUTOMATION_WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
      },
      body,
      // A redirect is an answer like any other non-2xx: the signed body is not sent elsewhere.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    httpStatus = response.status;
    await response.body?.cancel();
  } catch (error) {
    const reason = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError') ? `no answer within ${timeoutMs} ms` : 'connection failed';
    await recordDelivery(deps.db, input, { delivery: 'retrying', httpStatus: undefined, error: reason, at: now.toISOString() });
    throw new AppError('DEPENDENCY_UNAVAILABLE', `webhook of automation ${input.automationId}: ${reason}`, { cause: error });
  }
  if (httpStatus >= 200 && httpStatus < 300) {
    await recordDelivery(deps.db, input, { delivery: 'delivered', httpStatus, error: undefined, at: now.toISOString() });
    return { status: 'delivered', httpStatus };
  }
  if (httpStatus >= 400 && httpStatus < 500 && httpStatus !== 408 && httpStatus !== 429) {
    await recordDelivery(deps.db, input, { delivery: 'gave_up', httpStatus, error: undefined, at: now.toISOString() });
    return { status: 'gave_up', httpStatus };
  }
  await recordDelivery(deps.db, input, { delivery: 'retrying', httpStatus, error: undefined, at: now.toISOString() });
  throw new AppError('DEPENDENCY_UNAVAILABLE', `webhook of automation ${input.automationId} answered ${httpStatus}`);
}

/** Writes the latest delivery outcome into the run's result for this action (the run is the automation's history). */
async function recordDelivery(db: Database, input: z.output<typeof deliverAutomationWebhookInput>, outcome: Record<string, unknown>): Promise<void> {
  await db.withTenant(input.tenantId, async (tx: Tx) => {
    const where = and(eq(automationRuns.tenantId, input.tenantId), eq(automationRuns.automationId, input.automationId), eq(automationRuns.ticketEventId, input.eventId));
    const [run] = await tx.select({ results: automationRuns.results }).from(automationRuns).where(where).for('update');
    if (!run || !Array.isArray(run.results)) return;
    const results = [...(run.results as Record<string, unknown>[])];
    results[input.actionIndex] = { ...results[input.actionIndex], ...outcome };
    await tx.update(automationRuns).set({ results }).where(where);
  });
}
