import { refundDuplicatePayment, type OutboxConsumer } from '@relais/core';
import { z } from 'zod';
import type { JobDependencies } from './job-dependencies.js';

const refundRequired = z.object({ paymentId: z.uuid() });

/**
 * Who acts on each outbox topic. Topics with no consumer here stay pending in the outbox (nothing
 * is dropped) until the feature that consumes them registers one.
 */
export function buildOutboxConsumers(deps: JobDependencies): Record<string, OutboxConsumer> {
  return {
    'payment.refund_required': async (delivery) => {
      await refundDuplicatePayment(deps, refundRequired.parse(delivery.payload));
    },
  };
}
