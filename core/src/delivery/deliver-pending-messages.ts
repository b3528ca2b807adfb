import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import { CHANNEL_KINDS, channelAccountRoutes, channelAccounts, contactIdentities, conversationMessages, conversations, executeRows, tenants, type Database, type Tx } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import { ChannelSendError, type ChannelSender, type OutboundMessageBody, type SendingChannelAccount, type SenderFor } from '../shared/ports/channel-sender.js';
import type { Clock } from '../shared/ports/clock.js';
import type { FileStore } from '../shared/ports/file-store.js';
import type { MessagePacer } from './message-pacer.js';

/** A claimed message not settled within this time (the sender died mid-send) is claimed again. */
export const DELIVERY_LEASE_MS = 60_000;
/** Tries before a message is dead, a crashed try included. */
export const DELIVERY_MAX_ATTEMPTS = 8;
const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 15 * 60_000;
/** How long messages of an account without a sender (or not active) wait before a new look. */
const NO_SENDER_RECHECK_MS = 60_000;
const LAST_ERROR_MAX_CHARS = 300;

/** Backoff after the `attempt`-th failed try: 5 s, 10 s, 20 s... capped at 15 minutes. */
export const deliveryRetryDelayMs = (attempt: number) => Math.min(RETRY_BASE_MS * 2 ** (attempt - 1), RETRY_MAX_MS);

export interface DeliverPendingMessagesDeps {
  db: Database;
  clock: Clock;
  fileStore: FileStore;
  /** Built by the composition root: core never names a channel. */
  senderFor: SenderFor;
  /** One per process, shared by every run, so pacing holds across runs. */
  pacer: MessagePacer;
  /** Waits until a booked send time; tests pass one that moves their clock instead. */
  sleep?: (ms: number) => Promise<void>;
  /** A send failed, or a message could not be sent as written (missing image): for the logs. */
  onError?: (error: unknown, message: { tenantId: string; messageId: string }) => void;
}

const deliverPendingMessagesInput = z.object({
  /** Only this tenant's messages (default: every tenant not closed, in turn). */
  tenantId: z.uuid().optional(),
  /** Messages claimed per tenant per round: what bounds how long one tenant holds the others. */
  perTenantBatch: z.number().int().min(1).max(100).default(10),
  /** Stop after this many rounds (default: until nothing is due or `runForMs` has passed). */
  maxRounds: z.number().int().min(1).optional(),
  /** No round starts after this much time: the next scheduled run takes over. */
  runForMs: z.number().int().min(0).default(4_000),
  maxAttempts: z.number().int().min(1).max(50).default(DELIVERY_MAX_ATTEMPTS),
  /** A send whose paced time is further away than this is deferred in the database, not awaited. */
  maxPacingWaitMs: z.number().int().min(0).max(30_000).default(1_000),
  /** Only messages of these channel accounts: a process sending for the numbers it holds (WhatsApp). */
  channelAccountIds: z.array(z.uuid()).max(1_000).optional(),
  /** Never messages of these channel kinds: theirs are sent by the process holding the number. */
  excludeKinds: z.array(z.enum(CHANNEL_KINDS)).optional(),
});

/** Which messages a run may claim (every one when both are absent). */
interface ClaimFilter {
  channelAccountIds?: string[];
  excludeKinds?: string[];
}

export interface TenantDeliveryReport {
  sent: number;
  retried: number;
  dead: number;
  /** Put back untried: paced later, or no sender for the account yet. */
  deferred: number;
}

export interface DeliveryReport extends TenantDeliveryReport {
  rounds: number;
  byTenant: Record<string, TenantDeliveryReport>;
}

const outboundBodySchema = z.object({
  text: z.string(),
  choices: z.array(z.object({ id: z.string().min(1), label: z.string() })).optional(),
  image: z.object({ fileKey: z.string().min(1), mimeType: z.string().min(1), alt: z.string() }).optional(),
});

interface ClaimedMessage {
  tenantId: string;
  id: string;
  seq: number;
  conversationId: string;
  body: unknown;
  /** Tries counted so far, this one included. */
  attempts: number;
}

interface MessageTarget {
  account: SendingChannelAccount & { status: string };
  recipient: string | null;
}

/**
 * Sends the customers' pending outbound conversation messages. Tenants take turns: each round
 * claims at most `perTenantBatch` due messages of every tenant that has some, so a burst of one
 * tenant costs another at most one batch of sends. Within a conversation messages leave in `seq`
 * order: only a conversation's earliest unsent message is ever claimed. Sends are paced per chat
 * and per account to the limits the account's sender carries.
 *
 * Each claim marks the messages 'sending' with a lease (next_attempt_at) in one short transaction
 * (FOR UPDATE SKIP LOCKED: concurrent runs take different messages); sends happen outside any
 * transaction; each outcome is then recorded: sent, failed (retried with backoff, or when the
 * provider said), or dead (permanent error or attempts exhausted). At-least-once: a process
 * killed between a send and its record sends again once the lease ends.
 */
export async function deliverPendingMessages(deps: DeliverPendingMessagesDeps, options: z.input<typeof deliverPendingMessagesInput> = {}): Promise<DeliveryReport> {
  const input = parseInput(deliverPendingMessagesInput, options);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const report: DeliveryReport = { rounds: 0, sent: 0, retried: 0, dead: 0, deferred: 0, byTenant: {} };
  const stopAtMs = deps.clock.now().getTime() + input.runForMs;
  const filter: ClaimFilter = { channelAccountIds: input.channelAccountIds, excludeKinds: input.excludeKinds };
  // No account to send for: nothing may be claimed (an empty list is not "every account").
  if (input.channelAccountIds?.length === 0) return report;
  let rotation = await tenantsInTurn(deps.db, input.tenantId, input.channelAccountIds);

  while (rotation.length > 0 && (input.maxRounds === undefined || report.rounds < input.maxRounds) && (report.rounds === 0 || deps.clock.now().getTime() < stopAtMs)) {
    report.rounds += 1;
    const stillBusy: string[] = [];
    const sends: Promise<void>[] = [];
    // Every tenant claims before any send is awaited: one tenant's paced sends never hold another's.
    for (const tenantId of rotation) {
      const tenantReport = (report.byTenant[tenantId] ??= { sent: 0, retried: 0, dead: 0, deferred: 0 });
      const claimed = await claimDueMessages(deps.db, tenantId, deps.clock.now(), input.perTenantBatch, filter);
      if (claimed.messages.length === 0) continue;
      stillBusy.push(tenantId);
      for (const message of claimed.messages) {
        sends.push(
          deliverOne({ ...deps, sleep }, input, message, claimed.targets.get(message.conversationId)).then((outcome) => {
            tenantReport[outcome] += 1;
            report[outcome] += 1;
          }),
        );
      }
    }
    await Promise.all(sends);
    rotation = stillBusy;
  }
  return report;
}

type Outcome = keyof TenantDeliveryReport;

async function deliverOne(
  deps: DeliverPendingMessagesDeps & { sleep: (ms: number) => Promise<void> },
  input: z.output<typeof deliverPendingMessagesInput>,
  message: ClaimedMessage,
  target: MessageTarget | undefined,
): Promise<Outcome> {
  const ref = { tenantId: message.tenantId, messageId: message.id };
  // A message claimed this often was never settled: its sender keeps dying on it.
  if (message.attempts > input.maxAttempts) return settleDead(deps, message, `delivery interrupted ${message.attempts - 1} times (lease expired)`);
  const body = outboundBodySchema.safeParse(message.body);
  if (!body.success) return settleDead(deps, message, 'body is not an outbound message (text, choices, image)');
  if (!target) return settleDead(deps, message, 'conversation or channel account not found');
  if (!target.recipient) return settleDead(deps, message, 'the contact has no identity on this channel');
  const now = () => deps.clock.now().getTime();
  if (target.account.status !== 'active') return defer(deps, message, now() + NO_SENDER_RECHECK_MS);
  let sender: ChannelSender | undefined;
  try {
    sender = deps.senderFor(target.account);
  } catch (error) {
    // The account's settings or secrets do not make a sender (bad token format, APP_KEY changed).
    deps.onError?.(error, ref);
    return settleFailure(deps, input, message, undefined, new ChannelSendError(`no sender for the channel account: ${safeErrorText(error)}`, { permanent: false }));
  }
  if (!sender) return defer(deps, message, now() + NO_SENDER_RECHECK_MS);

  const slot = deps.pacer.reserve({ accountKey: target.account.id, chatKey: target.recipient, limits: sender.limits, nowMs: now(), maxWaitMs: input.maxPacingWaitMs });
  if (!slot.booked) return defer(deps, message, slot.atMs);
  const waitMs = slot.atMs - now();
  if (waitMs > 0) await deps.sleep(waitMs);

  let providerMessageId: string | null;
  try {
    // Reading the image is part of the try: a file store hiccup is a retry, like a network one.
    const request = await sendableRequest(deps, sender, message, target, body.data);
    providerMessageId = (await sender.send(request)).providerMessageId ?? null;
  } catch (error) {
    deps.onError?.(error, ref);
    return settleFailure(deps, input, message, { accountKey: target.account.id, chatKey: target.recipient }, error);
  }
  const sent = { status: 'sent' as const, sentAt: deps.clock.now(), nextAttemptAt: null, lastError: null };
  try {
    await settle(deps.db, message, { ...sent, providerMessageId });
  } catch (error) {
    // The customer has the message: never record that as a failed send. A provider id that clashes
    // (unique per account) is dropped rather than lose the 'sent'.
    deps.onError?.(error, ref);
    await settle(deps.db, message, sent);
  }
  return 'sent';
}

/** The request as the sender can carry it: image bytes from the FileStore, or its text alternative. */
async function sendableRequest(
  deps: DeliverPendingMessagesDeps,
  sender: ChannelSender,
  message: ClaimedMessage,
  target: MessageTarget,
  body: OutboundMessageBody,
): Promise<Parameters<ChannelSender['send']>[0]> {
  const base = { tenantId: message.tenantId, channelAccountId: target.account.id, recipient: target.recipient!, messageId: message.id };
  if (!body.image) return { ...base, body };
  const { image, ...withoutImage } = body;
  const file = sender.capabilities.images ? await deps.fileStore.get(image.fileKey) : undefined;
  if (file) return { ...base, body, imageBytes: file.bytes };
  if (sender.capabilities.images) {
    // The customer still gets the words (the voucher code is in the text); the gap goes to the logs.
    deps.onError?.(new AppError('NOT_FOUND', `image ${image.fileKey} is not in the file store; sent as text`), { tenantId: message.tenantId, messageId: message.id });
  }
  const text = image.alt && !body.text.includes(image.alt) ? `${body.text}\n\n${image.alt}`.trim() : body.text;
  return { ...base, body: { ...withoutImage, text } };
}

async function settleFailure(
  deps: DeliverPendingMessagesDeps,
  input: z.output<typeof deliverPendingMessagesInput>,
  message: ClaimedMessage,
  chat: { accountKey: string; chatKey: string } | undefined,
  error: unknown,
): Promise<Outcome> {
  const permanent = error instanceof ChannelSendError && error.permanent;
  const lastError = describeError(error);
  if (permanent || message.attempts >= input.maxAttempts) return settleDead(deps, message, lastError);
  const nowMs = deps.clock.now().getTime();
  const retryAfterMs = error instanceof ChannelSendError ? error.retryAfterMs : undefined;
  // The provider's own "come back in N s" wins over our guess; the chat waits that long too.
  const nextMs = nowMs + (retryAfterMs ?? deliveryRetryDelayMs(message.attempts));
  if (retryAfterMs !== undefined && chat) deps.pacer.holdOffChat(chat.accountKey, chat.chatKey, nextMs);
  await settle(deps.db, message, { status: 'failed', nextAttemptAt: new Date(nextMs), lastError });
  return 'retried';
}

async function settleDead(deps: DeliverPendingMessagesDeps, message: ClaimedMessage, lastError: string): Promise<Outcome> {
  await settle(deps.db, message, { status: 'dead', nextAttemptAt: null, lastError: lastError.slice(0, LAST_ERROR_MAX_CHARS) });
  return 'dead';
}

/** Back to the queue untried: the claim's attempt is given back. */
async function defer(deps: DeliverPendingMessagesDeps, message: ClaimedMessage, atMs: number): Promise<Outcome> {
  const attempts = message.attempts - 1;
  await settle(deps.db, message, { status: attempts > 0 ? 'failed' : 'pending', attempts, nextAttemptAt: new Date(atMs) });
  return 'deferred';
}

async function settle(
  db: Database,
  message: ClaimedMessage,
  change: Partial<Pick<typeof conversationMessages.$inferInsert, 'status' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'sentAt' | 'providerMessageId'>>,
): Promise<void> {
  await db.withTenant(message.tenantId, (tx) =>
    tx
      .update(conversationMessages)
      .set(change)
      // Only while still ours: a lease that ran out may have been claimed (and settled) by another run.
      .where(
        and(
          eq(conversationMessages.tenantId, message.tenantId),
          eq(conversationMessages.id, message.id),
          eq(conversationMessages.status, 'sending'),
          eq(conversationMessages.attempts, message.attempts),
        ),
      ),
  );
}

/** Claims a tenant's due messages, each the earliest unsent one of its conversation, with their targets. */
async function claimDueMessages(
  db: Database,
  tenantId: string,
  now: Date,
  limit: number,
  filter: ClaimFilter,
): Promise<{ messages: ClaimedMessage[]; targets: Map<string, MessageTarget> }> {
  return db.withTenant(tenantId, async (tx) => {
    const nowIso = now.toISOString();
    const leaseIso = new Date(now.getTime() + DELIVERY_LEASE_MS).toISOString();
    // 'sending' rows are due once their lease has passed. An earlier message still pending,
    // failed (waiting for its retry) or sending holds back the rest of its conversation.
    const rows = await executeRows(
      tx,
      sql`with due as (
            select m.tenant_id, m.id
            from conversation_messages m
            where m.tenant_id = ${tenantId}
              and m.direction = 'outbound'
              and m.status in ('pending', 'failed', 'sending')
              and coalesce(m.next_attempt_at, '-infinity') <= ${nowIso}::timestamptz
              ${channelFilter(tenantId, filter)}
              and not exists (
                select 1 from conversation_messages earlier
                where earlier.tenant_id = m.tenant_id
                  and earlier.conversation_id = m.conversation_id
                  and earlier.direction = 'outbound'
                  and earlier.status in ('pending', 'failed', 'sending')
                  and earlier.seq < m.seq)
            order by m.seq
            limit ${limit}
            for update of m skip locked)
          update conversation_messages m
          set status = 'sending', attempts = m.attempts + 1, next_attempt_at = ${leaseIso}::timestamptz
          from due
          where m.tenant_id = due.tenant_id and m.id = due.id
          returning m.id, m.seq, m.conversation_id, m.body, m.attempts`,
    );
    const messages: ClaimedMessage[] = rows
      .map((row) => ({
        tenantId,
        id: String(row.id),
        seq: Number(row.seq),
        conversationId: String(row.conversation_id),
        body: typeof row.body === 'string' ? (JSON.parse(row.body) as unknown) : row.body,
        attempts: Number(row.attempts),
      }))
      .sort((a, b) => a.seq - b.seq);
    return { messages, targets: await targetsOf(tx, tenantId, [...new Set(messages.map((message) => message.conversationId))]) };
  });
}

/**
 * The claim's restriction to some channel accounts or away from some kinds, as a condition on the
 * message's conversation. Messages of a conversation share its account, so the "earliest unsent
 * message of its conversation" rule is unchanged.
 */
function channelFilter(tenantId: string, filter: ClaimFilter) {
  const { channelAccountIds, excludeKinds } = filter;
  if (!channelAccountIds && !excludeKinds?.length) return sql``;
  const conditions = [
    ...(channelAccountIds ? [sql`a.id in (${sql.join(channelAccountIds.map((id) => sql`${id}::uuid`), sql`, `)})`] : []),
    ...(excludeKinds?.length ? [sql`a.kind not in (${sql.join(excludeKinds.map((kind) => sql`${kind}`), sql`, `)})`] : []),
  ];
  return sql`and exists (
                select 1 from conversations c
                join channel_accounts a on a.tenant_id = c.tenant_id and a.id = c.channel_account_id
                where c.tenant_id = ${tenantId}
                  and c.id = m.conversation_id
                  and ${sql.join(conditions, sql` and `)})`;
}

/** Per conversation: its channel account and the contact's address on that account's channel. */
async function targetsOf(tx: Tx, tenantId: string, conversationIds: string[]): Promise<Map<string, MessageTarget>> {
  if (conversationIds.length === 0) return new Map();
  const rows = await tx
    .select({
      conversationId: conversations.id,
      account: {
        tenantId: channelAccounts.tenantId,
        id: channelAccounts.id,
        kind: channelAccounts.kind,
        externalId: channelAccounts.externalId,
        settings: channelAccounts.settings,
        secretsEnc: channelAccounts.secretsEnc,
        status: channelAccounts.status,
        updatedAt: channelAccounts.updatedAt,
      },
      // The newest identity of that kind: a contact merged across numbers answers on the latest.
      recipient: sql<string | null>`(
        select ${contactIdentities.externalId} from ${contactIdentities}
        where ${contactIdentities.tenantId} = ${conversations.tenantId}
          and ${contactIdentities.contactId} = ${conversations.contactId}
          and ${contactIdentities.channelKind} = ${channelAccounts.kind}
        order by ${contactIdentities.createdAt} desc
        limit 1)`,
    })
    .from(conversations)
    .innerJoin(channelAccounts, and(eq(channelAccounts.tenantId, conversations.tenantId), eq(channelAccounts.id, conversations.channelAccountId)))
    .where(and(eq(conversations.tenantId, tenantId), inArray(conversations.id, conversationIds)));
  return new Map(
    rows.map((row) => [row.conversationId, { account: { ...row.account, settings: (row.account.settings ?? {}) as Record<string, unknown> }, recipient: row.recipient }]),
  );
}

/**
 * Tenants to serve, in a stable order: every tenant not closed, or just the one asked for; with
 * channel accounts given, only their tenants (the central routes say whose they are).
 */
async function tenantsInTurn(db: Database, tenantId: string | undefined, channelAccountIds: string[] | undefined): Promise<string[]> {
  const rows = await db.withPlatform((tx) =>
    tx
      .select({ id: tenants.id })
      .from(tenants)
      .where(
        and(
          ne(tenants.status, 'closed'),
          tenantId ? eq(tenants.id, tenantId) : undefined,
          channelAccountIds
            ? inArray(tenants.id, tx.select({ tenantId: channelAccountRoutes.tenantId }).from(channelAccountRoutes).where(inArray(channelAccountRoutes.channelAccountId, channelAccountIds)))
            : undefined,
        ),
      )
      .orderBy(asc(tenants.createdAt), asc(tenants.id)),
  );
  return rows.map((row) => row.id);
}

/** What goes into last_error: the error's kind and first line, without anything shaped like a secret. */
function describeError(error: unknown): string {
  if (error instanceof ChannelSendError) return safeErrorText(error);
  if (error instanceof Error) return `${error.name}: ${safeErrorText(error)}`.slice(0, LAST_ERROR_MAX_CHARS);
  return 'unknown error';
}

/**
 * First line of an error's message with long opaque strings (tokens, keys) blanked out: senders
 * promise not to quote secrets, but errors from libraries below them promised nothing.
 */
function safeErrorText(error: unknown): string {
  const text = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  return text.replace(/[A-Za-z0-9_\-:.+/=]{32,}/g, '[redacted]').replace(/\d{6,}:[A-Za-z0-9_-]{20,}/g, '[redacted]').slice(0, LAST_ERROR_MAX_CHARS);
}
