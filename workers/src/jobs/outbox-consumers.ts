import { deliverPaidWifiTicket, pushVouchersToRouter, refundDuplicatePayment, type OutboxConsumer } from '@relais/core';
import { z } from 'zod';
import type { JobDependencies } from './job-dependencies.js';

const refundRequired = z.object({ paymentId: z.uuid() });
const routerPushRequired = z.object({ routerId: z.uuid() });
const ticketPaid = z.object({ ticketId: z.uuid() });

/**
 * Who acts on each outbox topic. Topics with no consumer here stay pending in the outbox (nothing
 * is dropped) until the feature that consumes them registers one.
 */
export function buildOutboxConsumers(deps: JobDependencies): Record<string, OutboxConsumer> {
  return {
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
