import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { channelAccounts, conversationMessages, type Database } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';
import { applyConversationEvent } from './apply-conversation-event.js';
import { inspectInboundText, MAX_INBOUND_TEXT_BYTES } from './conversation-input.js';
import { findOrCreateContact, lockConversationOf } from './conversation-records.js';
import { channelCapabilitiesSchema, freshConversationState, readConversationState, type ConversationState } from './conversation-state.js';
import { lookupForConversation } from './lookup-for-conversation.js';
import { runConversationTurn, type StoredReply } from './run-conversation-turn.js';

/** A conversation left alone this long starts afresh at the next message (an agent's conversation does not). */
export const CONVERSATION_IDLE_EXPIRY_MS = 30 * 60_000;

/** Room for a 4 KB message written in multi-byte characters; over 4 KB is answered, not refused. */
const MAX_TEXT_CHARACTERS = 4 * MAX_INBOUND_TEXT_BYTES;

const handleInboundMessageInput = z.object({
  tenantId: z.uuid(),
  channelAccountId: z.uuid(),
  sender: z.object({
    /** The provider's address of the customer: chat id, wa_id, phone number, web chat id. */
    externalId: z.string().min(1).max(200),
    /** Set by adapters whose identity is a phone number (WhatsApp, SMS, USSD): merges contacts, pays by default. */
    phoneE164: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/)
      .optional(),
    name: z.string().max(200).optional(),
  }),
  providerMessageId: z.string().min(1).max(200),
  text: z.string().max(MAX_TEXT_CHARACTERS),
  receivedAt: z.coerce.date(),
  capabilities: channelCapabilitiesSchema,
});

export interface InboundMessageOutcome {
  /** true when this provider message id was already handled: nothing was done. */
  duplicate: boolean;
  conversationId: string;
  contactId: string;
  /** What the bot answered, in order (for in-session channels to return at once). */
  replies: StoredReply[];
  /** The conversation now waits for an answer (choices or a question are open): USSD keeps its session (CON). */
  awaitingAnswer: boolean;
}

/** Steps that ask for free text rather than offer choices. */
const QUESTION_STEPS: readonly ConversationState['step'][] = ['pay_enter_phone', 'ticket_describe'];
const isAwaitingAnswer = (state: ConversationState) => state.mode === 'bot' && (state.offered.length > 0 || QUESTION_STEPS.includes(state.step));

/** What an inbound row keeps of an unreadable text: something an agent can look at, never NULs (jsonb refuses them). */
function storableText(text: string): string {
  return text.replaceAll(String.fromCharCode(0), '').slice(0, MAX_INBOUND_TEXT_BYTES);
}

/**
 * The inbound pipeline of every channel. In one transaction: dedupe by the provider's message id,
 * find or create the contact (merged by phone number) and its conversation, lock the
 * conversation (one input at a time: replies never race), restart an expired conversation,
 * run the engine, store the inbound and outbound messages, the new state and the effects' outbox
 * rows. Lookups (my WiFi, my tickets) are read after commit and answered in a second, short turn.
 */
export async function handleInboundMessage(deps: { db: Database; clock: Clock }, options: z.input<typeof handleInboundMessageInput>): Promise<InboundMessageOutcome> {
  const input = parseInput(handleInboundMessageInput, options);
  const inspected = inspectInboundText(input.text);
  const now = deps.clock.now();

  const handled = await deps.db.withTenant(input.tenantId, async (tx) => {
    const [account] = await tx
      .select({ id: channelAccounts.id, kind: channelAccounts.kind, status: channelAccounts.status })
      .from(channelAccounts)
      .where(and(eq(channelAccounts.tenantId, input.tenantId), eq(channelAccounts.id, input.channelAccountId)));
    if (!account) throw new AppError('NOT_FOUND', 'channel account not found');
    const contact = await findOrCreateContact(tx, input.tenantId, account.kind, input.sender);
    const conversation = await lockConversationOf(tx, input.tenantId, account.id, contact.id);

    const [inbound] = await tx
      .insert(conversationMessages)
      .values({
        tenantId: input.tenantId,
        conversationId: conversation.id,
        channelAccountId: account.id,
        direction: 'inbound',
        providerMessageId: input.providerMessageId,
        body: inspected.kind === 'unreadable' ? { text: storableText(input.text), unreadable: inspected.reason } : { text: input.text },
        status: 'received',
        createdAt: input.receivedAt,
      })
      .onConflictDoNothing({ target: [conversationMessages.tenantId, conversationMessages.channelAccountId, conversationMessages.direction, conversationMessages.providerMessageId] })
      .returning({ id: conversationMessages.id });
    if (!inbound) return { duplicate: true as const, conversationId: conversation.id, contactId: contact.id, awaitingAnswer: isAwaitingAnswer(readConversationState(conversation.state, conversation.mode)) };

    let state = readConversationState(conversation.state, conversation.mode);
    const expired = conversation.expiresAt !== null && conversation.expiresAt <= now;
    if (expired && state.mode === 'bot') state = freshConversationState(state);
    const turn = await runConversationTurn(tx, {
      tenantId: input.tenantId,
      conversation,
      contact,
      state,
      input: inspected,
      now,
      capabilities: input.capabilities,
      contactPhoneE164: input.sender.phoneE164,
      expiresAt: new Date(now.getTime() + CONVERSATION_IDLE_EXPIRY_MS),
    });
    return { duplicate: false as const, conversationId: conversation.id, contactId: contact.id, inboundId: inbound.id, turn };
  });

  if (handled.duplicate) return { duplicate: true, conversationId: handled.conversationId, contactId: handled.contactId, replies: [], awaitingAnswer: handled.awaitingAnswer };
  const replies = [...handled.turn.replies];
  for (const what of handled.turn.lookups) {
    const found = await lookupForConversation(deps, { tenantId: input.tenantId, contactId: handled.contactId, what });
    replies.push(
      ...(await applyConversationEvent(deps, {
        tenantId: input.tenantId,
        conversationId: handled.conversationId,
        input: found,
        eventKey: `lookup:${handled.inboundId}:${what}`,
        // Answered within this request: in session, like the turn's own replies.
        capabilities: input.capabilities,
      })),
    );
  }
  // A lookup's answer settles the conversation (nothing asked); otherwise the turn's state says.
  const awaitingAnswer = handled.turn.lookups.length === 0 && isAwaitingAnswer(handled.turn.state);
  return { duplicate: false, conversationId: handled.conversationId, contactId: handled.contactId, replies, awaitingAnswer };
}
