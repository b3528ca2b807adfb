import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { channelAccounts, type Database, type TenantContext, type Tx } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';
import type { FileStore } from '../shared/ports/file-store.js';
import { inspectInboundText, MAX_INBOUND_TEXT_BYTES } from './conversation-input.js';
import { ensureConversationOf, findOrCreateContact, lockConversationAndReceive } from './conversation-records.js';
import { inboundFileSchema, inspectInboundFile } from './inbound-file.js';
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
  /** The customer's text; with a file, its caption ('' for none). */
  text: z.string().max(MAX_TEXT_CHARACTERS),
  /** A photo, document or voice note, downloaded (capped) by the adapter with the provider's client. */
  file: inboundFileSchema.optional(),
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
const QUESTION_STEPS: readonly ConversationState['step'][] = ['pay_enter_phone', 'ticket_describe', 'csat_comment'];
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
 * rows. Lookups (my WiFi, my tickets) are read in the same transaction and answered in the same turn.
 * A file (photo, document) is checked before the transaction and stored only by a turn that
 * attaches it (after the dedupe: a redelivered message stores nothing); `deps.fileStore` is needed then.
 */
export async function handleInboundMessage(
  deps: { db: Database; clock: Clock; fileStore?: FileStore },
  options: z.input<typeof handleInboundMessageInput>,
): Promise<InboundMessageOutcome> {
  const input = parseInput(handleInboundMessageInput, options);
  const now = deps.clock.now();
  // A file is checked (size, type from its bytes) before the transaction: the lock is never held over it.
  const withFile = input.file ? inspectInboundFile(input.file, storableText(input.text)) : undefined;
  if (withFile && !deps.fileStore) throw new Error('a message with a file needs deps.fileStore');
  const inspected = withFile ? withFile.input : inspectInboundText(input.text);

  const body = withFile ? withFile.body : inspected.kind === 'unreadable' ? { text: storableText(input.text), unreadable: inspected.reason } : { text: input.text };

  const handled = await deps.db.withTenant(input.tenantId, async (tx, { query, queryAndCommit }) => {
    // The turn's write is the transaction's last statement (nothing below may fail after it).
    const db = { tx, query, queryAndCommit };
    const receive = () =>
      lockConversationAndReceive(db, {
        tenantId: input.tenantId,
        channelAccountId: input.channelAccountId,
        externalId: input.sender.externalId,
        providerMessageId: input.providerMessageId,
        body,
        receivedAt: input.receivedAt,
      });
    // A known contact's message is one statement; a first message makes the contact and its conversation first.
    let received = await receive();
    if (!received) {
      const [account] = await tx
        .select({ id: channelAccounts.id, kind: channelAccounts.kind })
        .from(channelAccounts)
        .where(and(eq(channelAccounts.tenantId, input.tenantId), eq(channelAccounts.id, input.channelAccountId)));
      if (!account) throw new AppError('NOT_FOUND', 'channel account not found');
      const contact = await findOrCreateContact(tx, input.tenantId, account.kind, input.sender);
      await ensureConversationOf(tx, input.tenantId, account.id, contact.id);
      received = await receive();
      if (!received) throw new Error('conversation not found right after it was made');
    }
    const { conversation, contact, tenant, inboundId } = received;
    if (!inboundId) return { duplicate: true as const, conversationId: conversation.id, contactId: contact.id, awaitingAnswer: isAwaitingAnswer(readConversationState(conversation.state, conversation.mode)) };

    let state = readConversationState(conversation.state, conversation.mode);
    const expired = conversation.expiresAt !== null && conversation.expiresAt <= now;
    if (expired && state.mode === 'bot') state = freshConversationState(state);
    const turn = await runConversationTurn(db, {
      tenantId: input.tenantId,
      conversation,
      contact,
      tenant,
      state,
      input: inspected,
      now,
      capabilities: input.capabilities,
      contactPhoneE164: input.sender.phoneE164,
      expiresAt: new Date(now.getTime() + CONVERSATION_IDLE_EXPIRY_MS),
      // Read under the conversation's lock, in this transaction: one transaction per message.
      ...(withFile ? { file: withFile.accepted, fileStore: deps.fileStore } : {}),
      lookup: (what) => lookupForConversation({ db: sameTransaction(deps.db, input.tenantId, tx, query), clock: deps.clock }, { tenantId: input.tenantId, contactId: contact.id, what }),
    });
    return { duplicate: false as const, conversationId: conversation.id, contactId: contact.id, turn };
  });

  if (handled.duplicate) return { duplicate: true, conversationId: handled.conversationId, contactId: handled.contactId, replies: [], awaitingAnswer: handled.awaitingAnswer };
  // A lookup's answer settles the conversation (nothing asked); otherwise the turn's state says.
  const awaitingAnswer = !handled.turn.lookedUp && isAwaitingAnswer(handled.turn.state);
  return { duplicate: false, conversationId: handled.conversationId, contactId: handled.contactId, replies: handled.turn.replies, awaitingAnswer };
}

/**
 * The database as seen from inside a tenant transaction: `withTenant` for the same tenant runs its
 * work in that transaction (same role, same RLS context, same locks) instead of opening another.
 * For read-only use cases of other contexts (the lookups) that take a Database.
 */
function sameTransaction(db: Database, tenantId: string, tx: Tx, query: TenantContext['query']): Database {
  return {
    driver: db.driver,
    runtimeRole: db.runtimeRole,
    withTenant: async (otherTenantId, work) => {
      if (otherTenantId !== tenantId) throw new Error('a lookup asked for another tenant');
      // The turn commits its own transaction: a lookup inside it cannot.
      return work(tx, { query, queryAndCommit: () => Promise.reject(new Error('a lookup cannot commit the turn it runs in')) });
    },
    withPlatform: () => Promise.reject(new Error('no platform transaction inside a tenant turn')),
    ping: () => db.ping(),
    close: () => Promise.reject(new Error('not closable from inside a transaction')),
  };
}
