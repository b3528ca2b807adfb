import { sql } from 'drizzle-orm';
import { executeRows, violatedUniqueConstraint, type Database, type RawStatement, type TenantContext, type Tx } from '@relais/db';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.js';
import type { BilingualText } from '../../shared/bilingual-text.js';
import { writeToOutbox } from '../../shared/outbox.js';
import { parseInput } from '../../shared/parse-input.js';
import { lockKey } from '../../shared/transaction-lock.js';
import type { Clock } from '../../shared/ports/clock.js';
import { insertVouchersWithFreshCodes, packageRouters, type CodeShape } from './voucher-insert.js';
import { lowStockText, outOfStockCustomerText, outOfStockResellerText } from './voucher-texts.js';

/** Codes made on demand: lower case letters type easily on a phone keyboard. */
const ON_DEMAND_CODE: CodeShape = { alphabet: 'lower', length: 8, prefix: '', separatePassword: false };

export interface ClaimedVoucher {
  voucherId: string;
  packageId: string;
  username: string;
  password: string;
  routerId: string | null;
  soldAt: Date;
  /** 'stock': taken from the available vouchers; 'on_demand': made for this ticket. */
  source: 'stock' | 'on_demand';
  /** true when the ticket already had this voucher (a repeated claim). */
  alreadyClaimed: boolean;
  /** false while the hotspot user still has to be created on the router. */
  onRouter: boolean;
}

const claimInput = z.object({ tenantId: z.uuid(), ticketId: z.uuid() });

interface TicketContext {
  ticketNumber: number;
  packageId: string | null;
  packageNameFr: string;
  packageNameEn: string;
  generateOnDemand: boolean;
  lowStockThreshold: number;
  attemptId: string | null;
  attemptAmountXaf: number | null;
  externalReference: string | null;
}

interface VoucherRow {
  id: string;
  package_id: string;
  username: string;
  password: string;
  router_id: string | null;
  sold_at: Date | string;
  source: string;
  pushed_to_router_at: Date | string | null;
}

interface PaymentReference {
  paymentId: string;
  phone: string;
  amountXaf: number;
}

type Attempt =
  | { kind: 'claimed'; voucher: ClaimedVoucher }
  | { kind: 'out_of_stock'; packageId: string; ticketNumber: number }
  /** Out of stock is about to be recorded: the refund needs the payment, a central row. */
  | { kind: 'payment_needed'; externalReference: string }
  /** Every remaining voucher is being claimed: wait for those claims, in a transaction of its own. */
  | { kind: 'wait_for_claims' };

/**
 * Hands one voucher to a paid ticket whose category sells a WiFi package, exactly once under any
 * concurrency:
 * - the ticket row is locked first, so claims of one ticket queue and a repeated claim returns
 *   the voucher the ticket already has (unique (tenant, ticket_id) is the backstop);
 * - the oldest available voucher is taken with FOR UPDATE SKIP LOCKED, so concurrent claims of
 *   different tickets never wait on each other's voucher; when every remaining one is locked, a
 *   waiting pass decides (a claim that rolls back gives its voucher back, and we must not call
 *   that out of stock), one claim of the package at a time (see waitForTurnToWait).
 * Out of stock: a package that generates on demand makes a voucher for the ticket (the router
 * push follows, through the outbox); otherwise the ticket is recorded out of stock once
 * (`wifi.out_of_stock`, `payment.refund_required` for the payment, admins notified), and this and
 * every later claim of the ticket throw VOUCHER_OUT_OF_STOCK: a refund is on its way, so a voucher
 * arriving later must not be handed out too.
 * Low stock: when a claim leaves the package at or below its threshold, `wifi.low_stock` is
 * written and admins are notified, once per restock (see lowStockKey).
 */
export async function claimVoucherForTicket(deps: { db: Database; clock: Clock }, options: z.input<typeof claimInput>): Promise<ClaimedVoucher> {
  const { tenantId, ticketId } = parseInput(claimInput, options);
  let payment: PaymentReference | null | undefined;
  let waiting = false;
  for (let collisions = 0; ; ) {
    let attempt: Attempt;
    try {
      attempt = await deps.db.withTenant(tenantId, (tx, tenant) => claimInTransaction(tx, tenant, { tenantId, ticketId, now: deps.clock.now(), payment, waiting }));
    } catch (error) {
      // A claim of the same ticket committed between this statement's snapshot and its ticket
      // lock (READ COMMITTED): it did not see that voucher and took another one, which the
      // unique ticket key refused. Again: the next transaction sees the voucher and returns it.
      if (violatedUniqueConstraint(error) === 'wifi_vouchers_ticket_key' && ++collisions <= 3) continue;
      throw error;
    }
    if (attempt.kind === 'claimed') return attempt.voucher;
    if (attempt.kind === 'wait_for_claims') {
      if (waiting) throw new AppError('INTERNAL', 'claimVoucherForTicket: asked to wait twice');
      waiting = true;
      continue;
    }
    if (attempt.kind === 'out_of_stock') {
      throw new AppError('VOUCHER_OUT_OF_STOCK', `no voucher left for package ${attempt.packageId} (ticket #${attempt.ticketNumber})`, {
        details: { ticketId, packageId: attempt.packageId },
      });
    }
    if (payment !== undefined) throw new AppError('INTERNAL', 'claimVoucherForTicket: payment asked for twice');
    payment = await findCustomerPayment(deps.db, attempt.externalReference);
  }
}

async function claimInTransaction(
  tx: Tx,
  tenant: TenantContext,
  options: { tenantId: string; ticketId: string; now: Date; payment: PaymentReference | null | undefined; waiting: boolean },
): Promise<Attempt> {
  const { tenantId, ticketId, now } = options;
  // The common case in one statement; when another claim of this ticket holds its lock, the
  // two-statement path waits for it and then reads what it left.
  const fast = options.waiting ? undefined : await lockTicketAndTakeVoucher(tenant, tenantId, ticketId, now);
  const context = fast?.context ?? (await lockTicket(tx, tenantId, ticketId));
  if (!context.packageId) throw new AppError('VALIDATION_FAILED', `ticket #${context.ticketNumber}: its category sells no WiFi package`);
  if (!context.attemptId) throw new AppError('CONFLICT', `ticket #${context.ticketNumber} is not paid`);

  let taking: VoucherTaking;
  if (options.waiting) {
    await waitForTurnToWait(tx, tenantId, context.packageId);
    taking = await takeAvailableVoucher(tx, tenantId, context, ticketId, now, false);
  } else {
    taking = fast?.taking ?? (await takeAvailableVoucher(tx, tenantId, context, ticketId, now, true));
    // None free, some being claimed: wait for those claims, but not in this transaction (see waitForTurnToWait).
    if (!taking.taken && !taking.existing && !taking.outOfStockRecorded && taking.availableBefore > 0) return { kind: 'wait_for_claims' };
  }
  if (taking.existing) return { kind: 'claimed', voucher: toClaimed(taking.existing, true) };
  if (taking.outOfStockRecorded) return { kind: 'out_of_stock', packageId: context.packageId, ticketNumber: context.ticketNumber };
  if (taking.taken) {
    await signalLowStock(tx, tenantId, context, taking.availableBefore - 1);
    return { kind: 'claimed', voucher: toClaimed(taking.taken, false) };
  }
  if (context.generateOnDemand) return { kind: 'claimed', voucher: await generateOnDemand(tx, tenantId, context.packageId, ticketId, now) };

  if (options.payment === undefined) return { kind: 'payment_needed', externalReference: context.externalReference! };
  await recordOutOfStock(tx, tenantId, ticketId, context, options.payment);
  return { kind: 'out_of_stock', packageId: context.packageId, ticketNumber: context.ticketNumber };
}

const TICKET_CONTEXT_COLUMNS = sql`t.number, c.wifi_package_id, p.name_fr, p.name_en, p.generate_on_demand, p.low_stock_threshold,
  a.id as attempt_id, a.amount_xaf, a.external_reference`;

/** The ticket with its category's package and its successful payment attempt (for `where`). */
function ticketContextFrom(tenantId: string, ticketId: string) {
  return sql`from tickets t
    left join categories c on c.tenant_id = t.tenant_id and c.id = t.category_id
    left join wifi_packages p on p.tenant_id = t.tenant_id and p.id = c.wifi_package_id
    left join lateral (
      select a.id, a.amount_xaf, a.external_reference from payment_attempts a
      where a.tenant_id = t.tenant_id and a.ticket_id = t.id and a.status = 'successful'
      order by a.attempt_number limit 1) a on true
    where t.tenant_id = ${tenantId} and t.id = ${ticketId}`;
}

function toTicketContext(row: Record<string, unknown>): TicketContext {
  return {
    ticketNumber: Number(row.number),
    packageId: (row.wifi_package_id as string | null) ?? null,
    packageNameFr: (row.name_fr as string | null) ?? '',
    packageNameEn: (row.name_en as string | null) ?? '',
    generateOnDemand: row.generate_on_demand === true,
    lowStockThreshold: Number(row.low_stock_threshold ?? 0),
    attemptId: (row.attempt_id as string | null) ?? null,
    attemptAmountXaf: row.amount_xaf === null || row.amount_xaf === undefined ? null : Number(row.amount_xaf),
    externalReference: (row.external_reference as string | null) ?? null,
  };
}

/** The claim's hot path, prepared once per connection ($1 tenant, $2 ticket, $3 out-of-stock key, $4 now). */
const LOCK_TICKET_AND_TAKE_VOUCHER: RawStatement = {
  name: 'wifi_claim_lock_ticket_and_take_voucher',
  text: `with t as (
      select t.number, c.wifi_package_id, p.name_fr, p.name_en, p.generate_on_demand, p.low_stock_threshold,
        a.id as attempt_id, a.amount_xaf, a.external_reference
      from tickets t
      left join categories c on c.tenant_id = t.tenant_id and c.id = t.category_id
      left join wifi_packages p on p.tenant_id = t.tenant_id and p.id = c.wifi_package_id
      left join lateral (
        select a.id, a.amount_xaf, a.external_reference from payment_attempts a
        where a.tenant_id = t.tenant_id and a.ticket_id = t.id and a.status = 'successful'
        order by a.attempt_number limit 1) a on true
      where t.tenant_id = $1 and t.id = $2
      for update of t skip locked
    ), existing as (
      select id, package_id, username, password, router_id, sold_at, source, pushed_to_router_at
      from wifi_vouchers where tenant_id = $1 and ticket_id = $2 and exists (select 1 from t)
    ), recorded as (
      select 1 from outbox where tenant_id = $1 and dedupe_key = $3
    ), picked as (
      -- Scalar subqueries, not a join with t: the planner then walks the claim-order index.
      select v.id from wifi_vouchers v
      where v.tenant_id = $1 and v.package_id = (select wifi_package_id from t) and v.status = 'available'
        and exists (select 1 from t where attempt_id is not null)
        and not exists (select 1 from existing) and not exists (select 1 from recorded)
      order by v.created_at, v.id
      limit 1 for update of v skip locked
    ), taken as (
      update wifi_vouchers v set status = 'sold', ticket_id = $2, sold_at = $4::timestamptz
      from picked where v.tenant_id = $1 and v.id = picked.id
      returning v.id, v.package_id, v.username, v.password, v.router_id, v.sold_at, v.source, v.pushed_to_router_at
    )
    select (select row_to_json(x) from t x) as ticket,
      (select row_to_json(x) from taken x) as taken,
      (select row_to_json(x) from existing x) as existing,
      exists (select 1 from recorded) as out_of_stock_recorded,
      (select count(*) from (
        select 1 from wifi_vouchers v where v.tenant_id = $1 and v.package_id = (select wifi_package_id from t) and v.status = 'available'
        limit coalesce((select low_stock_threshold from t), 0) + 2) available) as available_before`,
};

/**
 * lockTicket and takeAvailableVoucher(skipLocked) in one statement, for a ticket nobody else is
 * claiming: the ticket is locked with SKIP LOCKED, so this statement never waits on it. Undefined
 * when the ticket is locked by another claim (or does not exist): the caller takes the waiting
 * path. A claim that commits between this statement's snapshot and its lock is not seen: the
 * unique ticket key then refuses a second voucher and claimVoucherForTicket runs again.
 */
async function lockTicketAndTakeVoucher(tenant: TenantContext, tenantId: string, ticketId: string, now: Date) {
  const [row] = await tenant.query(LOCK_TICKET_AND_TAKE_VOUCHER, [tenantId, ticketId, outOfStockKey(ticketId), now.toISOString()]);
  const ticket = parseJson<Record<string, unknown>>(row!.ticket);
  if (!ticket) return undefined;
  return {
    context: toTicketContext(ticket),
    taking: {
      taken: parseJson<VoucherRow>(row!.taken),
      existing: parseJson<VoucherRow>(row!.existing),
      outOfStockRecorded: row!.out_of_stock_recorded === true,
      availableBefore: Number(row!.available_before),
    },
  };
}

/**
 * Locks the ticket and reads its package and successful payment attempt. What the ticket already
 * got is read by the next statement: a claim that waited here for the lock needs a snapshot taken
 * after the claim it waited for committed (READ COMMITTED takes one per statement).
 */
async function lockTicket(tx: Tx, tenantId: string, ticketId: string): Promise<TicketContext> {
  const [row] = await executeRows(tx, sql`select ${TICKET_CONTEXT_COLUMNS} ${ticketContextFrom(tenantId, ticketId)} for update of t`);
  if (!row) throw new AppError('NOT_FOUND', `no ticket ${ticketId}`);
  return toTicketContext(row);
}

/**
 * In one statement: the voucher the ticket already has, whether it was recorded out of stock, and
 * otherwise the package's oldest available voucher marked sold to it. `skipLocked`: take the
 * oldest one nobody is claiming right now; otherwise wait for claims in flight and take what they
 * leave. Also counts what is available (up to threshold + 2: only "at or below the threshold
 * after this claim?" matters), on the statement's snapshot: before the UPDATE, so with the voucher taken.
 */
async function takeAvailableVoucher(tx: Tx, tenantId: string, context: TicketContext, ticketId: string, now: Date, skipLocked: boolean) {
  const lock = skipLocked ? sql`for update skip locked` : sql`for update`;
  const [row] = await executeRows(
    tx,
    sql`with existing as (
          select id, package_id, username, password, router_id, sold_at, source, pushed_to_router_at
          from wifi_vouchers where tenant_id = ${tenantId} and ticket_id = ${ticketId}
        ), recorded as (
          select 1 from outbox where tenant_id = ${tenantId} and dedupe_key = ${outOfStockKey(ticketId)}
        ), picked as (
          select id from wifi_vouchers
          where tenant_id = ${tenantId} and package_id = ${context.packageId} and status = 'available'
            and not exists (select 1 from existing) and not exists (select 1 from recorded)
          order by created_at, id
          limit 1 ${lock}
        ), taken as (
          update wifi_vouchers v set status = 'sold', ticket_id = ${ticketId}, sold_at = ${now.toISOString()}
          from picked where v.tenant_id = ${tenantId} and v.id = picked.id
          returning v.id, v.package_id, v.username, v.password, v.router_id, v.sold_at, v.source, v.pushed_to_router_at
        )
        select (select row_to_json(x) from taken x) as taken,
          (select row_to_json(x) from existing x) as existing,
          exists (select 1 from recorded) as out_of_stock_recorded,
          (select count(*) from (
            select 1 from wifi_vouchers where tenant_id = ${tenantId} and package_id = ${context.packageId} and status = 'available'
            limit ${context.lowStockThreshold + 2}) available) as available_before`,
  );
  return {
    taken: parseJson<VoucherRow>(row!.taken),
    existing: parseJson<VoucherRow>(row!.existing),
    outOfStockRecorded: row!.out_of_stock_recorded === true,
    availableBefore: Number(row!.available_before),
  };
}

/**
 * One waiting pass per package at a time (until its transaction ends). A locking read keeps the
 * lock of a row it locked and then did not return (a voucher sold meanwhile), so a claim that
 * waited while holding such locks, from its skip-locked pass or an earlier waiting pass, could hold
 * a voucher another waiting claim needs while needing one of its: deadlocks, seen with 200 claims
 * over 100 vouchers. So a waiting pass runs in a transaction of its own (holding only its ticket
 * when it queues here) and one at a time: it then waits only for claims that took a voucher
 * without waiting, which wait for nothing it holds.
 */
async function waitForTurnToWait(tx: Tx, tenantId: string, packageId: string): Promise<void> {
  await lockKey(tx, `wifi-claim-wait:${tenantId}:${packageId}`);
}

type VoucherTaking = Awaited<ReturnType<typeof takeAvailableVoucher>>;

const outOfStockKey = (ticketId: string) => `wifi-out-of-stock:${ticketId}`;

async function generateOnDemand(tx: Tx, tenantId: string, packageId: string, ticketId: string, now: Date): Promise<ClaimedVoucher> {
  // A hotspot user lives on one router: an on-demand voucher goes to the package's first router.
  const [router] = await packageRouters(tx, tenantId, packageId);
  const [created] = await insertVouchersWithFreshCodes(tx, ON_DEMAND_CODE, 1, {
    tenantId,
    packageId,
    routerId: router?.id ?? null,
    status: 'sold',
    source: 'on_demand',
    ticketId,
    soldAt: now,
  });
  if (router) {
    await writeToOutbox(tx, tenantId, {
      topic: 'wifi.router_push_required',
      dedupeKey: `wifi-router-push:${router.id}:${created!.id}`,
      payload: { routerId: router.id, packageId, reason: 'on_demand', voucherId: created!.id, ticketId },
    });
  }
  return {
    voucherId: created!.id,
    packageId,
    username: created!.username,
    password: created!.password,
    routerId: router?.id ?? null,
    soldAt: now,
    source: 'on_demand',
    alreadyClaimed: false,
    onRouter: !router,
  };
}

/**
 * Once per ticket (the outbox dedupe key): the alert and the customer's message, the refund of the
 * payment through the same path as a duplicate payment (`payment.refund_required`, keyed by payment
 * so the two causes can never refund one payment twice), and a notification to each admin.
 */
async function recordOutOfStock(tx: Tx, tenantId: string, ticketId: string, context: TicketContext, payment: PaymentReference | null): Promise<void> {
  const packageName: BilingualText = { fr: context.packageNameFr, en: context.packageNameEn };
  const resellerText = outOfStockResellerText(packageName, context.ticketNumber, payment !== null);
  const recorded = await writeToOutbox(tx, tenantId, {
    topic: 'wifi.out_of_stock',
    dedupeKey: outOfStockKey(ticketId),
    payload: {
      ticketId,
      ticketNumber: context.ticketNumber,
      packageId: context.packageId,
      attemptId: context.attemptId,
      paymentId: payment?.paymentId ?? null,
      amountXaf: payment?.amountXaf ?? context.attemptAmountXaf,
      refundRequested: payment !== null,
      customerText: outOfStockCustomerText(packageName, payment?.amountXaf ?? null),
      resellerText,
    },
  });
  if (!recorded) return;
  if (payment) {
    await writeToOutbox(tx, tenantId, {
      topic: 'payment.refund_required',
      dedupeKey: `payment-refund:${payment.paymentId}`,
      payload: { ticketId, attemptId: context.attemptId, paymentId: payment.paymentId, amountXaf: payment.amountXaf, phone: payment.phone, reason: 'voucher_out_of_stock' },
    });
  }
  await notifyTenantAdmins(tx, tenantId, 'wifi.out_of_stock', { ticketId, packageId: context.packageId, text: resellerText });
}

/**
 * One alert per crossing of the threshold: the dedupe key carries how many vouchers were ever
 * supplied to the package (generated or imported, not made on demand). Claims below the threshold
 * find the key taken; a restock changes the count, so the next fall below alerts again.
 * Concurrent claims each count before the others commit, so near the threshold a claim may see one
 * voucher more than remains; a later claim then sees it.
 */
async function signalLowStock(tx: Tx, tenantId: string, context: TicketContext, availableAfter: number): Promise<void> {
  if (availableAfter > context.lowStockThreshold) return;
  const [supplied] = await executeRows(
    tx,
    sql`select count(*) as n from wifi_vouchers where tenant_id = ${tenantId} and package_id = ${context.packageId} and source <> 'on_demand'`,
  );
  const packageName: BilingualText = { fr: context.packageNameFr, en: context.packageNameEn };
  const text = lowStockText(packageName, availableAfter, context.lowStockThreshold);
  const payload = { packageId: context.packageId, packageName, available: availableAfter, threshold: context.lowStockThreshold, text };
  const first = await writeToOutbox(tx, tenantId, { topic: 'wifi.low_stock', dedupeKey: `wifi-low-stock:${context.packageId}:${Number(supplied!.n)}`, payload });
  if (first) await notifyTenantAdmins(tx, tenantId, 'wifi.low_stock', payload);
}

/** An in-app notification for each active admin of the tenant. */
async function notifyTenantAdmins(tx: Tx, tenantId: string, kind: string, payload: Record<string, unknown>): Promise<void> {
  await tx.execute(
    sql`insert into notifications (tenant_id, user_id, kind, payload)
        select tenant_id, id, ${kind}, ${JSON.stringify(payload)}::jsonb from users
        where tenant_id = ${tenantId} and role = 'admin' and disabled_at is null`,
  );
}

/** The platform's record of the ticket's payment (same external reference as its attempt). */
async function findCustomerPayment(db: Database, externalReference: string): Promise<PaymentReference | null> {
  const [row] = await db.withPlatform((tx) =>
    executeRows(
      tx,
      sql`select id, phone, amount_xaf from payments where external_reference = ${externalReference} and kind = 'customer_payment' and status = 'successful'`,
    ),
  );
  return row ? { paymentId: row.id as string, phone: row.phone as string, amountXaf: Number(row.amount_xaf) } : null;
}

function toClaimed(row: VoucherRow, alreadyClaimed: boolean): ClaimedVoucher {
  return {
    voucherId: row.id,
    packageId: row.package_id,
    username: row.username,
    password: row.password,
    routerId: row.router_id,
    soldAt: new Date(row.sold_at),
    source: row.source === 'on_demand' ? 'on_demand' : 'stock',
    alreadyClaimed,
    onRouter: row.router_id === null || row.pushed_to_router_at !== null,
  };
}

function parseJson<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
