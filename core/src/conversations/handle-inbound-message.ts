import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { channelAccounts, type Database, type TenantContext, type Tx } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';
import type { FileStore } from '../shared/ports/file-store.js';
import { createGroupCommit, groupCommitPerTenant } from '../shared/group-commit.js';
import { inspectInboundText, MAX_INBOUND_TEXT_BYTES, type ConversationInput } from './conversation-input.js';
import { ensureConversationOf, findOrCreateContact, lockConversationAndReceive, type TurnSubjects } from './conversation-records.js';
import { inboundFileSchema, inspectInboundFile, type AcceptedInboundFile } from './inbound-file.js';
import { channelCapabilitiesSchema, freshConversationState, readConversationState, type ConversationState } from './conversation-state.js';
import { lookupForConversation } from './lookup-for-conversation.js';
import { decideConversationTurn, turnCatalogue, writeConversationTurn, type StoredReply } from './run-conversation-turn.js';

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

type HandleInboundMessageInput = z.output<typeof handleInboundMessageInput>;

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
 * A tenant's messages arriving together are answered together (answerInboundMessages).
 */
export async function handleInboundMessage(
  deps: { db: Database; clock: Clock; fileStore?: FileStore },
  options: z.input<typeof handleInboundMessageInput>,
): Promise<InboundMessageOutcome> {
  const input = parseInput(handleInboundMessageInput, options);
  // A file is checked (size, type from its bytes) before the transaction: the lock is never held over it.
  const withFile = input.file ? inspectInboundFile(input.file, storableText(input.text)) : undefined;
  if (withFile && !deps.fileStore) throw new Error('a message with a file needs deps.fileStore');
  const inspected = withFile ? withFile.input : inspectInboundText(input.text);
  const body = withFile ? withFile.body : inspected.kind === 'unreadable' ? { text: storableText(input.text), unreadable: inspected.reason } : { text: input.text };
  return inboundBatches(deps.db, input.tenantId).submit({
    clock: deps.clock,
    fileStore: deps.fileStore,
    now: deps.clock.now(),
    channelAccountId: input.channelAccountId,
    sender: input.sender,
    providerMessageId: input.providerMessageId,
    receivedAt: input.receivedAt,
    capabilities: input.capabilities,
    body,
    input: inspected,
    file: withFile?.accepted,
  });
}

/** Most messages answered in one transaction: enough to absorb a burst, few enough to keep its locks short. */
const MAX_MESSAGES_PER_TRANSACTION = 32;
/**
 * A tenant's transactions answering messages at once: while one waits on the database the next
 * batch fills. Their locks cannot cross (each locks its conversations in one order); a deadlock
 * with other work fails the batch, whose messages are then answered one per transaction.
 */
const CONCURRENT_TRANSACTIONS_PER_TENANT = 2;

/**
 * A tenant's inbound messages that arrive while its earlier ones are being answered are answered
 * together in the next transaction (decision 010): their locks, inbound rows, turns and final
 * writes share its round trips and its one WAL flush. A batch that fails (a bad message, a lost
 * deadlock) rolled back and is retried one message per transaction, so only the culprit fails; a
 * message whose COMMIT's fate is unknown is then found already stored and answered as a duplicate.
 */
const inboundBatches = groupCommitPerTenant((db: Database, tenantId: string) =>
  createGroupCommit<InboundItem, InboundMessageOutcome>({
    flush: (items) => answerInboundMessages(db, tenantId, items),
    maxBatch: MAX_MESSAGES_PER_TRANSACTION,
    maxConcurrentFlushes: CONCURRENT_TRANSACTIONS_PER_TENANT,
  }),
);

/** One inbound message, checked, waiting for its turn. */
interface InboundItem {
  clock: Clock;
  fileStore?: FileStore;
  now: Date;
  channelAccountId: string;
  sender: HandleInboundMessageInput['sender'];
  providerMessageId: string;
  receivedAt: Date;
  capabilities: HandleInboundMessageInput['capabilities'];
  /** What the inbound row stores. */
  body: unknown;
  input: ConversationInput;
  file?: AcceptedInboundFile;
}

/** What locking a message's conversation and storing it gave. */
type Received = TurnSubjects & { inboundId?: string };

/**
 * Answers `items` (one tenant's) in one transaction, in rounds: a round holds at most one message
 * per sender (a conversation takes one input at a time), sends every lock-and-receive of the
 * round in one round trip, ordered by sender so that two batches lock in the same order, runs the
 * turns one after the other (they share the catalogue read), then sends their final writes
 * together — the last round's with the COMMIT. A sender's second message goes in the next round,
 * after its first one's write. First contacts are made one by one in the round.
 */
async function answerInboundMessages(db: Database, tenantId: string, items: readonly InboundItem[]): Promise<InboundMessageOutcome[]> {
  return db.withTenant(tenantId, async (tx, { query, queryAndCommit }) => {
    const turnDb = { tx, query };
    const catalogue = turnCatalogue(turnDb, tenantId);
    const outcomes: InboundMessageOutcome[] = new Array(items.length);
    let waiting = items.map((item, index) => ({ item, index }));
    while (waiting.length > 0) {
      const senders = new Set<string>();
      const round: typeof waiting = [];
      const later: typeof waiting = [];
      for (const entry of waiting) {
        const sender = `${entry.item.channelAccountId} ${entry.item.sender.externalId}`;
        if (senders.has(sender)) {
          later.push(entry);
        } else {
          senders.add(sender);
          round.push(entry);
        }
      }
      round.sort((a, b) => compareSenders(a.item, b.item));
      waiting = later;

      const receive = (item: InboundItem) =>
        lockConversationAndReceive(turnDb, {
          tenantId,
          channelAccountId: item.channelAccountId,
          externalId: item.sender.externalId,
          providerMessageId: item.providerMessageId,
          body: item.body,
          receivedAt: item.receivedAt,
        });
      // Issued in one tick: the round's statements leave in one write (decision 015).
      const received: (Received | undefined)[] = await Promise.all(round.map(({ item }) => receive(item)));
      const conversationIds = new Set<string>();
      // The turns take the transaction one at a time (their savepoints cannot interleave), except
      // while one waits for a lookup's answer: it only reads, so the next turn goes on meanwhile
      // and the round's lookups share round trips instead of queueing one behind the other.
      const baton = createBaton();
      const decided = await Promise.allSettled(
        round.map(async ({ item, index }, position) => {
          let release = await baton.take();
          try {
            // A first message makes the contact and its conversation first.
            const subjects = received[position] ?? (await receiveFirstMessage(tx, tenantId, item, () => receive(item)));
            const { conversation, contact, tenant, inboundId } = subjects;
            // Two senders merged into one contact (by phone) in one round: one conversation, two inputs at once.
            if (conversationIds.has(conversation.id)) throw new Error('two messages of one conversation in one round');
            conversationIds.add(conversation.id);
            let state = readConversationState(conversation.state, conversation.mode);
            if (!inboundId) {
              outcomes[index] = { duplicate: true, conversationId: conversation.id, contactId: contact.id, replies: [], awaitingAnswer: isAwaitingAnswer(state) };
              return undefined;
            }
            const expired = conversation.expiresAt !== null && conversation.expiresAt <= item.now;
            if (expired && state.mode === 'bot') state = freshConversationState(state);
            const turn = await decideConversationTurn(turnDb, {
              tenantId,
              conversation,
              contact,
              tenant,
              state,
              input: item.input,
              now: item.now,
              capabilities: item.capabilities,
              contactPhoneE164: item.sender.phoneE164,
              expiresAt: new Date(item.now.getTime() + CONVERSATION_IDLE_EXPIRY_MS),
              catalogue,
              ...(item.file ? { file: item.file, fileStore: item.fileStore } : {}),
              // Read under the conversation's lock, in this transaction.
              lookup: async (what) => {
                release();
                try {
                  return await lookupForConversation({ db: sameTransaction(db, tenantId, tx, query), clock: item.clock }, { tenantId, contactId: contact.id, what });
                } finally {
                  release = await baton.take();
                }
              },
            });
            return { index, conversationId: conversation.id, contactId: contact.id, turn };
          } finally {
            release();
          }
        }),
      );
      // Every turn has settled (none still using the connection) before a failure ends the transaction.
      const failed = decided.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      const writes = decided.flatMap((result) => (result.status === 'fulfilled' && result.value ? [result.value] : []));
      // The round's writes in one round trip; the batch's very last one carries the COMMIT.
      const written = await Promise.all(
        writes.map(({ turn }, position) => writeConversationTurn(waiting.length === 0 && position === writes.length - 1 ? queryAndCommit : query, turn)),
      );
      writes.forEach(({ index, conversationId, contactId }, position) => {
        const turn = written[position]!;
        // A lookup's answer settles the conversation (nothing asked); otherwise the turn's state says.
        outcomes[index] = { duplicate: false, conversationId, contactId, replies: turn.replies, awaitingAnswer: !turn.lookedUp && isAwaitingAnswer(turn.state) };
      });
    }
    return outcomes;
  });
}

/** A lock handed over in the order it was asked for: `take` resolves with the function that releases it. */
function createBaton(): { take(): Promise<() => void> } {
  let last = Promise.resolve();
  return {
    async take() {
      const previous = last;
      let release!: () => void;
      last = new Promise<void>((resolve) => (release = resolve));
      await previous;
      return release;
    },
  };
}

function compareSenders(a: InboundItem, b: InboundItem): number {
  if (a.channelAccountId !== b.channelAccountId) return a.channelAccountId < b.channelAccountId ? -1 : 1;
  return a.sender.externalId < b.sender.externalId ? -1 : a.sender.externalId > b.sender.externalId ? 1 : 0;
}

/** The slow path of a sender's first message: the contact (merged by phone) and its conversation are made, then the message received. */
async function receiveFirstMessage(tx: Tx, tenantId: string, item: InboundItem, receive: () => Promise<Received | undefined>): Promise<Received> {
  const [account] = await tx
    .select({ id: channelAccounts.id, kind: channelAccounts.kind })
    .from(channelAccounts)
    .where(and(eq(channelAccounts.tenantId, tenantId), eq(channelAccounts.id, item.channelAccountId)));
  if (!account) throw new AppError('NOT_FOUND', 'channel account not found');
  const contact = await findOrCreateContact(tx, tenantId, account.kind, item.sender);
  await ensureConversationOf(tx, tenantId, account.id, contact.id);
  const received = await receive();
  if (!received) throw new Error('conversation not found right after it was made');
  return received;
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
