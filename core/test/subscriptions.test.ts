import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  accountBalance,
  checkSubscriptionRenewals,
  confirmPayment,
  createGatewayDirectory,
  createLocalDiskFileStore,
  createSecretBox,
  createTenant,
  GRACE_PERIOD_DAYS,
  ledgerTrialBalance,
  postJournalEntry,
  recordCampayWebhook,
  subscriptionPaymentReference,
  walletBalance,
  type Clock,
  type FileStore,
  type GatewayDirectory,
  type JobQueue,
  type RenewalReport,
} from '@relais/core';
import {
  invoices,
  outbox,
  payments,
  paymentSplits,
  subscriptions,
  tenants,
  tenantStatusHistory,
  type Database,
} from '@relais/db';
import { startCampaySimulator, type CampaySimulator } from '@relais/sim';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** 00:00 in Douala (UTC+1) on 1 April, 1 May and 1 June 2026. */
const APRIL_1 = new Date('2026-03-31T23:00:00Z');
const MAY_1 = new Date('2026-04-30T23:00:00Z');
const JUNE_1 = new Date('2026-05-31T23:00:00Z');
const STARTER_FEE = 19_000;
const MTN_BILLING_PHONE = '+237670000077';

describe.each(testDrivers())('subscription renewals on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let sim: CampaySimulator;
  let callbackServer: Server;
  let directory: string;
  let fileStore: FileStore;
  let gateways: GatewayDirectory;
  let current = MAY_1;
  const clock: Clock = { now: () => current };
  /** What the confirmation job would be asked to do, as the webhook recorded it. */
  const confirmations: { gatewayAppId: string; gatewayReference?: string; externalReference?: string }[] = [];
  const jobs: JobQueue = {
    async enqueue(_name, payload) {
      confirmations.push(payload as (typeof confirmations)[number]);
      return { id: String(confirmations.length), added: true };
    },
  };
  const deps = () => ({ db, gateways, fileStore, clock });
  let emailCounter = 0;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    directory = await mkdtemp(path.join(tmpdir(), 'relais-subscriptions-'));
    fileStore = createLocalDiskFileStore(directory);
    // CamPay's callbacks land here and go through the real webhook use case.
    callbackServer = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const params = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        recordCampayWebhook({ db, gateways, jobs }, { gatewayAppId: 'platform', params }).then(
          () => response.writeHead(200).end('{}'),
          () => response.writeHead(400).end('{}'),
        );
      });
    });
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    sim = await startCampaySimulator({ callbackUrl: `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/`, callbackMethod: 'POST' });
    gateways = createGatewayDirectory({
      db,
      secrets: createSecretBox(randomBytes(32)),
      platform: { baseUrl: sim.url, credentials: { kind: 'login', username: sim.credentials.username, password: sim.credentials.password }, webhookKey: sim.webhookKey },
      timeoutMs: 5_000,
    });
  });
  afterEach(async () => {
    await sim.settled();
    // Money is never created or lost: every journal entry balances.
    expect(await db.withPlatform((tx) => ledgerTrialBalance(tx))).toBe(0);
  });
  afterAll(async () => {
    await sim?.close();
    await new Promise((resolve) => callbackServer?.close(resolve));
    await test?.drop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  /** A subscription tenant whose paid period is April 2026 (Douala). */
  async function subscriber(options: { plan?: 'starter' | 'business'; walletXaf?: number; billingPhone?: string } = {}) {
    emailCounter += 1;
    const { tenant } = await createTenant({ db, clock: { now: () => APRIL_1 } }, { name: `Wifi Zone ${emailCounter}`, email: `sub-${driver}-${emailCounter}@example.cm`, plan: options.plan ?? 'starter' });
    await db.withPlatform(async (tx) => {
      await tx.update(subscriptions).set({ currentPeriodStart: APRIL_1, currentPeriodEnd: MAY_1 }).where(eq(subscriptions.tenantId, tenant.id));
      if (options.billingPhone) await tx.update(tenants).set({ billingPhone: options.billingPhone }).where(eq(tenants.id, tenant.id));
    });
    if (options.walletXaf) await creditWallet(tenant.id, options.walletXaf);
    return tenant.id;
  }

  /** What customers' payments would have left in the reseller's wallet. */
  const creditWallet = (tenantId: string, amountXaf: number) =>
    db.withPlatform((tx) =>
      postJournalEntry(tx, {
        description: 'test: customer payments collected',
        lines: [
          { account: 'gateway_clearing', amountXaf },
          { account: 'tenant_wallet', tenantId, amountXaf: -amountXaf },
        ],
      }),
    );

  const run = async (now: Date = current): Promise<RenewalReport> => {
    current = now;
    return checkSubscriptionRenewals(deps(), { now });
  };
  const resultFor = (report: RenewalReport, tenantId: string) => report.tenants.find((t) => t.tenantId === tenantId);
  const state = (tenantId: string) =>
    db.withPlatform(async (tx) => {
      const [tenant] = await tx.select().from(tenants).where(eq(tenants.id, tenantId));
      const [subscription] = await tx.select().from(subscriptions).where(eq(subscriptions.tenantId, tenantId));
      const invoiceRows = await tx.select().from(invoices).where(eq(invoices.tenantId, tenantId)).orderBy(asc(invoices.periodStart));
      const paymentRows = await tx.select().from(payments).where(eq(payments.tenantId, tenantId));
      const history = await tx
        .select({ from: tenantStatusHistory.fromStatus, to: tenantStatusHistory.toStatus, reason: tenantStatusHistory.reason })
        .from(tenantStatusHistory)
        .where(eq(tenantStatusHistory.tenantId, tenantId))
        .orderBy(asc(tenantStatusHistory.createdAt));
      const wallet = await walletBalance(tx, tenantId);
      // `|| 0`: an empty wallet sums to -0.
      return { tenant: tenant!, subscription: subscription!, invoices: invoiceRows, payments: paymentRows, history, wallet: wallet || 0 };
    });
  const outboxTopics = (tenantId: string) =>
    db.withTenant(tenantId, async (tx) => (await tx.select({ topic: outbox.topic }).from(outbox).orderBy(asc(outbox.createdAt))).map((row) => row.topic));
  /** Collections CamPay received for this tenant's subscription. */
  const collectRequests = (tenantId: string) => sim.transactions().filter((t) => t.endpoint === 'COLLECT' && t.external_reference?.startsWith(`sub:${tenantId}:`)).length;
  /** Settles the payment the way the confirmation job does, from what the callback recorded. */
  const confirmRecorded = async (gatewayReference: string) => {
    await sim.settled();
    const recorded = confirmations.filter((c) => c.gatewayReference === gatewayReference);
    expect(recorded.length).toBeGreaterThan(0);
    return Promise.all(recorded.map((payload) => confirmPayment({ db, gateways, clock }, payload)));
  };

  it('pays the renewal from the wallet when it covers the fee: invoice paid, new period, one balanced entry', async () => {
    const tenantId = await subscriber({ walletXaf: 25_000, billingPhone: MTN_BILLING_PHONE });
    const revenueBefore = await db.withPlatform((tx) => accountBalance(tx, 'platform_revenue'));
    const collectsBefore = collectRequests(tenantId);

    const report = await run(MAY_1);
    expect(resultFor(report, tenantId)).toMatchObject({ outcome: 'renewed_from_wallet', periodStart: '2026-05-01', periodEnd: '2026-05-31', amountXaf: STARTER_FEE });

    const after = await state(tenantId);
    expect(after.wallet).toBe(25_000 - STARTER_FEE);
    expect(await db.withPlatform((tx) => accountBalance(tx, 'platform_revenue'))).toBe(revenueBefore - STARTER_FEE);
    expect(after.invoices).toHaveLength(1);
    expect(after.invoices[0]).toMatchObject({ kind: 'subscription', status: 'paid', amountXaf: STARTER_FEE, periodStart: '2026-05-01', periodEnd: '2026-05-31' });
    expect(after.invoices[0]!.pdfKey).toBeTruthy();
    expect(after.subscription).toMatchObject({ status: 'active', currentPeriodStart: MAY_1, currentPeriodEnd: JUNE_1, graceUntil: null });
    expect(after.tenant.status).toBe('active');
    expect(after.payments).toEqual([]);
    expect(collectRequests(tenantId)).toBe(collectsBefore);
    expect(await outboxTopics(tenantId)).toEqual(['subscription.renewed']);

    // The same minute again: nothing is due any more, nothing changes.
    const again = await run(MAY_1);
    expect(resultFor(again, tenantId)).toBeUndefined();
    const unchanged = await state(tenantId);
    expect(unchanged.wallet).toBe(after.wallet);
    expect(unchanged.invoices).toEqual(after.invoices);
    expect(unchanged.subscription.updatedAt).toEqual(after.subscription.updatedAt);
  });

  it('pushes a USSD request when the wallet falls short; the approved payment pays the invoice and reactivates the tenant', async () => {
    const tenantId = await subscriber({ walletXaf: 1_000, billingPhone: MTN_BILLING_PHONE });
    const report = await run(MAY_1);
    const result = resultFor(report, tenantId)!;
    expect(result).toMatchObject({ outcome: 'grace_started', push: 'requested', ussdCode: '*126#', amountXaf: STARTER_FEE });
    expect(result.graceUntil).toBe(new Date(MAY_1.getTime() + GRACE_PERIOD_DAYS * DAY_MS).toISOString());

    const inGrace = await state(tenantId);
    expect(inGrace.tenant.status).toBe('grace');
    expect(inGrace.subscription).toMatchObject({ status: 'grace', currentPeriodEnd: MAY_1 });
    expect(inGrace.history).toEqual([
      { from: null, to: 'active', reason: 'created' },
      { from: 'active', to: 'grace', reason: 'subscription_unpaid' },
    ]);
    expect(inGrace.payments).toHaveLength(1);
    const payment = inGrace.payments[0]!;
    expect(payment).toMatchObject({
      kind: 'subscription',
      status: 'pending',
      invoiceId: inGrace.invoices[0]!.id,
      externalReference: subscriptionPaymentReference(tenantId, '2026-05-01'),
      phone: MTN_BILLING_PHONE,
      amountXaf: STARTER_FEE,
    });
    expect(payment.gatewayReference).toBeTruthy();
    expect(inGrace.invoices[0]!.status).toBe('open');

    // Twice more the same day: no second push, no second history row, no second invoice.
    const collects = collectRequests(tenantId);
    for (let i = 0; i < 2; i += 1) {
      expect(resultFor(await run(new Date(MAY_1.getTime() + 60_000)), tenantId)).toMatchObject({ outcome: 'awaiting_payment', push: 'already_requested', paymentId: payment.id });
    }
    expect(collectRequests(tenantId)).toBe(collects);
    const stillInGrace = await state(tenantId);
    expect(stillInGrace.history).toHaveLength(2);
    expect(stillInGrace.invoices).toHaveLength(1);
    expect(stillInGrace.payments).toHaveLength(1);

    // The reseller approves on the phone; CamPay calls back; the confirmation settles it.
    await sim.approve(payment.gatewayReference!);
    expect(await confirmRecorded(payment.gatewayReference!)).toContain('fulfilled');

    const paid = await state(tenantId);
    expect(paid.payments[0]!.status).toBe('successful');
    expect(paid.invoices[0]).toMatchObject({ status: 'paid' });
    expect(paid.tenant.status).toBe('active');
    expect(paid.subscription).toMatchObject({ status: 'active', currentPeriodStart: MAY_1, currentPeriodEnd: JUNE_1, graceUntil: null });
    expect(paid.history.at(-1)).toEqual({ from: 'grace', to: 'active', reason: 'subscription_paid' });
    expect(paid.wallet).toBe(1_000);
    const lines = await db.withPlatform((tx) => tx.select({ account: paymentSplits.account, amountXaf: paymentSplits.amountXaf }).from(paymentSplits).where(eq(paymentSplits.paymentId, payment.id)));
    expect(lines).toEqual(expect.arrayContaining([{ account: 'gateway_clearing', amountXaf: STARTER_FEE }, { account: 'platform_revenue', amountXaf: -STARTER_FEE }]));
    expect(lines).toHaveLength(2);
    expect(await outboxTopics(tenantId)).toEqual(['subscription.grace_started', 'subscription.renewed']);

    // A duplicate confirmation changes nothing; the next run finds nothing due.
    expect(await confirmPayment({ db, gateways, clock }, { gatewayAppId: 'platform', paymentId: payment.id })).toBe('already_fulfilled');
    expect(resultFor(await run(new Date(MAY_1.getTime() + 2 * 60_000)), tenantId)).toBeUndefined();
  });

  it('suspends when the grace ends unpaid, records it, and a late payment reactivates the tenant', async () => {
    const tenantId = await subscriber({ billingPhone: MTN_BILLING_PHONE });
    expect(resultFor(await run(MAY_1), tenantId)).toMatchObject({ outcome: 'grace_started', push: 'requested' });
    const { payments: [payment] } = await state(tenantId);

    // The push expires unanswered (the reconciler's confirmation, 10 minutes later).
    current = new Date(MAY_1.getTime() + 10 * 60_000);
    expect(await confirmPayment({ db, gateways, clock }, { gatewayAppId: 'platform', paymentId: payment!.id })).toBe('expired');
    expect((await state(tenantId)).tenant.status).toBe('grace');

    // One second before the grace ends: still waiting.
    const graceEnd = new Date(MAY_1.getTime() + GRACE_PERIOD_DAYS * DAY_MS);
    expect(resultFor(await run(new Date(graceEnd.getTime() - 1_000)), tenantId)).toMatchObject({ outcome: 'awaiting_payment' });
    expect(resultFor(await run(graceEnd), tenantId)).toMatchObject({ outcome: 'suspended' });
    const suspended = await state(tenantId);
    expect(suspended.tenant.status).toBe('suspended');
    expect(suspended.subscription.status).toBe('suspended');
    expect(suspended.history.slice(1)).toEqual([
      { from: 'active', to: 'grace', reason: 'subscription_unpaid' },
      { from: 'grace', to: 'suspended', reason: 'subscription_grace_expired' },
    ]);
    // Again the same day, and at the next monthly run: nothing more, no June invoice, no new push.
    const collects = collectRequests(tenantId);
    expect(resultFor(await run(new Date(graceEnd.getTime() + 60_000)), tenantId)).toMatchObject({ outcome: 'still_suspended', push: 'already_requested' });
    expect(resultFor(await run(JUNE_1), tenantId)).toMatchObject({ outcome: 'still_suspended', periodStart: '2026-05-01' });
    expect(collectRequests(tenantId)).toBe(collects);
    const unchanged = await state(tenantId);
    expect(unchanged.history).toHaveLength(3);
    expect(unchanged.invoices).toHaveLength(1);

    // The reseller finally approves the old request: CamPay's late success is honoured.
    await sim.approve(payment!.gatewayReference!);
    expect(await confirmRecorded(payment!.gatewayReference!)).toContain('late_success_fulfilled');
    const reactivated = await state(tenantId);
    expect(reactivated.tenant.status).toBe('active');
    expect(reactivated.subscription).toMatchObject({ status: 'active', currentPeriodEnd: JUNE_1 });
    expect(reactivated.invoices[0]!.status).toBe('paid');
    expect(reactivated.history.at(-1)).toEqual({ from: 'suspended', to: 'active', reason: 'subscription_paid' });
    expect(await outboxTopics(tenantId)).toEqual(['subscription.grace_started', 'subscription.suspended', 'subscription.renewed']);
  });

  it('renews from the wallet once it has been refilled during the grace, without a billing phone', async () => {
    const tenantId = await subscriber({ walletXaf: 5_000 });
    expect(resultFor(await run(MAY_1), tenantId)).toMatchObject({ outcome: 'grace_started', push: 'no_billing_phone' });
    expect((await state(tenantId)).payments).toEqual([]);
    await creditWallet(tenantId, 20_000);
    expect(resultFor(await run(new Date(MAY_1.getTime() + 3 * DAY_MS)), tenantId)).toMatchObject({ outcome: 'renewed_from_wallet' });
    const renewed = await state(tenantId);
    expect(renewed.wallet).toBe(25_000 - STARTER_FEE);
    expect(renewed.tenant.status).toBe('active');
    expect(renewed.history.at(-1)).toEqual({ from: 'grace', to: 'active', reason: 'subscription_paid' });
  });

  it('credits the wallet when a push succeeds for an invoice the wallet already paid', async () => {
    const tenantId = await subscriber({ billingPhone: MTN_BILLING_PHONE });
    await run(MAY_1);
    const { payments: [payment] } = await state(tenantId);
    await creditWallet(tenantId, STARTER_FEE);
    expect(resultFor(await run(new Date(MAY_1.getTime() + DAY_MS)), tenantId)).toMatchObject({ outcome: 'renewed_from_wallet' });
    expect((await state(tenantId)).wallet).toBe(0);

    await sim.approve(payment!.gatewayReference!);
    await confirmRecorded(payment!.gatewayReference!);
    const after = await state(tenantId);
    expect(after.wallet).toBe(STARTER_FEE);
    expect(after.payments[0]!.status).toBe('successful');
    expect(after.invoices).toHaveLength(1);
    expect(await outboxTopics(tenantId)).toContain('subscription.payment_credited');
  });

  it('renews each subscription once when two runs race', async () => {
    const tenantId = await subscriber({ plan: 'business', walletXaf: 60_000 });
    const reports = await Promise.all([run(MAY_1), run(MAY_1)]);
    const outcomes = reports.map((report) => resultFor(report, tenantId)?.outcome ?? 'not_due');
    expect(outcomes.filter((o) => o === 'renewed_from_wallet')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'renewed_from_wallet').every((o) => o === 'already_paid' || o === 'not_due')).toBe(true);
    const after = await state(tenantId);
    expect(after.wallet).toBe(60_000 - 52_000);
    expect(after.invoices).toHaveLength(1);
  });

  it('leaves commission tenants alone, even with a stray subscription row', async () => {
    emailCounter += 1;
    const { tenant } = await createTenant({ db, clock: { now: () => APRIL_1 } }, { name: `Hotspot ${emailCounter}`, email: `com-${driver}-${emailCounter}@example.cm`, mode: 'commission' });
    await db.withPlatform(async (tx) => {
      await tx.insert(subscriptions).values({ tenantId: tenant.id, planId: 'commission', currentPeriodStart: APRIL_1, currentPeriodEnd: MAY_1 });
      await tx.update(tenants).set({ billingPhone: MTN_BILLING_PHONE }).where(eq(tenants.id, tenant.id));
    });
    await creditWallet(tenant.id, 100_000);
    const report = await run(JUNE_1);
    expect(resultFor(report, tenant.id)).toBeUndefined();
    const after = await state(tenant.id);
    expect(after.invoices).toEqual([]);
    expect(after.payments).toEqual([]);
    expect(after.wallet).toBe(100_000);
    expect(after.tenant.status).toBe('active');
    expect(after.subscription).toMatchObject({ status: 'active', currentPeriodEnd: MAY_1 });
  });

  it("reports one tenant's failure and renews the others", async () => {
    const broken = await subscriber({ walletXaf: 50_000 });
    const healthy = await subscriber({ walletXaf: 50_000 });
    await db.withPlatform((tx) => tx.update(tenants).set({ planId: null }).where(eq(tenants.id, broken)));
    const errors: string[] = [];
    try {
      const report = await checkSubscriptionRenewals({ ...deps(), onError: (_error, tenantId) => errors.push(tenantId) }, { now: MAY_1 });
      expect(resultFor(report, broken)).toMatchObject({ outcome: 'failed', error: { code: 'CONFLICT' } });
      expect(resultFor(report, healthy)).toMatchObject({ outcome: 'renewed_from_wallet' });
      expect(report.outcomes.failed).toBeGreaterThanOrEqual(1);
      expect(errors).toContain(broken);
      expect((await state(broken)).invoices).toEqual([]);
    } finally {
      await db.withPlatform((tx) => tx.update(tenants).set({ planId: 'starter' }).where(eq(tenants.id, broken)));
    }
  });

  it('bills a period that starts mid-month pro rata, then whole months', async () => {
    const tenantId = await subscriber({ walletXaf: 100_000 });
    // Created mid-April: the first period ended on 15 April at 10:00 Douala.
    const april15 = new Date('2026-04-15T09:00:00Z');
    await db.withPlatform((tx) => tx.update(subscriptions).set({ currentPeriodEnd: april15 }).where(eq(subscriptions.tenantId, tenantId)));
    expect(resultFor(await run(new Date('2026-04-20T08:00:00Z')), tenantId)).toMatchObject({
      outcome: 'renewed_from_wallet',
      periodStart: '2026-04-15',
      periodEnd: '2026-04-30',
      amountXaf: Math.round((STARTER_FEE * 16) / 30),
    });
    expect(resultFor(await run(MAY_1), tenantId)).toMatchObject({ outcome: 'renewed_from_wallet', periodStart: '2026-05-01', amountXaf: STARTER_FEE });
    const after = await state(tenantId);
    expect(after.invoices.map((i) => i.document)).toEqual([
      expect.objectContaining({ lines: [expect.objectContaining({ description: 'Abonnement Starter — 15/04/2026 au 30/04/2026 (16/30 jours)' })] }),
      expect.objectContaining({ lines: [expect.objectContaining({ description: 'Abonnement Starter — mai 2026' })] }),
    ]);
    expect(after.subscription.currentPeriodEnd).toEqual(JUNE_1);
  });
});
