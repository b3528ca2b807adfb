import { z } from 'zod';
import { paymentWebhookEvents, type Database } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import type { JobQueue } from '../shared/ports/job-queue.js';
import { verifyCampayWebhookSignature } from './campay/campay-webhook-signature.js';
import type { GatewayDirectory } from './gateway-directory.js';
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
  const inserted = await deps.db.withPlatform((tx) =>
    tx
      .insert(paymentWebhookEvents)
      .values({ gatewayAppId: app.id, eventKey, gatewayReference: params.reference, reportedStatus: params.status, payload: params })
      .onConflictDoNothing({ target: paymentWebhookEvents.eventKey })
      .returning({ id: paymentWebhookEvents.id }),
  );
  await deps.jobs.enqueue(
    PAYMENT_JOBS.confirm,
    { gatewayAppId: app.id, gatewayReference: params.reference, externalReference: params.external_reference },
    { jobId: `payment-confirm:${eventKey}` },
  );
  return inserted.length > 0 ? 'accepted' : 'duplicate';
}
