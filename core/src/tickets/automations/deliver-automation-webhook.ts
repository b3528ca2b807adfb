import { and, eq } from 'drizzle-orm';
import { automationRuns, automations, ticketEvents, tickets, type Database, type Tx } from '@relais/db';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.js';
import { httpExchange, HttpTimeoutError } from '../../shared/http-exchange.js';
import { parseInput } from '../../shared/parse-input.js';
import type { Clock } from '../../shared/ports/clock.js';
import { PrivateNetworkAddressError, privateUrlHost, publicNetworkLookup } from '../../shared/public-network.js';
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
  /** The URL's host is, or resolves only to, an address outside the public internet: not called, not retried. */
  | { status: 'refused'; reason: string }
  /** The automation, or its webhook action, is gone: nothing to call. */
  | { status: 'dropped' };

/** What delivering automation webhooks needs beyond the database. */
export interface AutomationWebhookDeps {
  db: Database;
  clock: Clock;
  secrets: SecretBox;
  webhookTimeoutMs?: number;
  /**
   * Let webhooks reach this host and private networks (WEBHOOKS_ALLOW_PRIVATE_NETWORKS): off by
   * default, since any reseller's admin chooses these URLs (server-side request forgery).
   */
  allowPrivateNetworks?: boolean;
}

const NOT_PUBLIC_REASON = 'the address is not on the public internet';

/**
 * The consumer of `automation.webhook`: POSTs {event, ticket, automation} as JSON to the
 * action's URL (as the automation says now), signed with the automation's key
 * (X-Relais-Signature: sha256=<hex HMAC-SHA256 of the raw body>, X-Relais-Timestamp: Unix
 * seconds). A 2xx is delivered; no answer within 10 s, a 5xx, 408 or 429 throws a retryable
 * DEPENDENCY_UNAVAILABLE (the outbox retries with backoff); another 4xx gives up. A host that is,
 * or resolves only to, a private, loopback or link-local address is refused (unless allowed) and
 * never connected to. Each outcome is written into the run's result for that action. The key is
 * never logged nor put in an error.
 */
export async function deliverAutomationWebhook(
  deps: AutomationWebhookDeps,
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

  if (!deps.allowPrivateNetworks && privateUrlHost(found.url)) {
    await recordDelivery(deps.db, input, { delivery: 'refused', httpStatus: undefined, error: NOT_PUBLIC_REASON, at: now.toISOString() });
    return { status: 'refused', reason: NOT_PUBLIC_REASON };
  }
  let httpStatus: number;
  try {
    // Once: a redirect is an answer like any other (not followed), so the signed body goes nowhere else.
    ({ status: httpStatus } = await httpExchange(found.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Relais-Webhooks/1',
        'x-relais-delivery': deliveryId,
        [AUTOMATION_WEBHOOK_SIGNATURE_HEADER]: signature,
        [AUTOMATION_WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
      },
      body,
      timeoutMs,
      ...(deps.allowPrivateNetworks ? {} : { lookup: publicNetworkLookup }),
    }));
  } catch (error) {
    if (error instanceof PrivateNetworkAddressError) {
      await recordDelivery(deps.db, input, { delivery: 'refused', httpStatus: undefined, error: NOT_PUBLIC_REASON, at: now.toISOString() });
      return { status: 'refused', reason: NOT_PUBLIC_REASON };
    }
    const reason = error instanceof HttpTimeoutError ? `no answer within ${timeoutMs} ms` : 'connection failed';
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
