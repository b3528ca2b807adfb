import { z } from 'zod';
import type { Database } from '@relais/db';
import type { GatewayDirectory } from '../payments/gateway-directory.js';
import { MAX_PAYMENT_ATTEMPTS_PER_TICKET, startTicketPayment } from '../payments/start-ticket-payment.js';
import { isAppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';
import { applyConversationEvent } from './apply-conversation-event.js';

const startConversationPaymentInput = z.object({
  tenantId: z.uuid(),
  conversationId: z.uuid(),
  ticketId: z.uuid(),
  payerPhone: z.string().min(1).max(40),
  attempt: z.number().int().min(1),
  /** The outbox delivery: the customer's messages are keyed on it. */
  eventKey: z.string().min(1),
});

/**
 * The `conversation.start_payment` consumer: asks the gateway for the USSD push (after the
 * conversation's transaction committed, never while it holds the conversation lock), then tells
 * the customer what to dial, or why it could not start. Safe to run again: a second call while
 * the attempt is pending returns that attempt, and the messages are keyed on the delivery.
 * Gateway outages are not the customer's problem: the attempt stays pending for the reconciler.
 */
export async function startConversationPayment(
  deps: { db: Database; gateways: GatewayDirectory; clock: Clock },
  options: z.input<typeof startConversationPaymentInput>,
): Promise<void> {
  const input = parseInput(startConversationPaymentInput, options);
  const target = { tenantId: input.tenantId, conversationId: input.conversationId };
  try {
    const started = await startTicketPayment(deps, { tenantId: input.tenantId, ticketId: input.ticketId, payerPhone: input.payerPhone, description: 'WiFi / support' });
    await applyConversationEvent(deps, {
      ...target,
      eventKey: `${input.eventKey}:pending`,
      input: { kind: 'payment_pending', ticketId: input.ticketId, amountXaf: started.amountXaf, operator: started.operator, ussdCode: started.ussdCode },
    });
  } catch (error) {
    if (!isAppError(error) || error.retryable) throw error;
    // Already paid (a late success): the voucher or the ticket follows, nothing to say here.
    if (error.code === 'CONFLICT') return;
    const attemptsLeft = error.code === 'PAYMENT_RETRIES_EXHAUSTED' ? 0 : Math.max(0, MAX_PAYMENT_ATTEMPTS_PER_TICKET - input.attempt);
    await applyConversationEvent(deps, {
      ...target,
      eventKey: `${input.eventKey}:failed`,
      input: { kind: 'payment_failed', ticketId: input.ticketId, reason: error.code, attemptsLeft },
    });
  }
}
