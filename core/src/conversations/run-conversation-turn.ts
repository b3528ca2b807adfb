import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { contacts, conversationMessages, conversations, type Tx } from '@relais/db';
import { MAX_PAYMENT_ATTEMPTS_PER_TICKET } from '../payments/start-ticket-payment.js';
import { isAppError } from '../shared/app-error.js';
import { writeToOutbox } from '../shared/outbox.js';
import type { ChannelCapabilities, OutboundMessageBody } from '../shared/ports/channel-sender.js';
import type { ConversationContext, ConversationInput } from './conversation-input.js';
import { FALLBACK_CAPABILITIES, offeredCategories, offeredPackages, tenantProfile, type ContactRow, type ConversationRow } from './conversation-records.js';
import type { ConversationState } from './conversation-state.js';
import { openConversationTicket } from './open-conversation-ticket.js';
import { renderOutboundMessage } from './render-outbound-message.js';
import { transitionConversation } from './transition-conversation.js';

/** Outbox topics the engine writes. */
export const CONVERSATION_TOPICS = {
  startPayment: 'conversation.start_payment',
  handedOff: 'conversation.handed_off',
} as const;

/** Inputs that effects answer within one turn (ticket opened, then payment asked): a bound, never reached by a sane flow. */
const MAX_FOLLOW_UPS = 4;

export interface StoredReply {
  id: string;
  seq: number;
  body: OutboundMessageBody;
}

export interface TurnOutcome {
  replies: StoredReply[];
  lookups: ('wifi_usage' | 'tickets')[];
  state: ConversationState;
}

/**
 * One turn of a conversation whose row the caller has locked (FOR UPDATE) in `tx`: the
 * transition, then its effects — database writes in this same transaction (answered with
 * follow-up inputs), outbox rows for the rest — then the new state and the outbound messages,
 * rendered for the channel's capabilities. Lookups are left to the caller, after commit.
 */
export async function runConversationTurn(
  tx: Tx,
  options: {
    tenantId: string;
    conversation: ConversationRow;
    contact: ContactRow;
    state: ConversationState;
    input: ConversationInput;
    now: Date;
    capabilities?: ChannelCapabilities;
    contactPhoneE164?: string;
    /** Ids of the outbound rows (deterministic for redelivered events); random when absent. */
    messageIdFor?: (index: number) => string;
    /** An inbound message: the inactivity clock restarts. */
    expiresAt?: Date;
  },
): Promise<TurnOutcome> {
  const { tenantId, conversation, contact, now } = options;
  const capabilities = options.capabilities ?? options.state.capabilities ?? FALLBACK_CAPABILITIES;
  const context = await loadContext(tx, { tenantId, contact, capabilities, needsCatalogue: options.input.kind === 'text', now, contactPhoneE164: options.contactPhoneE164 });

  let state: ConversationState = { ...options.state, capabilities };
  const messages: OutboundMessageBody[] = [];
  const lookups: TurnOutcome['lookups'] = [];
  const inputs: ConversationInput[] = [options.input];
  for (let turn = 0; turn < inputs.length && turn <= MAX_FOLLOW_UPS; turn += 1) {
    const transition = transitionConversation(state, inputs[turn]!, context);
    state = transition.state;
    for (const effect of transition.effects) {
      switch (effect.kind) {
        case 'send':
          messages.push(renderOutboundMessage(effect.message, capabilities));
          break;
        case 'set_contact_locale':
          await tx.update(contacts).set({ locale: effect.locale, updatedAt: now }).where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, contact.id)));
          context.locale = effect.locale;
          context.localeChosen = true;
          break;
        case 'open_ticket':
          inputs.push(await openTicketOrRefuse(tx, { tenantId, contactId: contact.id, conversationId: conversation.id, now, ...effect }));
          break;
        case 'start_payment':
          await writeToOutbox(tx, tenantId, {
            topic: CONVERSATION_TOPICS.startPayment,
            dedupeKey: `conversation-start-payment:${effect.ticketId}:${effect.attempt}`,
            payload: { conversationId: conversation.id, ticketId: effect.ticketId, payerPhone: effect.payerPhone, attempt: effect.attempt },
          });
          break;
        case 'hand_off':
          await writeToOutbox(tx, tenantId, {
            topic: CONVERSATION_TOPICS.handedOff,
            dedupeKey: `conversation-handed-off:${conversation.id}:${conversation.version}`,
            payload: { conversationId: conversation.id, contactId: contact.id },
          });
          break;
        case 'lookup':
          lookups.push(effect.what);
          break;
      }
    }
  }

  await tx
    .update(conversations)
    .set({
      state,
      mode: state.mode,
      locale: context.localeChosen ? context.locale : conversation.locale,
      version: sql`${conversations.version} + 1`,
      updatedAt: now,
      ...(options.expiresAt ? { lastInboundAt: now, expiresAt: options.expiresAt } : {}),
    })
    .where(and(eq(conversations.tenantId, tenantId), eq(conversations.id, conversation.id)));

  // Explicit capabilities mean an adapter is answering a request now; without them (an event)
  // the reply is in session only on channels that keep it readable (web chat polling).
  const inSession = capabilities.replyInSession && (options.capabilities !== undefined || !capabilities.pushOutsideSession);
  const replies: StoredReply[] = [];
  // One row at a time: `seq` then follows the order the customer must read them in.
  for (const [index, body] of messages.entries()) {
    const [row] = await tx
      .insert(conversationMessages)
      .values({
        tenantId,
        id: options.messageIdFor?.(index) ?? randomUUID(),
        conversationId: conversation.id,
        channelAccountId: conversation.channelAccountId,
        direction: 'outbound',
        body,
        // In-session channels hand the reply over in the response (or the poll): nothing to push.
        status: inSession ? 'sent' : 'pending',
        sentAt: inSession ? now : null,
        nextAttemptAt: inSession ? null : now,
        createdAt: now,
      })
      .returning({ id: conversationMessages.id, seq: conversationMessages.seq });
    replies.push({ id: row!.id, seq: Number(row!.seq), body });
  }
  return { replies, lookups, state };
}

async function loadContext(
  tx: Tx,
  options: { tenantId: string; contact: ContactRow; capabilities: ChannelCapabilities; needsCatalogue: boolean; now: Date; contactPhoneE164?: string },
): Promise<ConversationContext> {
  const tenant = await tenantProfile(tx, options.tenantId);
  // Events (payment, voucher) never offer packages or categories: no need to read them.
  const packages = options.needsCatalogue ? await offeredPackages(tx, options.tenantId) : [];
  const categories = options.needsCatalogue ? await offeredCategories(tx, options.tenantId) : [];
  return {
    locale: options.contact.locale ?? tenant.defaultLocale,
    localeChosen: options.contact.locale !== null,
    tenantName: tenant.name,
    capabilities: options.capabilities,
    packages,
    categories,
    contactPhoneE164: options.contactPhoneE164,
    maxPaymentAttempts: MAX_PAYMENT_ATTEMPTS_PER_TICKET,
    now: options.now,
  };
}

/** The ticket, or the refusal the customer hears about; a savepoint keeps a refusal from undoing the turn. */
async function openTicketOrRefuse(
  tx: Tx,
  options: { tenantId: string; contactId: string; conversationId: string; now: Date; categoryId?: string; packageId?: string; subject: string; description?: string },
): Promise<ConversationInput> {
  try {
    const opened = await tx.transaction((savepoint) => openConversationTicket(savepoint as unknown as Tx, options));
    return { kind: 'ticket_opened', ...opened };
  } catch (error) {
    if (isAppError(error) && !error.retryable) return { kind: 'action_refused', code: error.code };
    throw error;
  }
}
