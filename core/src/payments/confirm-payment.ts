import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import { paymentAttempts, payments, paymentWebhookEvents, tenants, tickets, type Database, type PlatformContext, type RawStatement, type Tx } from '@relais/db';
import { journalEntryRows } from '../billing/ledger/post-journal-entry.js';
import { collectedPaymentEntry, recordCollectedPayment } from '../billing/ledger/record-collected-payment.js';
import { settleSubscriptionInvoice } from '../billing/subscriptions/settle-subscription-invoice.js';
import { AppError } from '../shared/app-error.js';
import { writeToOutbox } from '../shared/outbox.js';
import type { Clock } from '../shared/ports/clock.js';
import type { GatewayTransaction } from '../shared/ports/payment-gateway.js';
import type { GatewayDirectory } from './gateway-directory.js';
import { createGroupCommit, groupCommitPer } from '../shared/group-commit.js';
import { MAX_PAYMENT_ATTEMPTS_PER_TICKET } from './start-ticket-payment.js';

export type ConfirmOutcome =
  | 'fulfilled'
  | 'late_success_fulfilled'
  | 'duplicate_success_refund_required'
  | 'already_fulfilled'
  | 'failed'
  | 'expired'
  | 'still_pending'
  | 'ignored'
  | 'mismatch'
  | 'unknown_reference';

type PaymentRow = typeof payments.$inferSelect;

const RECONCILE_BACKOFF_BASE_MS = 10_000;
const RECONCILE_BACKOFF_MAX_MS = 60_000;

/** When to poll a pending payment again: 10 s, 20 s, 40 s, then every minute. */
export function nextCheckDelayMs(checkCount: number): number {
  return Math.min(RECONCILE_BACKOFF_BASE_MS * 2 ** checkCount, RECONCILE_BACKOFF_MAX_MS);
}

/**
 * Settles a payment from the gateway's own word: re-reads the transaction (never trusts a callback's
 * body), then, in one transaction that locks the payment row, checks amount, currency and our
 * reference and applies the status. Any number of concurrent, repeated or reordered calls fulfil once.
 * Rules: SUCCESSFUL is final and wins over FAILED or EXPIRED seen earlier (a late success is
 * fulfilled, or flagged for refund when another attempt already paid the ticket); FAILED never
 * undoes a success; PENDING past the deadline expires.
 *
 * A callback names the app and the transaction: it is re-read at once, and the payment is found
 * (by that reference, or by our external reference when the collect's answer never came back)
 * when the settlement locks it — no lookup of its own on the way. The reconciler names a payment.
 */
export async function confirmPayment(
  deps: { db: Database; gateways: GatewayDirectory; clock: Clock },
  options: { gatewayAppId: string; gatewayReference?: string; externalReference?: string; paymentId?: string },
): Promise<ConfirmOutcome> {
  let target: { gatewayAppId: string; reference: string };
  if (options.gatewayReference) {
    target = { gatewayAppId: options.gatewayAppId, reference: options.gatewayReference };
  } else {
    if (!options.paymentId) return 'unknown_reference';
    const [payment] = await deps.db.withPlatform((tx) => tx.select().from(payments).where(eq(payments.id, options.paymentId!)));
    if (!payment) return 'unknown_reference';
    // Withdrawals (payouts, refunds) are settled by their own sweep, with the ledger entries that
    // return or release the money (core/src/billing/payouts).
    if (payment.kind === 'payout' || payment.kind === 'refund') return 'ignored';
    if (!payment.gatewayReference) throw new AppError('INTERNAL', 'payment has no gateway reference yet');
    target = { gatewayAppId: payment.gatewayAppId, reference: payment.gatewayReference };
  }
  const app = await deps.gateways.get(target.gatewayAppId);
  if (!app) throw new AppError('NOT_FOUND', `payment gateway app "${target.gatewayAppId}" is not configured`);

  const key: PaymentKey = { payment_id: options.paymentId ?? null, gateway_app_id: target.gatewayAppId, gateway_reference: options.gatewayReference ?? null, external_reference: options.externalReference ?? null };
  let transaction: GatewayTransaction;
  try {
    transaction = await app.gateway.getTransaction(target.reference);
  } catch (error) {
    // CamPay does not know it either (a callback for no payment of ours): recorded, not retried.
    if (options.gatewayReference && !(await paymentExists(deps.db, key))) {
      await deps.db.withPlatform((tx) => markEvents(tx, target.gatewayAppId, target.reference, 'unknown_reference', deps.clock.now()));
      return 'unknown_reference';
    }
    throw error;
  }
  return settlementsOf(deps.db).submit({
    key,
    gatewayAppId: target.gatewayAppId,
    reference: target.reference,
    transaction,
    now: deps.clock.now(),
  });
}

/** Any of these finds the payment (the settlement's lock statement looks it up). */
interface PaymentKey {
  payment_id: string | null;
  gateway_app_id: string;
  gateway_reference: string | null;
  external_reference: string | null;
}

/** One payment to settle from the gateway's word, as confirmPayment read it. */
interface Settlement {
  key: PaymentKey;
  /** The app and transaction that were re-read (their webhook events get the outcome). */
  gatewayAppId: string;
  reference: string;
  transaction: GatewayTransaction;
  now: Date;
}

const MAX_SETTLEMENTS_PER_TRANSACTION = 64;
/**
 * One settlement transaction at a time per process: measured, two at once (tenants split between
 * them) halved the batches and cost more round trips and WAL flushes than they saved in waiting.
 */
const CONCURRENT_SETTLEMENTS = 1;

const settlementsOf = groupCommitPer((db: Database) =>
  createGroupCommit<Settlement, ConfirmOutcome>({
    maxBatch: MAX_SETTLEMENTS_PER_TRANSACTION,
    maxConcurrentFlushes: CONCURRENT_SETTLEMENTS,
    // Its statements are written for generic plans: planned once per connection, not per batch.
    flush: (settlements) => db.withPlatform((tx, platform) => settleAll(tx, platform, settlements), { genericPlans: true }),
  }),
);

const PAYMENT_OF_KEY = `SELECT p.id FROM payments p
    WHERE p.id = q.payment_id
       OR (p.gateway_app_id = q.gateway_app_id AND p.gateway_reference = q.gateway_reference)
       OR (p.gateway_app_id = q.gateway_app_id AND p.external_reference = q.external_reference)
    LIMIT 1`;

const PAYMENT_EXISTS: RawStatement = {
  name: 'confirm_payment_exists',
  text: `SELECT EXISTS (${PAYMENT_OF_KEY}) AS "exists" FROM jsonb_to_recordset($1::jsonb) AS q(payment_id uuid, gateway_app_id text, gateway_reference text, external_reference text)`,
};

async function paymentExists(db: Database, key: PaymentKey): Promise<boolean> {
  const [row] = await db.withPlatform((_tx, platform) => platform.queryAndCommit<{ exists: boolean }>(PAYMENT_EXISTS, [JSON.stringify([key])]));
  return row?.exists === true;
}

/**
 * Finds each key's payment (by id, by the gateway's reference, or by our external reference for
 * a callback of a collect whose answer we never received) and locks the payments in id order, so
 * that concurrent batches cannot deadlock, with their tenant's terms. One row per key found (`i`).
 * Payments are reached through the array of ids found, never by joining the JSON input: a
 * prepared statement's generic plan guesses 100 input rows and, joined that way, hashed the whole
 * payments table (3 ms a batch instead of a few index lookups).
 */
const LOCK_PAYMENTS: RawStatement = {
  name: 'confirm_lock_payments',
  text: `WITH found AS (
  SELECT q.i, (${PAYMENT_OF_KEY}) AS payment_id
  FROM jsonb_to_recordset($1::jsonb) AS q(i int, payment_id uuid, gateway_app_id text, gateway_reference text, external_reference text)
)
SELECT f.i, p.*, t.billing_mode, t.commission_rate_bps
FROM payments p JOIN found f ON f.payment_id = p.id LEFT JOIN tenants t ON t.id = p.tenant_id
WHERE p.id = ANY (ARRAY(SELECT payment_id FROM found))
ORDER BY p.id
FOR UPDATE OF p`,
};

/**
 * Everything a tenant's first successes change, in one statement (tenant entered, platform on):
 * attempts paid, "ticket.paid" for each ticket no other attempt has paid ("payment.refund_required"
 * for the others), payments successful, ledger lines, webhook events processed; the statement
 * fails (relais_assert, migration 0015) unless it changed exactly the rows it was given. Two attempts of one ticket, in this batch or in
 * concurrent transactions, cannot both write "ticket.paid": its key is unique per ticket, and a
 * concurrent insert of the same key waits for the other transaction and then writes nothing —
 * the attempt that got no message is refunded (docs/decisions/009). Tickets are inserted in
 * ticket order, so two transactions wait for each other's keys in one order (no deadlock).
 *
 * Rows are reached by key through the id arrays ($4 attempts, $5 payments, $6 gateway references)
 * and LATERAL lookups, never by joining the JSON input: the prepared statement's generic plan
 * guesses 100 input rows, and joined that way it hashed whole tables (payments, attempts, webhook
 * events) whenever their statistics were stale — a sequential scan of every payment per batch.
 */
const FULFIL_FOR_TENANT: RawStatement = {
  name: 'confirm_fulfil_for_tenant',
  text: `WITH input AS (
  SELECT * FROM jsonb_to_recordset($2::jsonb)
    AS x(payment_id uuid, attempt_id uuid, operator text, completed_at timestamptz, gateway_app_id text, gateway_reference text, phone text, event jsonb)
), attempts AS (
  UPDATE payment_attempts a
  SET status = 'successful', failure_reason = NULL, completed_at = i.completed_at, updated_at = i.completed_at
  FROM input i
  WHERE a.tenant_id = $1::uuid AND a.id = ANY($4::uuid[]) AND a.id = i.attempt_id
  RETURNING a.id AS attempt_id, a.ticket_id
), paid_before AS (
  -- One lookup by ticket per attempt (LATERAL ... LIMIT 1): as a semi-join, a generic plan once
  -- scanned every successful attempt of the tenant instead.
  SELECT a.ticket_id FROM attempts a
  JOIN LATERAL (
    SELECT 1 FROM payment_attempts o
    WHERE o.tenant_id = $1::uuid AND o.ticket_id = a.ticket_id AND o.id <> a.attempt_id AND o.status = 'successful'
    LIMIT 1
  ) other_success ON true
), ticket_paid AS (
  INSERT INTO outbox (tenant_id, topic, dedupe_key, payload)
  SELECT $1::uuid, 'ticket.paid', 'ticket-paid:' || a.ticket_id, jsonb_build_object('ticketId', a.ticket_id) || i.event || '{"late": false}'
  FROM attempts a JOIN input i ON i.attempt_id = a.attempt_id
  WHERE a.ticket_id NOT IN (SELECT ticket_id FROM paid_before)
  ORDER BY a.ticket_id, a.attempt_id
  ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
  RETURNING (payload->>'attemptId')::uuid AS attempt_id
), payments_paid AS (
  UPDATE payments p
  SET status = 'successful', operator = coalesce(i.operator, p.operator), failure_reason = NULL, completed_at = i.completed_at, updated_at = i.completed_at
  FROM input i
  WHERE p.id = ANY($5::uuid[]) AND p.id = i.payment_id
  RETURNING p.id
), ledger AS (
  INSERT INTO payment_splits (journal_id, payment_id, account, tenant_id, amount_xaf, description)
  SELECT l."journalId", l."paymentId", l.account, l."tenantId", l."amountXaf", l.description
  FROM jsonb_to_recordset($3::jsonb) AS l("journalId" uuid, "paymentId" uuid, account text, "tenantId" uuid, "amountXaf" bigint, description text)
  RETURNING id
), events AS (
  UPDATE payment_webhook_events e
  SET processed_at = i.completed_at,
      outcome = CASE WHEN i.attempt_id IN (SELECT attempt_id FROM ticket_paid) THEN 'fulfilled' ELSE 'duplicate_success_refund_required' END
  FROM input i
  WHERE e.gateway_app_id = i.gateway_app_id AND e.gateway_reference = ANY($6::text[]) AND e.gateway_reference = i.gateway_reference AND e.processed_at IS NULL
  RETURNING e.id
), refunds AS (
  -- The ticket was already paid by another attempt: the money stays on the books and is refunded.
  INSERT INTO outbox (tenant_id, topic, dedupe_key, payload)
  SELECT $1::uuid, 'payment.refund_required', 'payment-refund:' || i.payment_id, jsonb_build_object('ticketId', a.ticket_id, 'phone', i.phone) || i.event
  FROM attempts a JOIN input i ON i.attempt_id = a.attempt_id
  WHERE a.attempt_id NOT IN (SELECT attempt_id FROM ticket_paid)
  ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
  RETURNING id
)
-- Checked here, not by the caller: the COMMIT may already be on its way behind this statement.
SELECT a.attempt_id, a.ticket_id, a.attempt_id IN (SELECT attempt_id FROM ticket_paid) AS ticket_paid
FROM (
  SELECT relais_assert(
    (SELECT count(*) FROM attempts) = $7 AND (SELECT count(*) FROM payments_paid) = $7 AND (SELECT count(*) FROM ledger) = $8,
    'a fulfilment changed other rows than the payments it settles') AS checked
) c
LEFT JOIN attempts a ON true`,
};

/** Marks webhook events with what their confirmation found (already fulfilled, unknown, mismatch...). */
const MARK_EVENTS: RawStatement = {
  name: 'confirm_mark_events',
  text: `UPDATE payment_webhook_events e
SET processed_at = x.processed_at, outcome = x.outcome
FROM jsonb_to_recordset($1::jsonb) AS x(gateway_app_id text, gateway_reference text, outcome text, processed_at timestamptz)
WHERE e.gateway_app_id = x.gateway_app_id AND e.gateway_reference = x.gateway_reference AND e.processed_at IS NULL`,
};

type LockedPayment = PaymentRecord & { billing_mode: 'subscription' | 'commission' | null; commission_rate_bps: number | null };

/** A first success of a pending customer payment: the common case, settled with set-based statements. */
interface Fulfilment {
  index: number;
  settlement: Settlement;
  payment: PaymentRow;
  tenantId: string;
  attemptId: string;
  terms: { billingMode: 'subscription' | 'commission'; commissionRateBps: number };
}

/**
 * Settles a batch in the caller's transaction with the same rules, and the same result per
 * item, as settling each alone in turn. One statement finds and locks all the payments. Unknown
 * references, withdrawals, transactions that do not match their payment and payments already
 * successful are answered at once (their webhook events marked in one statement); first
 * successes of pending customer payments (nearly all confirmations) take two statements per
 * tenant (enter it, fulfil). Everything else — repeats of a payment within the batch, failures,
 * expiries, late successes, subscriptions — is then settled one by one by settleOne, after the
 * fast part has been written, so that it sees it.
 */
async function settleAll(tx: Tx, platform: PlatformContext, settlements: readonly Settlement[]): Promise<ConfirmOutcome[]> {
  const outcomes: ConfirmOutcome[] = new Array<ConfirmOutcome>(settlements.length);
  const keys = settlements.map((settlement, i) => ({ i, ...settlement.key }));
  const locked = new Map((await platform.query<LockedPayment & { i: number }>(LOCK_PAYMENTS, [JSON.stringify(keys)])).map((row) => [row.i, row]));

  const oneByOne: { index: number; paymentId: string }[] = [];
  const fulfilments: Fulfilment[] = [];
  const answered: { index: number; outcome: ConfirmOutcome; eventOutcome: string }[] = [];
  const seen = new Set<string>();
  settlements.forEach((settlement, index) => {
    const row = locked.get(index);
    if (!row) return void answered.push({ index, outcome: 'unknown_reference', eventOutcome: 'unknown_reference' });
    const payment = paymentFromRecord(row);
    // Withdrawals (payouts, refunds) get callbacks too; their own sweep settles them, with the
    // ledger entries that return or release the money (core/src/billing/payouts).
    if (payment.kind === 'payout' || payment.kind === 'refund') return void answered.push({ index, outcome: 'ignored', eventOutcome: 'withdrawal_settled_by_sweep' });
    if (!matches(payment, settlement.transaction)) return void answered.push({ index, outcome: 'mismatch', eventOutcome: 'mismatch' });
    const first = !seen.has(payment.id);
    seen.add(payment.id);
    if (!first || settlement.transaction.status !== 'SUCCESSFUL' || !payment.gatewayReference) return void oneByOne.push({ index, paymentId: payment.id });
    if (payment.status === 'successful') return void answered.push({ index, outcome: 'already_fulfilled', eventOutcome: 'already_fulfilled' });
    if (payment.kind !== 'customer_payment' || payment.status !== 'pending' || !payment.tenantId || !payment.attemptId || !row.billing_mode || row.commission_rate_bps === null) {
      return void oneByOne.push({ index, paymentId: payment.id });
    }
    fulfilments.push({
      index,
      settlement,
      payment,
      tenantId: payment.tenantId,
      attemptId: payment.attemptId,
      terms: { billingMode: row.billing_mode, commissionRateBps: row.commission_rate_bps },
    });
  });

  // Without one-by-one work left, the last statement sent carries the COMMIT: the usual batch is
  // two round trips (lock; fulfil and commit).
  const commitAfterLast = oneByOne.length === 0;
  let marked: Promise<unknown> | undefined;
  if (answered.length > 0) {
    const events = answered.map(({ index, eventOutcome }) => ({
      gateway_app_id: settlements[index]!.gatewayAppId,
      gateway_reference: settlements[index]!.reference,
      outcome: eventOutcome,
      processed_at: settlements[index]!.now,
    }));
    marked = (commitAfterLast && fulfilments.length === 0 ? platform.queryAndCommit : platform.query)(MARK_EVENTS, [JSON.stringify(events)]);
    marked.catch(() => {}); // awaited below, after the fulfilments sent behind it
    for (const { index, outcome } of answered) outcomes[index] = outcome;
  }
  for (const { index, outcome } of await fulfilForTenants(platform, fulfilments, commitAfterLast)) outcomes[index] = outcome;
  await marked;
  for (const { index, paymentId } of oneByOne.sort((a, b) => a.index - b.index)) outcomes[index] = await settleOne(tx, platform, settlements[index]!, paymentId);
  return outcomes;
}

/**
 * The fast fulfilments, tenant by tenant in id order (one global order for the outbox keys they
 * take). Each tenant's statement is sent without waiting for the previous one's answer (the
 * PostgreSQL driver pipelines them, each behind its "enter tenant"): one round trip for all the
 * tenants of a batch; with `commitAfterLast`, the last one carries the transaction's COMMIT. If
 * one fails, the transaction is aborted and so are those behind it (the COMMIT then rolls back).
 */
async function fulfilForTenants(platform: PlatformContext, fulfilments: readonly Fulfilment[], commitAfterLast: boolean) {
  const byTenant = new Map<string, Fulfilment[]>();
  for (const fulfilment of fulfilments) byTenant.set(fulfilment.tenantId, [...(byTenant.get(fulfilment.tenantId) ?? []), fulfilment]);
  const tenantIds = [...byTenant.keys()].sort();
  const sent: { group: Fulfilment[]; answer: Promise<FulfilRow[]> }[] = [];
  for (const [position, tenantId] of tenantIds.entries()) {
    const group = byTenant.get(tenantId)!;
    const splits = group.map(({ payment, terms }) => collectedPaymentEntry({ id: payment.id, tenantId, amountXaf: payment.amountXaf, ...terms }));
    const input: FulfilInput[] = group.map(({ payment, attemptId, settlement }, i) => ({
      payment_id: payment.id,
      attempt_id: attemptId,
      operator: settlement.transaction.operator ?? null,
      completed_at: settlement.now,
      gateway_app_id: payment.gatewayAppId,
      gateway_reference: settlement.reference,
      phone: payment.phone,
      event: { attemptId, paymentId: payment.id, amountXaf: payment.amountXaf, ...splits[i]!.split },
    }));
    const ledgerRows = splits.flatMap(({ entry }) => journalEntryRows(entry).rows);
    await platform.enterTenant(tenantId);
    const last = position === tenantIds.length - 1;
    const answer = (commitAfterLast && last ? platform.queryAndCommit : platform.query)<FulfilRow>(FULFIL_FOR_TENANT, [
      tenantId,
      JSON.stringify(input),
      JSON.stringify(ledgerRows),
      input.map((row) => row.attempt_id),
      input.map((row) => row.payment_id),
      input.map((row) => row.gateway_reference),
      group.length,
      ledgerRows.length,
    ]);
    answer.catch(() => {}); // reported below, in tenant order
    sent.push({ group, answer });
  }

  const settled: { index: number; outcome: ConfirmOutcome }[] = [];
  for (const { group, answer } of sent) {
    const paidAttempts = new Map((await answer).filter((row) => row.attempt_id !== null).map((row) => [row.attempt_id, row.ticket_paid]));
    for (const fulfilment of group) settled.push({ index: fulfilment.index, outcome: paidAttempts.get(fulfilment.attemptId) ? 'fulfilled' : 'duplicate_success_refund_required' });
  }
  return settled;
}

type FulfilInput = {
  payment_id: string;
  attempt_id: string;
  operator: string | null;
  completed_at: Date;
  gateway_app_id: string;
  gateway_reference: string;
  phone: string;
  event: Record<string, unknown>;
};
/** One row per attempt paid (none, with nulls, when the batch had none: the check still ran). */
type FulfilRow = { attempt_id: string | null; ticket_id: string | null; ticket_paid: boolean | null };

/** Settles one payment with every rule, in the caller's transaction (the payment row locked first). */
async function settleOne(tx: Tx, platform: PlatformContext, settlement: Settlement, paymentId: string): Promise<ConfirmOutcome> {
  const { reference, transaction, now } = settlement;
  const [locked] = await tx.select().from(payments).where(eq(payments.id, paymentId)).for('update');
  const current = locked!;
  if (!current.gatewayReference) {
    await tx.update(payments).set({ gatewayReference: reference }).where(eq(payments.id, current.id));
  }
  let outcome: ConfirmOutcome;
  switch (transaction.status) {
    case 'SUCCESSFUL':
      outcome = current.status === 'successful' ? 'already_fulfilled' : await fulfil(tx, platform, current, transaction, now);
      break;
    case 'FAILED':
      outcome = current.status === 'pending' || current.status === 'expired' ? await settleUnpaid(tx, platform, current, 'failed', now) : 'ignored';
      break;
    default:
      outcome =
        current.status !== 'pending'
          ? 'ignored'
          : now >= current.expiresAt
            ? await settleUnpaid(tx, platform, current, 'expired', now)
            : await postponeCheck(tx, current, now);
  }
  await markEvents(tx, current.gatewayAppId, reference, outcome, now);
  return outcome;
}

/** Expires a pending payment the gateway never acknowledged (no reference to poll). */
export async function expireUnansweredPayment(deps: { db: Database; clock: Clock }, paymentId: string): Promise<ConfirmOutcome> {
  const now = deps.clock.now();
  return deps.db.withPlatform(async (tx, platform) => {
    const [payment] = await tx.select().from(payments).where(eq(payments.id, paymentId)).for('update');
    if (!payment || payment.status !== 'pending' || payment.gatewayReference) return 'ignored';
    return settleUnpaid(tx, platform, payment, 'expired', now);
  });
}

/** A payments row as a raw statement returns it (snake_case; bigint as text on node-postgres). */
interface PaymentRecord {
  id: string;
  tenant_id: string | null;
  kind: PaymentRow['kind'];
  gateway: string;
  gateway_app_id: string;
  external_reference: string;
  gateway_reference: string | null;
  attempt_id: string | null;
  invoice_id: string | null;
  phone: string;
  amount_xaf: string | number | bigint;
  currency: string;
  operator: string | null;
  ussd_code: string | null;
  status: PaymentRow['status'];
  failure_reason: string | null;
  expires_at: Date;
  next_check_at: Date;
  check_count: number;
  completed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

function paymentFromRecord(record: PaymentRecord): PaymentRow {
  return {
    id: record.id,
    tenantId: record.tenant_id,
    kind: record.kind,
    gateway: record.gateway,
    gatewayAppId: record.gateway_app_id,
    externalReference: record.external_reference,
    gatewayReference: record.gateway_reference,
    attemptId: record.attempt_id,
    invoiceId: record.invoice_id,
    phone: record.phone,
    amountXaf: Number(record.amount_xaf),
    currency: record.currency,
    operator: record.operator,
    ussdCode: record.ussd_code,
    status: record.status,
    failureReason: record.failure_reason,
    expiresAt: record.expires_at,
    nextCheckAt: record.next_check_at,
    checkCount: record.check_count,
    completedAt: record.completed_at,
    createdAt: record.created_at,
    updatedAt: record.updated_at,
  };
}

function matches(payment: PaymentRow, transaction: GatewayTransaction): boolean {
  return (
    transaction.amountXaf === payment.amountXaf &&
    transaction.currency === payment.currency &&
    // Required, not optional: without it a transaction of the same amount could settle another payment.
    transaction.externalReference === payment.externalReference
  );
}

async function fulfil(tx: Tx, platform: PlatformContext, payment: PaymentRow, transaction: GatewayTransaction, now: Date): Promise<ConfirmOutcome> {
  if (payment.kind === 'subscription') return fulfilSubscription(tx, platform, payment, transaction, now);
  if (payment.kind !== 'customer_payment' || !payment.tenantId || !payment.attemptId) {
    throw new AppError('INTERNAL', `fulfilment of ${payment.kind} payments is not handled by confirmPayment`);
  }
  const wasSettled = payment.status !== 'pending';
  await tx
    .update(payments)
    .set({ status: 'successful', operator: transaction.operator ?? payment.operator, failureReason: null, completedAt: now, updatedAt: now })
    .where(eq(payments.id, payment.id));
  const [tenant] = await tx
    .select({ billingMode: tenants.billingMode, commissionRateBps: tenants.commissionRateBps })
    .from(tenants)
    .where(eq(tenants.id, payment.tenantId));
  const split = await recordCollectedPayment(tx, { id: payment.id, tenantId: payment.tenantId, amountXaf: payment.amountXaf, ...tenant! });

  await platform.enterTenant(payment.tenantId);
  // Lock the ticket before asking whether another attempt paid it: two attempts of one ticket
  // confirmed at the same time would otherwise each miss the other's uncommitted success.
  await tx
    .select({ id: tickets.id })
    .from(tickets)
    .innerJoin(paymentAttempts, and(eq(paymentAttempts.tenantId, tickets.tenantId), eq(paymentAttempts.ticketId, tickets.id)))
    .where(and(eq(tickets.tenantId, payment.tenantId), eq(paymentAttempts.id, payment.attemptId)))
    .for('update', { of: tickets });
  const [attempt] = await tx
    .update(paymentAttempts)
    .set({ status: 'successful', failureReason: null, completedAt: now, updatedAt: now })
    .where(and(eq(paymentAttempts.tenantId, payment.tenantId), eq(paymentAttempts.id, payment.attemptId)))
    .returning();
  const otherPaid = await tx
    .select({ id: paymentAttempts.id })
    .from(paymentAttempts)
    .where(
      and(
        eq(paymentAttempts.tenantId, payment.tenantId),
        eq(paymentAttempts.ticketId, attempt!.ticketId),
        eq(paymentAttempts.status, 'successful'),
        ne(paymentAttempts.id, attempt!.id),
      ),
    );
  const event = { ticketId: attempt!.ticketId, attemptId: attempt!.id, paymentId: payment.id, amountXaf: payment.amountXaf, ...split };
  const ticketPaidNow =
    otherPaid.length === 0 &&
    (await writeToOutbox(tx, payment.tenantId, { topic: 'ticket.paid', dedupeKey: `ticket-paid:${attempt!.ticketId}`, payload: { ...event, late: wasSettled } }));
  if (!ticketPaidNow) {
    // The ticket was already paid by another attempt: keep the money on the books and refund it.
    await writeToOutbox(tx, payment.tenantId, { topic: 'payment.refund_required', dedupeKey: `payment-refund:${payment.id}`, payload: { ...event, phone: payment.phone } });
    return 'duplicate_success_refund_required';
  }
  return wasSettled ? 'late_success_fulfilled' : 'fulfilled';
}

/** A reseller paid its subscription invoice by Mobile Money: the invoice is paid and the tenant reactivated. */
async function fulfilSubscription(tx: Tx, platform: PlatformContext, payment: PaymentRow, transaction: GatewayTransaction, now: Date): Promise<ConfirmOutcome> {
  if (!payment.invoiceId) throw new AppError('INTERNAL', `subscription payment ${payment.id} names no invoice`);
  const wasSettled = payment.status !== 'pending';
  await tx
    .update(payments)
    .set({ status: 'successful', operator: transaction.operator ?? payment.operator, failureReason: null, completedAt: now, updatedAt: now })
    .where(eq(payments.id, payment.id));
  await settleSubscriptionInvoice(tx, platform, { invoiceId: payment.invoiceId, now, source: { kind: 'gateway', paymentId: payment.id, amountXaf: payment.amountXaf } });
  return wasSettled ? 'late_success_fulfilled' : 'fulfilled';
}

async function settleUnpaid(tx: Tx, platform: PlatformContext, payment: PaymentRow, status: 'failed' | 'expired', now: Date): Promise<ConfirmOutcome> {
  await tx.update(payments).set({ status, completedAt: now, updatedAt: now, failureReason: status }).where(eq(payments.id, payment.id));
  if (payment.kind === 'customer_payment' && payment.tenantId && payment.attemptId) {
    await platform.enterTenant(payment.tenantId);
    const [attempt] = await tx
      .update(paymentAttempts)
      .set({ status, failureReason: status, completedAt: now, updatedAt: now })
      .where(and(eq(paymentAttempts.tenantId, payment.tenantId), eq(paymentAttempts.id, payment.attemptId)))
      .returning();
    await writeToOutbox(tx, payment.tenantId, {
      topic: `payment.${status}`,
      dedupeKey: `payment-unpaid:${payment.id}`,
      payload: { ticketId: attempt!.ticketId, attemptId: attempt!.id, attemptsLeft: MAX_PAYMENT_ATTEMPTS_PER_TICKET - attempt!.attemptNumber },
    });
  }
  return status;
}

async function postponeCheck(tx: Tx, payment: PaymentRow, now: Date): Promise<ConfirmOutcome> {
  await tx
    .update(payments)
    .set({ nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(payment.checkCount)), checkCount: sql`${payments.checkCount} + 1`, updatedAt: now })
    .where(eq(payments.id, payment.id));
  return 'still_pending';
}

async function markEvents(tx: Tx, gatewayAppId: string, reference: string, outcome: string, now: Date): Promise<void> {
  await tx
    .update(paymentWebhookEvents)
    .set({ processedAt: now, outcome })
    .where(and(eq(paymentWebhookEvents.gatewayAppId, gatewayAppId), eq(paymentWebhookEvents.gatewayReference, reference), isNull(paymentWebhookEvents.processedAt)));
}
