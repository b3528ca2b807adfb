import { z } from 'zod';
import type { Database, RawStatement } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import type { JobQueue } from '../shared/ports/job-queue.js';
import { verifyCampayWebhookSignature } from './campay/campay-webhook-signature.js';
import type { GatewayDirectory } from './gateway-directory.js';
import { createGroupCommit, groupCommitPer } from '../shared/group-commit.js';
import { PAYMENT_JOBS } from './payment-jobs.js';

/** CamPay's callback parameters (query string or body); extra fields are kept, never required. */
export const campayWebhookParams = z.looseObject({
  status: z.enum(['SUCCESSFUL', 'FAILED', 'PENDING']),
  reference: z.string().min(1).max(100),
  signature: z.string().min(1).max(4096),
  external_reference: z.string().max(100).optional(),
  amount: z.union([z.string(), z.number()]).optional(),
  currency: z.string().optional(),
  operator: z.string().optional(),
  code: z.string().optional(),
  operator_reference: z.string().optional(),
});

export type WebhookReceipt = 'accepted' | 'duplicate';

interface WebhookEvent {
  gateway_app_id: string;
  event_key: string;
  gateway_reference: string;
  reported_status: string;
  payload: Record<string, unknown>;
}

/** Callbacks received at the same time share one INSERT and one commit (JSON: one parameter for any number of rows). */
const STORE_WEBHOOK_EVENTS: RawStatement = {
  name: 'store_webhook_events',
  text: `INSERT INTO payment_webhook_events (gateway_app_id, event_key, gateway_reference, reported_status, payload)
SELECT e.gateway_app_id, e.event_key, e.gateway_reference, e.reported_status, e.payload
FROM jsonb_to_recordset($1::jsonb) AS e(gateway_app_id text, event_key text, gateway_reference text, reported_status text, payload jsonb)
ON CONFLICT (event_key) DO NOTHING
RETURNING event_key`,
};
const MAX_EVENTS_PER_INSERT = 256;
const CONCURRENT_EVENT_INSERTS = 2;

const eventStoreOf = groupCommitPer((db: Database) =>
  createGroupCommit<WebhookEvent, WebhookReceipt>({
    maxBatch: MAX_EVENTS_PER_INSERT,
    maxConcurrentFlushes: CONCURRENT_EVENT_INSERTS,
    async flush(events) {
      // One row per key, in key order: two concurrent inserts then wait on each other's keys in
      // the same order and cannot deadlock.
      const unique = [...new Map(events.map((event) => [event.event_key, event])).values()].sort((a, b) => (a.event_key < b.event_key ? -1 : a.event_key > b.event_key ? 1 : 0));
      // The transaction's only statement: it goes out with BEGIN and COMMIT in one round trip.
      const inserted = await db.withPlatform((_tx, platform) => platform.queryAndCommit<{ event_key: string }>(STORE_WEBHOOK_EVENTS, [JSON.stringify(unique)]), { genericPlans: true });
      const fresh = new Set(inserted.map((row) => row.event_key));
      // The first of several identical callbacks in one batch is the accepted one.
      return events.map((event) => (fresh.delete(event.event_key) ? 'accepted' : 'duplicate'));
    },
  }),
);

/**
 * First step of a CamPay callback: check the signature, store the event (once per app, reference
 * and status) and ask for a confirmation job. Nothing here trusts the callback's status: the
 * job re-reads the transaction from CamPay. Returns quickly so the HTTP answer stays fast.
 */
export async function recordCampayWebhook(
  deps: { db: Database; gateways: GatewayDirectory; jobs: JobQueue },
  options: { gatewayAppId: string; params: Record<string, unknown> },
): Promise<WebhookReceipt> {
  const app = await deps.gateways.get(options.gatewayAppId);
  if (!app) throw new AppError('NOT_FOUND', 'unknown payment app');
  const parsed = campayWebhookParams.safeParse(options.params);
  // Say which field, never echo values back to an unauthenticated caller.
  if (!parsed.success) throw new AppError('VALIDATION_FAILED', `invalid callback: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  const params = parsed.data;
  if (!verifyCampayWebhookSignature(params.signature, app.webhookKey)) {
    throw new AppError('UNAUTHENTICATED', 'invalid signature');
  }

  const eventKey = `${app.id}:${params.reference}:${params.status}`;
  const receipt = await eventStoreOf(deps.db).submit({
    gateway_app_id: app.id,
    event_key: eventKey,
    gateway_reference: params.reference,
    reported_status: params.status,
    payload: params,
  });
  await deps.jobs.enqueue(
    PAYMENT_JOBS.confirm,
    { gatewayAppId: app.id, gatewayReference: params.reference, externalReference: params.external_reference },
    { jobId: `payment-confirm:${eventKey}` },
  );
  return receipt;
}
