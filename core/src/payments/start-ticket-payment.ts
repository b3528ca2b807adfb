import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { categories, paymentAttempts, payments, tickets, type Database, type Tx } from '@relais/db';
import { AppError, isAppError } from '../shared/app-error.js';
import type { Clock } from '../shared/ports/clock.js';
import { parseCameroonMobile } from './cameroon-msisdn.js';
import { COLLECT_LEASE_MS, endCollectLease, recordCollectRequest } from './collect-request.js';
import { PAYMENT_PENDING_TIMEOUT_MS, PLATFORM_GATEWAY_APP_ID, type GatewayDirectory } from './gateway-directory.js';

export const MAX_PAYMENT_ATTEMPTS_PER_TICKET = 3;

const startTicketPaymentInput = z.object({
  tenantId: z.uuid(),
  ticketId: z.uuid(),
  payerPhone: z.string().min(1).max(40),
  description: z.string().trim().min(1).max(100).optional(),
  gatewayAppId: z.string().min(1).default(PLATFORM_GATEWAY_APP_ID),
});

export interface StartedPayment {
  attemptId: string;
  paymentId: string;
  attemptNumber: number;
  amountXaf: number;
  status: 'pending' | 'failed';
  /** What the customer dials to confirm; absent while the gateway has not answered. */
  ussdCode?: string;
  operator: 'MTN' | 'ORANGE';
  /** true when the gateway could not be reached: the reconciler asks again shortly. */
  gatewayDelayed: boolean;
}

/**
 * Asks the customer's Mobile Money account for a ticket's price (USSD push). The attempt and the
 * platform's routing row are committed before the gateway is called, so a crash or a gateway
 * outage leaves a PENDING attempt that the reconciler finishes; a second request while one is
 * pending returns that one instead of pushing twice.
 */
export async function startTicketPayment(
  deps: { db: Database; gateways: GatewayDirectory; clock: Clock },
  options: z.input<typeof startTicketPaymentInput>,
): Promise<StartedPayment> {
  const input = startTicketPaymentInput.parse(options);
  const phone = parseCameroonMobile(input.payerPhone); // refuses bad numbers before anything is written
  const app = await deps.gateways.get(input.gatewayAppId);
  if (!app) throw new AppError('NOT_FOUND', `payment gateway app "${input.gatewayAppId}" is not configured`);
  const now = deps.clock.now();

  // A platform transaction that enters the tenant: the attempt (tenant) and the routing row
  // (central) commit together.
  const attempt = await deps.db.withPlatform(async (tx, platform) => {
    await platform.enterTenant(input.tenantId);
    const [ticket] = await tx
      .select({ id: tickets.id, number: tickets.number, priceXaf: categories.priceXaf })
      .from(tickets)
      .leftJoin(categories, and(eq(categories.tenantId, tickets.tenantId), eq(categories.id, tickets.categoryId)))
      .where(and(eq(tickets.tenantId, input.tenantId), eq(tickets.id, input.ticketId)))
      .for('update', { of: tickets });
    if (!ticket) throw new AppError('NOT_FOUND', 'ticket not found');
    if (!ticket.priceXaf || ticket.priceXaf <= 0) {
      throw new AppError('PAYMENT_AMOUNT_INVALID', `ticket #${ticket.number} has nothing to pay`);
    }
    const previous = await tx
      .select()
      .from(paymentAttempts)
      .where(and(eq(paymentAttempts.tenantId, input.tenantId), eq(paymentAttempts.ticketId, ticket.id)))
      .orderBy(asc(paymentAttempts.attemptNumber));
    if (previous.some((a) => a.status === 'successful')) throw new AppError('CONFLICT', `ticket #${ticket.number} is already paid`);
    const pending = previous.find((a) => a.status === 'pending' && a.expiresAt > now);
    if (pending) return { row: pending, reused: true, paymentId: await paymentIdOf(tx, pending.externalReference) };
    if (previous.length >= MAX_PAYMENT_ATTEMPTS_PER_TICKET) {
      throw new AppError('PAYMENT_RETRIES_EXHAUSTED', `ticket #${ticket.number} has had ${MAX_PAYMENT_ATTEMPTS_PER_TICKET} payment attempts`);
    }

    const externalReference = randomUUID();
    const expiresAt = new Date(now.getTime() + PAYMENT_PENDING_TIMEOUT_MS);
    const [row] = await tx
      .insert(paymentAttempts)
      .values({
        tenantId: input.tenantId,
        ticketId: ticket.id,
        attemptNumber: previous.length + 1,
        amountXaf: ticket.priceXaf,
        payerMsisdn: phone.e164,
        operator: phone.operator,
        externalReference,
        expiresAt,
      })
      .returning();
    // The platform-side routing row: callbacks carry no tenant, only references.
    const [payment] = await tx
      .insert(payments)
      .values({
        tenantId: input.tenantId,
        kind: 'customer_payment',
        gatewayAppId: app.id,
        externalReference,
        attemptId: row!.id,
        phone: phone.e164,
        amountXaf: ticket.priceXaf,
        operator: phone.operator,
        status: 'pending',
        expiresAt,
        // Leased to this request's own collect call: the reconciler must not push a second time meanwhile.
        nextCheckAt: new Date(now.getTime() + COLLECT_LEASE_MS),
      })
      .returning({ id: payments.id });
    return { row: row!, reused: false, paymentId: payment!.id };
  });

  const started = (status: 'pending' | 'failed', gatewayDelayed: boolean, ussdCode?: string): StartedPayment => ({
    attemptId: attempt.row.id,
    paymentId: attempt.paymentId,
    attemptNumber: attempt.row.attemptNumber,
    amountXaf: attempt.row.amountXaf,
    status,
    ussdCode,
    operator: phone.operator,
    gatewayDelayed,
  });
  if (attempt.reused) return started('pending', !attempt.row.gatewayReference, attempt.row.ussdCode ?? undefined);

  try {
    const collected = await app.gateway.collect({
      amountXaf: attempt.row.amountXaf,
      payerPhone: phone.e164,
      description: input.description ?? `Ticket payment`,
      externalReference: attempt.row.externalReference,
    });
    await recordCollectRequest(deps.db, { tenantId: input.tenantId, attemptId: attempt.row.id, paymentId: attempt.paymentId }, collected, now);
    return started('pending', false, collected.ussdCode);
  } catch (error) {
    if (isAppError(error) && !error.retryable) {
      await markAttemptFailed(deps.db, input.tenantId, attempt.row.id, attempt.paymentId, error.code, now);
      throw error;
    }
    // Unreachable or slow gateway: the attempt stays PENDING; the reconciler asks again soon.
    await endCollectLease(deps.db, attempt.paymentId, now);
    return started('pending', true);
  }
}

async function paymentIdOf(tx: Tx, externalReference: string): Promise<string> {
  const [row] = await tx.select({ id: payments.id }).from(payments).where(eq(payments.externalReference, externalReference));
  return row!.id;
}

async function markAttemptFailed(db: Database, tenantId: string, attemptId: string, paymentId: string, reason: string, now: Date) {
  await db.withPlatform(async (tx, platform) => {
    // Only while still pending: never write "failed" over a settlement that happened meanwhile.
    const [payment] = await tx
      .update(payments)
      .set({ status: 'failed', failureReason: reason, completedAt: now, updatedAt: now })
      .where(and(eq(payments.id, paymentId), eq(payments.status, 'pending')))
      .returning({ id: payments.id });
    if (!payment) return;
    await platform.enterTenant(tenantId);
    await tx
      .update(paymentAttempts)
      .set({ status: 'failed', failureReason: reason, completedAt: now, updatedAt: now })
      .where(and(eq(paymentAttempts.tenantId, tenantId), eq(paymentAttempts.id, attemptId), eq(paymentAttempts.status, 'pending')));
  });
}
