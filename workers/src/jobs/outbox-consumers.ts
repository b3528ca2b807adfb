import {
  CONVERSATION_TOPICS,
  deliverPaidWifiTicket,
  deliverVoucherToConversation,
  notifyConversationOfTicket,
  pushVouchersToRouter,
  refundDuplicatePayment,
  startConversationPayment,
  type OutboxConsumer,
} from '@relais/core';
import { z } from 'zod';
import type { JobDependencies } from './job-dependencies.js';

const refundRequired = z.object({ paymentId: z.uuid() });
const routerPushRequired = z.object({ routerId: z.uuid() });
const ticketPaid = z.object({ ticketId: z.uuid() });
const conversationPayment = z.object({ conversationId: z.uuid(), ticketId: z.uuid(), payerPhone: z.string(), attempt: z.number().int() });
const voucherReady = z.object({ ticketId: z.uuid(), voucherId: z.uuid() });
const paymentUnpaid = z.object({ ticketId: z.uuid(), attemptsLeft: z.number().int() });
const outOfStock = z.object({ ticketId: z.uuid(), customerText: z.object({ fr: z.string(), en: z.string() }) });

/**
 * Who acts on each outbox topic. Topics with no consumer here stay pending in the outbox (nothing
 * is dropped) until the feature that consumes them registers one.
 */
export function buildOutboxConsumers(deps: JobDependencies): Record<string, OutboxConsumer> {
  const paymentUnpaidConsumer =
    (reason: 'failed' | 'expired'): OutboxConsumer =>
    async (delivery) => {
      const payload = paymentUnpaid.parse(delivery.payload);
      await notifyConversationOfTicket(deps, {
        tenantId: delivery.tenantId,
        ticketId: payload.ticketId,
        eventKey: delivery.id,
        news: { kind: 'payment_failed', reason, attemptsLeft: Math.max(0, payload.attemptsLeft) },
      });
    };
  return {
    // Conversations: the USSD push a chat asked for, and what the customer must hear afterwards.
    [CONVERSATION_TOPICS.startPayment]: async (delivery) => {
      await startConversationPayment(deps, { tenantId: delivery.tenantId, eventKey: delivery.id, ...conversationPayment.parse(delivery.payload) });
    },
    'wifi.voucher_ready': async (delivery) => {
      await deliverVoucherToConversation(deps, { tenantId: delivery.tenantId, eventKey: delivery.id, ...voucherReady.parse(delivery.payload) });
    },
    'payment.failed': paymentUnpaidConsumer('failed'),
    'payment.expired': paymentUnpaidConsumer('expired'),
    'wifi.out_of_stock': async (delivery) => {
      const payload = outOfStock.parse(delivery.payload);
      await notifyConversationOfTicket(deps, { tenantId: delivery.tenantId, ticketId: payload.ticketId, eventKey: delivery.id, news: { kind: 'notice', text: payload.customerText } });
    },
    // A paid WiFi ticket gets its voucher (other paid tickets are support: nothing to hand out).
    'ticket.paid': async (delivery) => {
      await deliverPaidWifiTicket(deps, { tenantId: delivery.tenantId, ticketId: ticketPaid.parse(delivery.payload).ticketId });
    },
    'payment.refund_required': async (delivery) => {
      await refundDuplicatePayment(deps, refundRequired.parse(delivery.payload));
    },
    // Pushes every voucher still waiting for that router, not only the message's: one push catches up.
    'wifi.router_push_required': async (delivery) => {
      await pushVouchersToRouter(deps, { tenantId: delivery.tenantId, routerId: routerPushRequired.parse(delivery.payload).routerId });
    },
  };
}
