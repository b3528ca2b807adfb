import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { contacts, type RawStatement, type TenantContext, type Tx } from '@relais/db';
import { MAX_PAYMENT_ATTEMPTS_PER_TICKET } from '../payments/start-ticket-payment.js';
import { isAppError, type AppErrorCode } from '../shared/app-error.js';
import { recordCsatComment } from '../tickets/csat/record-csat-comment.js';
import { recordCsatResponse } from '../tickets/csat/record-csat-response.js';
import { writeToOutbox } from '../shared/outbox.js';
import type { ChannelCapabilities, OutboundMessageBody } from '../shared/ports/channel-sender.js';
import type { FileStore } from '../shared/ports/file-store.js';
import { storeTicketAttachment } from '../tickets/attachments/store-ticket-attachment.js';
import { attachFileToOpenedTicket, holdConversationFile } from './attach-conversation-file.js';
import type { ConversationContext, ConversationInput } from './conversation-input.js';
import { FALLBACK_CAPABILITIES, offeredCatalogue, type TurnDb, type TurnSubjects } from './conversation-records.js';
import type { ConversationState, OfferedCategory, OfferedPackage } from './conversation-state.js';
import { handOffToTicket, relayToTicket, type ConversationUnderTicket } from './hand-off-to-ticket.js';
import type { AcceptedInboundFile } from './inbound-file.js';
import { openConversationTicket } from './open-conversation-ticket.js';
import { renderOutboundMessage } from './render-outbound-message.js';
import { transitionConversation, type ConversationTransition } from './transition-conversation.js';

/** Outbox topics the engine writes. (A hand-off needs none: the ticket it puts the conversation under is the agents' signal.) */
export const CONVERSATION_TOPICS = {
  startPayment: 'conversation.start_payment',
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
  state: ConversationState;
  /** A lookup was answered in this turn (its answer settles the conversation: nothing is asked). */
  lookedUp: boolean;
}

/** Reads what a lookup effect asks for (my WiFi, my tickets) in the turn's own transaction. */
export type TurnLookup = (what: 'wifi_usage' | 'tickets') => Promise<ConversationInput>;

/**
 * The end of every turn in one round trip: the new state (the inactivity clock when $7 is given,
 * the last inbound time for an inbound message: $11), then the outbound rows. The rows come from
 * a json array read in its order (`with ordinality ... order by`), so `seq` follows the order the
 * customer must read them in.
 */
const WRITE_TURN: RawStatement = {
  name: 'conversations.write_turn',
  text: `with updated as (
    update conversations
    set state = $3::jsonb, mode = $4, locale = $5, version = version + 1, updated_at = $6::timestamptz,
      last_inbound_at = coalesce($11::timestamptz, last_inbound_at),
      expires_at = coalesce($7::timestamptz, expires_at)
    where tenant_id = $1 and id = $2
    returning id
  )
  insert into conversation_messages (tenant_id, id, conversation_id, channel_account_id, direction, body, status, sent_at, next_attempt_at, created_at)
  select $1, (m.item->>'id')::uuid, $2, $8, 'outbound', m.item->'body', $9::text,
    case when $9::text = 'sent' then $6::timestamptz end, case when $9::text = 'pending' then $6::timestamptz end, $6::timestamptz
  from jsonb_array_elements($10::jsonb) with ordinality as m(item, ord)
  order by m.ord
  returning id, seq`,
};

export type TurnOptions = TurnSubjects & {
    tenantId: string;
    state: ConversationState;
    input: ConversationInput;
    now: Date;
    capabilities?: ChannelCapabilities;
    contactPhoneE164?: string;
    /** Ids of the outbound rows (deterministic for redelivered events); random when absent. */
    messageIdFor?: (index: number) => string;
    /** The inactivity clock restarts (an inbound message; an event that asks a question). */
    expiresAt?: Date;
    /** Answers lookup effects (fed back as a follow-up input); turns of events never ask for one. */
    lookup?: TurnLookup;
    /** The file of a `file` input the rules accepted, and where files are stored: only turns with a file need them. */
    file?: AcceptedInboundFile;
    fileStore?: FileStore;
    /** The catalogue to read from: turns answered in one transaction share one (read at most once). */
    catalogue?: TurnCatalogue;
  };

/** A turn decided and its effects written, waiting for its final write (WRITE_TURN). */
export interface DecidedTurn {
  state: ConversationState;
  lookedUp: boolean;
  outbound: { id: string; body: OutboundMessageBody }[];
  writeParams: unknown[];
}

/**
 * One turn of a conversation whose row the caller has locked (FOR UPDATE) in `db.tx`: the
 * transition, then its effects — database writes in this same transaction (answered with
 * follow-up inputs), outbox rows for the rest — then the new state and the outbound messages,
 * rendered for the channel's capabilities. Lookups (my WiFi, my tickets) are read in this same
 * transaction through `options.lookup` and answered as a follow-up input. The turn's final write
 * is the transaction's last statement when `db.queryAndCommit` is given.
 */
export async function runConversationTurn(db: TurnDb, options: TurnOptions): Promise<TurnOutcome> {
  const decided = await decideConversationTurn(db, options);
  return writeConversationTurn(db.queryAndCommit ?? db.query, decided);
}

/**
 * Everything of a turn but its final write: callers answering several conversations in one
 * transaction send the final writes together (writeConversationTurn).
 */
export async function decideConversationTurn(db: TurnDb, options: TurnOptions): Promise<DecidedTurn> {
  const { tx } = db;
  const { tenantId, conversation, contact, now } = options;
  const capabilities = options.capabilities ?? options.state.capabilities ?? FALLBACK_CAPABILITIES;
  const catalogue = options.catalogue ?? turnCatalogue(db, tenantId);
  const context = buildContext({ ...options, capabilities, catalogue });
  // The ticket the conversation is handled under, as hand-offs and relayed texts move it.
  let ticketId = conversation.ticketId;
  const underTicket = (): ConversationUnderTicket => ({ tenantId, conversationId: conversation.id, contactId: contact.id, currentTicketId: ticketId, locale: context.locale, now });
  const fileStore = (): FileStore => {
    if (!options.fileStore) throw new Error('a turn that stores a file needs a FileStore');
    return options.fileStore;
  };
  const { file } = options;

  let state: ConversationState = { ...options.state, capabilities };
  const messages: OutboundMessageBody[] = [];
  let lookedUp = false;
  const inputs: ConversationInput[] = [options.input];
  for (let turn = 0; turn < inputs.length && turn <= MAX_FOLLOW_UPS; turn += 1) {
    const transition = await transitionWithCatalogue(state, inputs[turn]!, context, catalogue);
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
        case 'open_ticket': {
          const { kind: _open, file: ticketFile, ...ticket } = effect;
          const attach = ticketFile ? (savepoint: Tx, openedId: string) => attachFileToOpenedTicket(savepoint, fileStore(), { tenantId, ticketId: openedId, file: ticketFile, current: file, now }) : undefined;
          inputs.push(await openTicketOrRefuse(tx, { tenantId, contactId: contact.id, conversationId: conversation.id, now, ...ticket }, attach));
          break;
        }
        case 'hold_file':
          if (file) await holdConversationFile(fileStore(), tenantId, file);
          break;
        case 'start_payment':
          await writeToOutbox(tx, tenantId, {
            topic: CONVERSATION_TOPICS.startPayment,
            dedupeKey: `conversation-start-payment:${effect.ticketId}:${effect.attempt}`,
            payload: { conversationId: conversation.id, ticketId: effect.ticketId, payerPhone: effect.payerPhone, attempt: effect.attempt },
          });
          break;
        case 'hand_off':
        case 'relay_to_ticket': {
          const text = effect.kind === 'relay_to_ticket' ? effect.text : undefined;
          const relayedFile = effect.kind === 'relay_to_ticket' && effect.withFile ? file : undefined;
          const outcome = await inSavepoint(tx, async (sp) => {
            if (text === undefined) return handOffToTicket(sp, underTicket());
            const relayed = await relayToTicket(sp, { ...underTicket(), text });
            // On the ticket message the caption became (on the ticket itself when a hand-off opened it).
            if (relayedFile) {
              await storeTicketAttachment(sp, fileStore(), { tenantId, ticketId: relayed.ticketId, messageId: relayed.messageId, bytes: relayedFile.bytes, fileName: relayedFile.fileName, now });
            }
            return relayed;
          });
          // Refused (plan limit on a new ticket): no agent would see the conversation, so the bot keeps it.
          if ('refused' in outcome) inputs.push({ kind: 'action_refused', code: outcome.refused, action: 'hand_off' });
          else ticketId = outcome.done.ticketId;
          break;
        }
        case 'record_csat':
          // A survey about a ticket that is gone or not theirs: the customer is thanked all the same.
          await inSavepoint(tx, (sp) => recordCsatResponse(sp, { tenantId, ticketId: effect.ticketId, contactId: contact.id, rating: effect.rating, now }));
          break;
        case 'record_csat_comment':
          await recordCsatComment(tx, { tenantId, ticketId: effect.ticketId, comment: effect.comment });
          break;
        case 'lookup':
          if (!options.lookup) throw new Error(`a lookup (${effect.what}) in a turn that cannot answer it`);
          inputs.push(await options.lookup(effect.what));
          lookedUp = true;
          break;
      }
    }
  }

  // Explicit capabilities mean an adapter is answering a request now; without them (an event)
  // the reply is in session only on channels that keep it readable (web chat polling).
  const inSession = capabilities.replyInSession && (options.capabilities !== undefined || !capabilities.pushOutsideSession);
  const outbound = messages.map((body, index) => ({ id: options.messageIdFor?.(index) ?? randomUUID(), body }));
  const writeParams = [
    tenantId,
    conversation.id,
    JSON.stringify(state),
    state.mode,
    context.localeChosen ? context.locale : conversation.locale,
    now.toISOString(),
    options.expiresAt?.toISOString() ?? null,
    conversation.channelAccountId,
    // In-session channels hand the reply over in the response (or the poll): nothing to push.
    inSession ? 'sent' : 'pending',
    JSON.stringify(outbound),
    options.input.kind === 'text' || options.input.kind === 'unreadable' || options.input.kind === 'file' ? now.toISOString() : null,
  ];
  return { state, lookedUp, outbound, writeParams };
}

/** A decided turn's final write (new state, outbound rows) through `write`: the context's query, or queryAndCommit when it ends the transaction. */
export async function writeConversationTurn(write: TenantContext['query'], turn: DecidedTurn): Promise<TurnOutcome> {
  const rows = await write<{ id: string; seq: string | number }>(WRITE_TURN, turn.writeParams);
  const seqOf = new Map(rows.map((row) => [row.id, Number(row.seq)]));
  const replies: StoredReply[] = turn.outbound.map(({ id, body }) => ({ id, seq: seqOf.get(id)!, body }));
  return { replies, state: turn.state, lookedUp: turn.lookedUp };
}

/** The catalogue a turn may offer, read from the database only once a transition has looked at it. */
export interface TurnCatalogue {
  /** Set when a transition read the packages or the categories. */
  wanted: boolean;
  loaded?: { packages: OfferedPackage[]; categories: OfferedCategory[] };
  load(): Promise<void>;
}

export function turnCatalogue(db: TurnDb, tenantId: string): TurnCatalogue {
  const catalogue: TurnCatalogue = {
    wanted: false,
    async load() {
      catalogue.loaded ??= await offeredCatalogue(db, tenantId);
    },
  };
  return catalogue;
}

/**
 * Most turns (menu, help, language, lookups, events) never look at the catalogue. The transition
 * is pure, so it runs first against a context whose catalogue records being read; only if it was
 * read is the catalogue loaded and the same transition run again with it. Read in the turn's own
 * transaction (shared by the turns answered together in it), never cached across transactions.
 */
async function transitionWithCatalogue(state: ConversationState, input: ConversationInput, context: ConversationContext, catalogue: TurnCatalogue): Promise<ConversationTransition> {
  catalogue.wanted = false;
  const first = transitionConversation(state, input, context);
  if (!catalogue.wanted || catalogue.loaded) return first;
  await catalogue.load();
  return transitionConversation(state, input, context);
}

function buildContext(options: TurnSubjects & { capabilities: ChannelCapabilities; catalogue: TurnCatalogue; now: Date; contactPhoneE164?: string }): ConversationContext {
  const { catalogue } = options;
  return {
    locale: options.contact.locale ?? options.tenant.defaultLocale,
    localeChosen: options.contact.locale !== null,
    tenantName: options.tenant.name,
    capabilities: options.capabilities,
    get packages() {
      catalogue.wanted = true;
      return catalogue.loaded?.packages ?? [];
    },
    get categories() {
      catalogue.wanted = true;
      return catalogue.loaded?.categories ?? [];
    },
    contactPhoneE164: options.contactPhoneE164,
    maxPaymentAttempts: MAX_PAYMENT_ATTEMPTS_PER_TICKET,
    now: options.now,
  };
}

/** Work that may be refused (plan limit, not found...): a savepoint keeps a refusal from undoing the turn. */
async function inSavepoint<T>(tx: Tx, work: (savepoint: Tx) => Promise<T>): Promise<{ done: T } | { refused: AppErrorCode }> {
  try {
    return { done: await tx.transaction((savepoint) => work(savepoint as unknown as Tx)) };
  } catch (error) {
    if (isAppError(error) && !error.retryable) return { refused: error.code };
    throw error;
  }
}

/**
 * The ticket, or the refusal the customer hears about; a savepoint keeps a refusal from undoing
 * the turn. `attach` (the customer's file) runs in the same savepoint: a ticket and its photo.
 */
async function openTicketOrRefuse(
  tx: Tx,
  options: { tenantId: string; contactId: string; conversationId: string; now: Date; categoryId?: string; packageId?: string; subject: string; description?: string },
  attach?: (savepoint: Tx, ticketId: string) => Promise<void>,
): Promise<ConversationInput> {
  const outcome = await inSavepoint(tx, async (savepoint) => {
    const opened = await openConversationTicket(savepoint, options);
    if (attach) await attach(savepoint, opened.ticketId);
    return opened;
  });
  return 'refused' in outcome ? { kind: 'action_refused', code: outcome.refused } : { kind: 'ticket_opened', ...outcome.done };
}
