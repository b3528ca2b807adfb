import { and, asc, desc, eq, gte, inArray, lte, ne } from 'drizzle-orm';
import { z } from 'zod';
import {
  invoices,
  payments,
  plans,
  subscriptions,
  tenants,
  tenantStatusHistory,
  type Database,
  type PlatformContext,
  type Tx,
} from '@relais/db';
import { parseCameroonMobile } from '../../payments/cameroon-msisdn.js';
import { COLLECT_LEASE_MS, endCollectLease, recordCollectRequest } from '../../payments/collect-request.js';
import { PAYMENT_PENDING_TIMEOUT_MS, PLATFORM_GATEWAY_APP_ID, type GatewayApp, type GatewayDirectory } from '../../payments/gateway-directory.js';
import { AppError, isAppError } from '../../shared/app-error.js';
import { writeToOutbox } from '../../shared/outbox.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { FileStore } from '../../shared/ports/file-store.js';
import type { PlatformSeller } from '../invoices/invoice-document.js';
import { issueInvoice } from '../invoices/issue-invoice.js';
import { walletBalance } from '../ledger/ledger-balances.js';
import { localDate, monthLabel, periodOfDates, renewalPeriod, shortDate, type BillingPeriod } from './billing-calendar.js';
import { lockRenewalRows } from './lock-renewal-rows.js';
import { settleSubscriptionInvoice, SUBSCRIPTION_SUSPENSION_REASON } from './settle-subscription-invoice.js';

/**
 * Days an unpaid reseller keeps full service after its period ended. Seven: it is the invoice's
 * payment term (DEFAULT_PAYMENT_TERM_DAYS), so the grace ends when the invoice falls due; a week
 * spans a weekend and the usual wait for customer payments to refill the wallet, while capping
 * unpaid service at about a quarter of a month.
 */
export const GRACE_PERIOD_DAYS = 7;
const ONE_DAY_MS = 24 * 60 * 60 * 1000;
const GRACE_PERIOD_MS = GRACE_PERIOD_DAYS * ONE_DAY_MS;

/** Subscription statuses the renewal check looks at ('canceled' never renews). */
const RENEWABLE_STATUSES = ['active', 'past_due', 'grace', 'suspended'] as const;

/**
 * Our external reference of the one Mobile Money push for a tenant's period: deterministic, so a
 * second run (or a concurrent one) finds the push instead of sending another.
 */
export function subscriptionPaymentReference(tenantId: string, periodStartDate: string): string {
  return `sub:${tenantId}:${periodStartDate}`;
}

export type RenewalOutcome =
  /** The wallet covered the fee: invoice paid, new period, tenant active. */
  | 'renewed_from_wallet'
  /** Not enough in the wallet: tenant and subscription moved to grace (push sent when possible). */
  | 'grace_started'
  /** In grace, not over yet, still unpaid: nothing changed. */
  | 'awaiting_payment'
  /** Grace over, unpaid: suspended now. */
  | 'suspended'
  /** Suspended before this run, still unpaid: nothing changed. */
  | 'still_suspended'
  /** The period's invoice was paid meanwhile (another run, a payment): nothing to do. */
  | 'already_paid'
  /** This tenant could not be processed; the others were. */
  | 'failed';

/** What happened to the Mobile Money push for the period, when there was one to make. */
export type RenewalPush =
  | 'requested'
  /** The gateway did not answer: the payment stays pending and the reconciler asks again. */
  | 'delayed'
  /** The gateway refused the request (see the payment's failure reason). */
  | 'rejected'
  | 'already_requested'
  | 'no_billing_phone'
  | 'invalid_billing_phone'
  | 'gateway_not_configured';

export interface TenantRenewal {
  tenantId: string;
  slug: string;
  outcome: RenewalOutcome;
  periodStart?: string;
  periodEnd?: string;
  amountXaf?: number;
  invoiceId?: string;
  invoiceNumber?: string;
  graceUntil?: string;
  push?: RenewalPush;
  paymentId?: string;
  ussdCode?: string;
  /** For 'failed': the error code, and its message when safe to show. */
  error?: { code: string; message: string };
}

export interface RenewalReport {
  checkedAt: string;
  /** Subscriptions whose period had ended (each listed in `tenants`). */
  due: number;
  outcomes: Partial<Record<RenewalOutcome, number>>;
  tenants: TenantRenewal[];
}

export interface CheckSubscriptionRenewalsDeps {
  db: Database;
  gateways: GatewayDirectory;
  fileStore: FileStore;
  clock: Clock;
  seller?: PlatformSeller;
  /** Called with the full error of a tenant that failed (the report keeps only a safe summary). */
  onError?: (error: unknown, tenantId: string) => void;
}

const checkSubscriptionRenewalsInput = z.object({ now: z.date().optional() });

interface DueSubscription {
  tenantId: string;
  slug: string;
  locale: 'fr' | 'en';
  planId: string | null;
  currentPeriodEnd: Date;
}

/**
 * The monthly renewal of subscription-mode resellers, for every subscription whose period has
 * ended by `now`:
 *
 * 1. issue the invoice of the next period (open; idempotent per tenant and period);
 * 2. if the reseller's wallet covers it, pay it from the wallet in one platform transaction
 *    (tenant_wallet +fee, platform_revenue -fee; invoice paid; new period; status active);
 * 3. otherwise move tenant and subscription to grace until the period's end + GRACE_PERIOD_DAYS
 *    (tenant_status_history row) and push a USSD payment request to the reseller's billing phone
 *    (payments row kind 'subscription', reference `sub:<tenantId>:<periodStart>`, then
 *    gateway.collect; confirmPayment settles it whenever CamPay confirms);
 * 4. when the grace is over and the invoice still unpaid, suspend (history row).
 *
 * A later run retries the wallet for tenants in grace or suspended for non-payment. A run only
 * moves a tenant one step (active -> grace -> suspended), so a reseller is always asked before
 * being suspended. Running it again changes nothing more; one tenant's failure never stops the
 * others: it is reported and the run goes on.
 */
export async function checkSubscriptionRenewals(
  deps: CheckSubscriptionRenewalsDeps,
  options: z.input<typeof checkSubscriptionRenewalsInput> = {},
): Promise<RenewalReport> {
  const input = checkSubscriptionRenewalsInput.parse(options);
  const now = input.now ?? deps.clock.now();
  const due = await findDueSubscriptions(deps.db, now);
  const report: RenewalReport = { checkedAt: now.toISOString(), due: due.length, outcomes: {}, tenants: [] };
  let gateway: GatewayApp | undefined;
  let gatewayLoaded = false;
  const platformGateway = async () => {
    if (!gatewayLoaded) {
      gateway = await deps.gateways.get(PLATFORM_GATEWAY_APP_ID);
      gatewayLoaded = true;
    }
    return gateway;
  };

  for (const subscription of due) {
    let result: TenantRenewal;
    try {
      result = await renewSubscription(deps, subscription, now, platformGateway);
    } catch (error) {
      deps.onError?.(error, subscription.tenantId);
      result = { tenantId: subscription.tenantId, slug: subscription.slug, outcome: 'failed', error: safeError(error) };
    }
    report.tenants.push(result);
    report.outcomes[result.outcome] = (report.outcomes[result.outcome] ?? 0) + 1;
  }
  return report;
}

async function findDueSubscriptions(db: Database, now: Date): Promise<DueSubscription[]> {
  const rows = await db.withPlatform((tx) =>
    tx
      .select({
        tenantId: tenants.id,
        slug: tenants.slug,
        locale: tenants.defaultLocale,
        planId: tenants.planId,
        currentPeriodEnd: subscriptions.currentPeriodEnd,
      })
      .from(subscriptions)
      .innerJoin(tenants, eq(tenants.id, subscriptions.tenantId))
      .where(
        and(
          eq(tenants.billingMode, 'subscription'),
          ne(tenants.status, 'closed'),
          inArray(subscriptions.status, [...RENEWABLE_STATUSES]),
          lte(subscriptions.currentPeriodEnd, now),
        ),
      )
      .orderBy(asc(tenants.createdAt), desc(subscriptions.createdAt)),
  );
  // One subscription per tenant: the newest (the one settleSubscriptionInvoice moves).
  const byTenant = new Map<string, DueSubscription>();
  for (const row of rows) if (!byTenant.has(row.tenantId)) byTenant.set(row.tenantId, row);
  return [...byTenant.values()];
}

async function renewSubscription(
  deps: CheckSubscriptionRenewalsDeps,
  due: DueSubscription,
  now: Date,
  platformGateway: () => Promise<GatewayApp | undefined>,
): Promise<TenantRenewal> {
  const base = { tenantId: due.tenantId, slug: due.slug };
  const { plan, outstanding } = await deps.db.withPlatform(async (tx) => {
    const [plan] = due.planId ? await tx.select().from(plans).where(eq(plans.id, due.planId)) : [];
    // An invoice already issued for a period after the current one: the renewal in progress.
    const [outstanding] = await tx
      .select({ periodStart: invoices.periodStart, periodEnd: invoices.periodEnd })
      .from(invoices)
      .where(and(eq(invoices.tenantId, due.tenantId), eq(invoices.kind, 'subscription'), gte(invoices.periodStart, localDate(due.currentPeriodEnd))))
      .orderBy(asc(invoices.periodStart))
      .limit(1);
    return { plan, outstanding };
  });
  if (!plan) throw new AppError('CONFLICT', `tenant ${due.slug} is in subscription mode without a plan`);

  const period: Pick<BillingPeriod, 'startDate' | 'endDate'> & Partial<BillingPeriod> = outstanding
    ? { startDate: outstanding.periodStart, endDate: outstanding.periodEnd }
    : renewalPeriod(due.currentPeriodEnd, now);
  const { invoice } = await issueInvoice(deps, {
    tenantId: due.tenantId,
    kind: 'subscription',
    periodStart: period.startDate,
    periodEnd: period.endDate,
    status: 'open',
    lines: [invoiceLine(plan, period, due.locale)],
  });
  const summary = { ...base, periodStart: invoice.periodStart, periodEnd: invoice.periodEnd, amountXaf: invoice.amountXaf, invoiceId: invoice.id, invoiceNumber: invoice.number };

  const app = await platformGateway();
  const decision = await deps.db.withPlatform((tx, platform) => decide(tx, platform, { tenantId: due.tenantId, invoiceId: invoice.id, now, gatewayAppId: app?.id }));
  const result: TenantRenewal = {
    ...summary,
    outcome: decision.outcome,
    graceUntil: decision.graceUntil?.toISOString(),
    push: decision.push,
    paymentId: decision.paymentId,
  };
  if (decision.collect && app) {
    const pushed = await pushPayment(deps.db, app, decision.collect, `Relais ${plan.nameFr} ${invoice.periodStart.slice(0, 7)}`, now);
    result.push = pushed.push;
    result.ussdCode = pushed.ussdCode;
  }
  return result;
}

function invoiceLine(
  plan: typeof plans.$inferSelect,
  period: Pick<BillingPeriod, 'startDate' | 'endDate'> & Partial<BillingPeriod>,
  locale: 'fr' | 'en',
): { description: string; quantity: number; unitPriceXaf: number } {
  const name = locale === 'fr' ? `Abonnement ${plan.nameFr}` : `${plan.nameEn} subscription`;
  const days = period.days ?? 0;
  const daysInMonth = period.daysInMonth ?? 0;
  if (days > 0 && days < daysInMonth) {
    // A period shorter than its month (first renewal after a mid-month start): pro rata.
    const range = `${shortDate(period.startDate)} ${locale === 'fr' ? 'au' : 'to'} ${shortDate(period.endDate)}`;
    const unit = locale === 'fr' ? 'jours' : 'days';
    return {
      description: `${name} — ${range} (${days}/${daysInMonth} ${unit})`,
      quantity: 1,
      unitPriceXaf: Math.round((plan.monthlyFeeXaf * days) / daysInMonth),
    };
  }
  return { description: `${name} — ${monthLabel(period.startDate.slice(0, 7), locale)}`, quantity: 1, unitPriceXaf: plan.monthlyFeeXaf };
}

interface CollectRequestRow {
  paymentId: string;
  externalReference: string;
  phone: string;
  amountXaf: number;
}

interface Decision {
  outcome: Exclude<RenewalOutcome, 'failed'>;
  graceUntil?: Date;
  push?: RenewalPush;
  paymentId?: string;
  /** A payment row was just created: ask the gateway after commit. */
  collect?: CollectRequestRow;
}

/**
 * The decision for one tenant, in one platform transaction holding the tenant, subscription and
 * invoice rows (the same lock order as settleSubscriptionInvoice).
 */
async function decide(
  tx: Tx,
  platform: PlatformContext,
  options: { tenantId: string; invoiceId: string; now: Date; gatewayAppId?: string },
): Promise<Decision> {
  const { tenantId, now } = options;
  const { tenant, subscription, invoice } = await lockRenewalRows(tx, tenantId, options.invoiceId);
  if (!tenant || !subscription || !invoice) throw new AppError('NOT_FOUND', `tenant ${tenantId} has no subscription to renew`);
  if (invoice.status !== 'open' || subscription.currentPeriodEnd > now) return { outcome: 'already_paid' };

  if ((await walletBalance(tx, tenantId)) >= invoice.amountXaf) {
    await settleSubscriptionInvoice(tx, platform, { invoiceId: invoice.id, now, source: { kind: 'wallet' } });
    return { outcome: 'renewed_from_wallet' };
  }

  const period = periodOfDates(invoice.periodStart, invoice.periodEnd);
  const event = { invoiceId: invoice.id, invoiceNumber: invoice.number, amountXaf: invoice.amountXaf, periodStart: invoice.periodStart, periodEnd: invoice.periodEnd };
  let decision: Decision;
  if (subscription.status === 'active' || subscription.status === 'past_due') {
    // Grace runs from the end of the paid period; a run so late that it would already be over
    // still leaves a full grace period after the reseller is first asked.
    const graceFromPeriodEnd = period.start.getTime() + GRACE_PERIOD_MS;
    const graceUntil = new Date(graceFromPeriodEnd > now.getTime() ? graceFromPeriodEnd : now.getTime() + GRACE_PERIOD_MS);
    await tx.update(subscriptions).set({ status: 'grace', graceUntil, updatedAt: now }).where(eq(subscriptions.id, subscription.id));
    await changeTenantStatus(tx, { tenantId, from: tenant.status, to: 'grace', onlyFrom: ['active'], reason: 'subscription_unpaid', details: { ...event, graceUntil: graceUntil.toISOString() }, now });
    await platform.enterTenant(tenantId);
    await writeToOutbox(tx, tenantId, {
      topic: 'subscription.grace_started',
      dedupeKey: `subscription-grace:${invoice.id}`,
      payload: { ...event, graceUntil: graceUntil.toISOString() },
    });
    decision = { outcome: 'grace_started', graceUntil };
  } else if (subscription.status === 'grace') {
    const graceUntil = subscription.graceUntil ?? period.start;
    if (now >= graceUntil) {
      await tx.update(subscriptions).set({ status: 'suspended', updatedAt: now }).where(eq(subscriptions.id, subscription.id));
      await changeTenantStatus(tx, { tenantId, from: tenant.status, to: 'suspended', onlyFrom: ['active', 'grace'], reason: SUBSCRIPTION_SUSPENSION_REASON, details: { ...event, graceUntil: graceUntil.toISOString() }, now });
      await platform.enterTenant(tenantId);
      await writeToOutbox(tx, tenantId, { topic: 'subscription.suspended', dedupeKey: `subscription-suspended:${invoice.id}`, payload: event });
      decision = { outcome: 'suspended', graceUntil };
    } else {
      decision = { outcome: 'awaiting_payment', graceUntil };
    }
  } else {
    decision = { outcome: 'still_suspended' };
  }
  return { ...decision, ...(await preparePush(tx, tenant, invoice, options)) };
}

async function changeTenantStatus(
  tx: Tx,
  change: {
    tenantId: string;
    from: (typeof tenants.$inferSelect)['status'];
    to: 'grace' | 'suspended';
    onlyFrom: (typeof tenants.$inferSelect)['status'][];
    reason: string;
    details: Record<string, unknown>;
    now: Date;
  },
): Promise<void> {
  // A tenant suspended or closed for another reason keeps that status.
  if (!change.onlyFrom.includes(change.from)) return;
  await tx.update(tenants).set({ status: change.to, updatedAt: change.now }).where(eq(tenants.id, change.tenantId));
  await tx.insert(tenantStatusHistory).values({
    tenantId: change.tenantId,
    fromStatus: change.from,
    toStatus: change.to,
    reason: change.reason,
    details: change.details,
  });
}

/** Creates the period's payment row unless it exists; the gateway is called after commit. */
async function preparePush(
  tx: Tx,
  tenant: typeof tenants.$inferSelect,
  invoice: typeof invoices.$inferSelect,
  options: { now: Date; gatewayAppId?: string },
): Promise<Pick<Decision, 'push' | 'paymentId' | 'collect'>> {
  const externalReference = subscriptionPaymentReference(tenant.id, invoice.periodStart);
  const [existing] = await tx.select({ id: payments.id }).from(payments).where(eq(payments.externalReference, externalReference));
  if (existing) return { push: 'already_requested', paymentId: existing.id };
  if (!tenant.billingPhone) return { push: 'no_billing_phone' };
  let phone: ReturnType<typeof parseCameroonMobile>;
  try {
    phone = parseCameroonMobile(tenant.billingPhone);
  } catch (error) {
    if (isAppError(error) && !error.retryable) return { push: 'invalid_billing_phone' };
    throw error;
  }
  if (!options.gatewayAppId) return { push: 'gateway_not_configured' };
  const expiresAt = new Date(options.now.getTime() + PAYMENT_PENDING_TIMEOUT_MS);
  const [created] = await tx
    .insert(payments)
    .values({
      tenantId: tenant.id,
      kind: 'subscription',
      gatewayAppId: options.gatewayAppId,
      externalReference,
      invoiceId: invoice.id,
      phone: phone.e164,
      amountXaf: invoice.amountXaf,
      operator: phone.operator,
      status: 'pending',
      expiresAt,
      // Leased to this run's own collect call: the reconciler must not push a second time meanwhile.
      nextCheckAt: new Date(options.now.getTime() + COLLECT_LEASE_MS),
    })
    .onConflictDoNothing()
    .returning({ id: payments.id });
  if (!created) return { push: 'already_requested' };
  return { push: 'requested', paymentId: created.id, collect: { paymentId: created.id, externalReference, phone: phone.e164, amountXaf: invoice.amountXaf } };
}

/**
 * Asks the gateway to push the payment request. The payment row is committed first, so a crash
 * or an unreachable gateway leaves a pending payment the reconciler asks again for.
 */
async function pushPayment(
  db: Database,
  app: GatewayApp,
  request: CollectRequestRow,
  description: string,
  now: Date,
): Promise<{ push: RenewalPush; ussdCode?: string }> {
  try {
    const collected = await app.gateway.collect({ amountXaf: request.amountXaf, payerPhone: request.phone, description, externalReference: request.externalReference });
    await recordCollectRequest(db, { tenantId: null, attemptId: null, paymentId: request.paymentId }, collected, now);
    return { push: 'requested', ussdCode: collected.ussdCode };
  } catch (error) {
    if (isAppError(error) && !error.retryable) {
      await db.withPlatform((tx) =>
        tx
          .update(payments)
          .set({ status: 'failed', failureReason: error.code, completedAt: now, updatedAt: now })
          // Never over a settlement that happened meanwhile.
          .where(and(eq(payments.id, request.paymentId), eq(payments.status, 'pending'))),
      );
      return { push: 'rejected' };
    }
    await endCollectLease(db, request.paymentId, now);
    return { push: 'delayed' };
  }
}

function safeError(error: unknown): { code: string; message: string } {
  if (isAppError(error)) return { code: error.code, message: error.httpStatus < 500 ? error.message : 'internal error (details in the log)' };
  return { code: 'INTERNAL', message: 'internal error (details in the log)' };
}
