import {
  CONVERSATION_TOPICS,
  deliverPaidWifiTicket,
  deliverVoucherToConversation,
  NOTIFICATION_EMAIL_TOPIC,
  notifyConversationOfTicket,
  pushVouchersToRouter,
  refundDuplicatePayment,
  sendNotificationEmail,
  startConversationPayment,
  type OutboxConsumer,
} from '@relais/core';
import {
  AUTOMATION_WEBHOOK_TOPIC,
  deliverAutomationWebhook,
  runTicketAutomations,
  TICKET_EVENT_TOPIC,
} from '@relais/core';
import { deliverAgentReply, recordTicketPayment, requestTicketRating, TICKET_AGENT_REPLIED_TOPIC, TICKET_RESOLVED_TOPIC } from '@relais/core';
import { z } from 'zod';
import type { JobDependencies } from './job-dependencies.js';

const refundRequired = z.object({ paymentId: z.uuid() });
const routerPushRequired = z.object({ routerId: z.uuid() });
const ticketPaid = z.object({ ticketId: z.uuid() });
const conversationPayment = z.object({ conversationId: z.uuid(), ticketId: z.uuid(), payerPhone: z.string(), attempt: z.number().int() });
const voucherReady = z.object({ ticketId: z.uuid(), voucherId: z.uuid() });
const paymentUnpaid = z.object({ ticketId: z.uuid(), attemptsLeft: z.number().int() });
const outOfStock = z.object({ ticketId: z.uuid(), customerText: z.object({ fr: z.string(), en: z.string() }) });
const notificationEmail = z.object({ notificationId: z.uuid() });

const ticketEvent = z.object({ eventId: z.uuid() });
const automationWebhook = z.object({ automationId: z.uuid(), eventId: z.uuid(), actionIndex: z.number().int().min(0) });
const ticketAgentReplied = z.object({ ticketId: z.uuid(), messageId: z.uuid() });
const ticketResolved = z.object({ ticketId: z.uuid() });
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
      const { ticketId } = ticketPaid.parse(delivery.payload);
      // The helpdesk's `payment_received` event (automations) first: once per delivery.
      await recordTicketPayment(deps, { tenantId: delivery.tenantId, ticketId, eventKey: delivery.id });
      await deliverPaidWifiTicket(deps, { tenantId: delivery.tenantId, ticketId });
    },
    'payment.refund_required': async (delivery) => {
      await refundDuplicatePayment(deps, refundRequired.parse(delivery.payload));
    },
    // Pushes every voucher still waiting for that router, not only the message's: one push catches up.
    'wifi.router_push_required': async (delivery) => {
      await pushVouchersToRouter(deps, { tenantId: delivery.tenantId, routerId: routerPushRequired.parse(delivery.payload).routerId });
    },
    // The email copy of a notification. No SMTP server configured: skipped (settled), never retried.
    [NOTIFICATION_EMAIL_TOPIC]: async (delivery) => {
      const { notificationId } = notificationEmail.parse(delivery.payload);
      const log = { tenantId: delivery.tenantId, notificationId };
      if (!deps.mailer) {
        deps.logger.info(log, 'notification email skipped: no SMTP server configured (SMTP_URL)');
        return;
      }
      const outcome = await sendNotificationEmail({ ...deps, mailer: deps.mailer }, { tenantId: delivery.tenantId, notificationId });
      if (outcome.status === 'rejected') deps.logger.warn({ ...log, code: outcome.code }, 'notification email refused by the SMTP server');
      else if (outcome.status === 'skipped') deps.logger.info({ ...log, reason: outcome.reason }, 'notification email skipped');
    },
    // Helpdesk automations: the rules of the event's kind, then the signed webhooks they queued.
    [TICKET_EVENT_TOPIC]: async (delivery) => {
      await runTicketAutomations(deps, { tenantId: delivery.tenantId, eventId: ticketEvent.parse(delivery.payload).eventId });
    },
    [AUTOMATION_WEBHOOK_TOPIC]: async (delivery) => {
      const payload = automationWebhook.parse(delivery.payload);
      const outcome = await deliverAutomationWebhook(deps, { tenantId: delivery.tenantId, ...payload });
      if (outcome.status === 'gave_up') deps.logger.warn({ tenantId: delivery.tenantId, automationId: payload.automationId, httpStatus: outcome.httpStatus }, 'automation webhook refused: not retried');
      if (outcome.status === 'refused') deps.logger.warn({ tenantId: delivery.tenantId, automationId: payload.automationId, reason: outcome.reason }, 'automation webhook not called: not retried');
    },
    // Helpdesk and conversations: an agent's public reply goes out on the customer's channel; a
    // resolution asks the customer for a 1-5 rating (the bot is already back: applyTicketChanges).
    [TICKET_AGENT_REPLIED_TOPIC]: async (delivery) => {
      await deliverAgentReply(deps, { tenantId: delivery.tenantId, eventKey: delivery.id, ...ticketAgentReplied.parse(delivery.payload) });
    },
    [TICKET_RESOLVED_TOPIC]: async (delivery) => {
      await requestTicketRating(deps, { tenantId: delivery.tenantId, eventKey: delivery.id, ticketId: ticketResolved.parse(delivery.payload).ticketId });
    },
  };
}
