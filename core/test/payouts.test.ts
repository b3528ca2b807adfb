import { randomBytes, randomUUID } from 'node:crypto';
import { and, count, countDistinct, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  accountBalance,
  AppError,
  confirmPayment,
  createGatewayDirectory,
  createSecretBox,
  createTenant,
  ledgerTrialBalance,
  PAYOUT_MIN_XAF,
  PAYOUT_PENDING_TIMEOUT_MS,
  reconcilePayments,
  recordCollectedPayment,
  requestPayout,
  settleDuePayouts,
  settlePayout,
  walletBalance,
  type GatewayDirectory,
} from '@relais/core';
import { auditLog, outbox, payments, paymentSplits, type Database } from '@relais/db';
import { startCampaySimulator, type CampaySimulator } from '@relais/sim';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';
import { steppedClock } from '../../tests/support/stepped-clock.js';
import { errorOf } from '../../tests/support/app-error-of.js';

function platformDirectory(db: Database, sim: CampaySimulator): GatewayDirectory {
  return createGatewayDirectory({
    db,
    secrets: createSecretBox(randomBytes(32)),
    timeoutMs: 5_000,
    platform: {
      baseUrl: sim.url,
      credentials: { kind: 'login', username: sim.credentials.username, password: sim.credentials.password },
      webhookKey: sim.webhookKey,
    },
  });
}

const MTN_PHONE = '+237 6 70 00 00 02';
const ORANGE_PHONE = '+237 6 90 00 00 03';
/** Beyond every backoff step (the longest is a minute). */
const PAST_NEXT_CHECK_MS = 61_000;

describe.each(testDrivers())('reseller payouts on %s (CamPay simulator over HTTP)', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let sim: CampaySimulator;
  let gateways: GatewayDirectory;
  let tenantCount = 0;
  const clock = steppedClock();
  const deps = () => ({ db, gateways, clock });

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    // No callback URL: payouts are settled by polling here, the way the sweep does it.
    sim = await startCampaySimulator({ balance: { mtn: 10_000_000, orange: 10_000_000 } });
    gateways = platformDirectory(db, sim);
  });
  afterEach(async () => {
    sim.setFaults({ latencyMs: 0, failNext: null });
    const books = await db.withPlatform(async (tx) => ({ trial: await ledgerTrialBalance(tx), held: await accountBalance(tx, 'payouts') }));
    // Money is never created or lost, and every payout a test made is settled by its end.
    expect(books).toEqual({ trial: 0, held: 0 });
  });
  afterAll(async () => {
    await sim?.close();
    await test?.drop();
  });

  /** A new commission-mode reseller whose wallet got 90% of a collected customer payment. */
  async function fundedTenant(grossXaf = 10_000) {
    tenantCount += 1;
    const created = await createTenant({ db, clock }, { name: `Payout Reseller ${tenantCount}`, email: `payouts-${tenantCount}@example.cm`, mode: 'commission' });
    const tenantId = created.tenant.id;
    const split = await db.withPlatform(async (tx) => {
      const [payment] = await tx
        .insert(payments)
        .values({ tenantId, kind: 'customer_payment', externalReference: randomUUID(), phone: '+237670000009', amountXaf: grossXaf, status: 'successful', expiresAt: clock.now() })
        .returning({ id: payments.id });
      return recordCollectedPayment(tx, { id: payment!.id, tenantId, amountXaf: grossXaf, billingMode: 'commission', commissionRateBps: 1_000 });
    });
    expect(split.resellerXaf).toBe(grossXaf * 0.9);
    return { tenantId, adminId: created.admin.id, walletXaf: split.resellerXaf };
  }

  const wallet = (tenantId: string) => db.withPlatform((tx) => walletBalance(tx, tenantId));
  const clearing = () => db.withPlatform((tx) => accountBalance(tx, 'gateway_clearing'));
  const paymentRow = (paymentId: string) => db.withPlatform(async (tx) => (await tx.select().from(payments).where(eq(payments.id, paymentId)))[0]!);
  const journalsOf = (paymentId: string) =>
    db.withPlatform(async (tx) => (await tx.select({ n: countDistinct(paymentSplits.journalId) }).from(paymentSplits).where(eq(paymentSplits.paymentId, paymentId)))[0]!.n);
  const outboxOf = (tenantId: string) =>
    db.withTenant(tenantId, async (tx) => tx.select({ topic: outbox.topic, payload: outbox.payload }).from(outbox).where(eq(outbox.tenantId, tenantId)));
  const withdrawalsTo = (externalReference: string) => sim.transactions().filter((t) => t.endpoint === 'WITHDRAW' && t.external_reference === externalReference);
  /** Everything a refused request could have left behind. */
  const footprint = async (tenantId: string) => ({
    payouts: await db.withPlatform(async (tx) => (await tx.select({ n: count() }).from(payments).where(and(eq(payments.tenantId, tenantId), eq(payments.kind, 'payout'))))[0]!.n),
    ledgerLines: await db.withPlatform(async (tx) => (await tx.select({ n: count() }).from(paymentSplits))[0]!.n),
    audits: await db.withTenant(tenantId, async (tx) => (await tx.select({ n: count() }).from(auditLog).where(eq(auditLog.action, 'payout.requested')))[0]!.n),
    gatewayCalls: sim.requests().filter((r) => r.path === '/api/withdraw/').length,
    wallet: await wallet(tenantId),
  });

  it('pays a reseller out: held at once, then wallet down, clearing down, payouts account back to zero', async () => {
    const { tenantId, adminId, walletXaf } = await fundedTenant();
    const clearingBefore = await clearing();

    const payout = await requestPayout(deps(), { tenantId, amountXaf: 5_000, phone: MTN_PHONE, requestedByUserId: adminId });
    expect(payout).toMatchObject({ status: 'pending', amountXaf: 5_000, phone: '+237670000002', operator: 'MTN', gatewayDelayed: false });
    expect(payout.gatewayReference).toBeTruthy();
    const row = await paymentRow(payout.paymentId);
    expect(row).toMatchObject({ kind: 'payout', status: 'pending', gatewayReference: payout.gatewayReference, amountXaf: 5_000 });
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBeGreaterThan(0);
    expect(withdrawalsTo(row.externalReference)).toEqual([expect.objectContaining({ amount: 5_000, phone: '237670000002', status: 'PENDING' })]);
    // The hold: out of the wallet, into the payouts account, before CamPay has paid anything.
    expect(await wallet(tenantId)).toBe(walletXaf - 5_000);
    expect(await db.withPlatform((tx) => accountBalance(tx, 'payouts'))).toBe(-5_000);
    const audits = await db.withTenant(tenantId, (tx) => tx.select().from(auditLog).where(eq(auditLog.action, 'payout.requested')));
    expect(audits).toEqual([expect.objectContaining({ actorKind: 'user', actorId: adminId, targetId: payout.paymentId })]);

    expect(await settlePayout(deps(), { paymentId: payout.paymentId })).toBe('still_pending');
    await sim.approve(payout.gatewayReference!);
    expect(await settlePayout(deps(), { paymentId: payout.paymentId })).toBe('succeeded');

    expect(await paymentRow(payout.paymentId)).toMatchObject({ status: 'successful', failureReason: null });
    expect(await wallet(tenantId)).toBe(walletXaf - 5_000);
    expect(await clearing()).toBe(clearingBefore - 5_000);
    expect(await db.withPlatform((tx) => accountBalance(tx, 'payouts'))).toBe(0);
    expect(await journalsOf(payout.paymentId)).toBe(2);
    expect((await outboxOf(tenantId)).map((m) => m.topic)).toEqual(['payout.succeeded']);
    expect(await settlePayout(deps(), { paymentId: payout.paymentId })).toBe('already_settled');
  });

  it('returns the money to the wallet when CamPay fails the withdrawal', async () => {
    const { tenantId, walletXaf } = await fundedTenant();
    const clearingBefore = await clearing();
    const payout = await requestPayout(deps(), { tenantId, amountXaf: 2_000, phone: ORANGE_PHONE });
    expect(payout).toMatchObject({ status: 'pending', operator: 'ORANGE' });
    await sim.decline(payout.gatewayReference!);
    expect(await settlePayout(deps(), { paymentId: payout.paymentId })).toBe('failed');

    expect(await paymentRow(payout.paymentId)).toMatchObject({ status: 'failed', failureReason: 'gateway_failed' });
    expect(await wallet(tenantId)).toBe(walletXaf);
    expect(await clearing()).toBe(clearingBefore);
    const messages = await outboxOf(tenantId);
    expect(messages).toEqual([{ topic: 'payout.failed', payload: expect.objectContaining({ paymentId: payout.paymentId, amountXaf: 2_000, reason: 'gateway_failed' }) }]);
  });

  it('leaves a withdrawal to its own sweep when a payment callback names it, so its money still comes back', async () => {
    const { tenantId, walletXaf } = await fundedTenant();
    const payout = await requestPayout(deps(), { tenantId, amountXaf: 3_000, phone: MTN_PHONE });
    await sim.decline(payout.gatewayReference!);
    // What the webhook's confirmation job does with any CamPay callback.
    expect(await confirmPayment(deps(), { gatewayAppId: 'platform', gatewayReference: payout.gatewayReference! })).toBe('ignored');
    expect(await paymentRow(payout.paymentId)).toMatchObject({ status: 'pending' });
    expect(await settlePayout(deps(), { paymentId: payout.paymentId })).toBe('failed');
    expect(await wallet(tenantId)).toBe(walletXaf);
  });

  it('refuses a payout beyond the wallet, with the balance in details, and writes nothing', async () => {
    const { tenantId, walletXaf } = await fundedTenant();
    const before = await footprint(tenantId);
    const error = await errorOf(requestPayout(deps(), { tenantId, amountXaf: walletXaf + 1, phone: MTN_PHONE }));
    expect(error.code).toBe('PAYMENT_INSUFFICIENT_FUNDS');
    expect(error.details).toEqual({ availableXaf: walletXaf, requestedXaf: walletXaf + 1 });
    expect(await footprint(tenantId)).toEqual(before);
  });

  it.each([
    [{ amountXaf: PAYOUT_MIN_XAF - 1 }, 'PAYMENT_AMOUNT_INVALID'],
    [{ amountXaf: 1_000.5 }, 'PAYMENT_AMOUNT_INVALID'],
    [{ amountXaf: -1_000 }, 'PAYMENT_AMOUNT_INVALID'],
    [{ amountXaf: Number.NaN }, 'PAYMENT_AMOUNT_INVALID'],
    [{ phone: '+237 6 60 00 00 00' }, 'PAYMENT_OPERATOR_UNSUPPORTED'],
    [{ phone: '+33 6 12 34 56 78' }, 'PAYMENT_PHONE_INVALID'],
    [{ phone: '670000000 please' }, 'PAYMENT_PHONE_INVALID'],
  ])('refuses %o with %s before anything is written or sent', async (override, code) => {
    const { tenantId } = await fundedTenant();
    const before = await footprint(tenantId);
    const error = await errorOf(requestPayout(deps(), { tenantId, amountXaf: 1_000, phone: MTN_PHONE, ...override }));
    expect(error.code).toBe(code);
    expect(await footprint(tenantId)).toEqual(before);
  });

  it('refuses an unknown tenant and a malformed tenant id', async () => {
    expect((await errorOf(requestPayout(deps(), { tenantId: randomUUID(), amountXaf: 1_000, phone: MTN_PHONE }))).code).toBe('NOT_FOUND');
    expect((await errorOf(requestPayout(deps(), { tenantId: 'akwa', amountXaf: 1_000, phone: MTN_PHONE }))).code).toBe('VALIDATION_FAILED');
  });

  it('fails at once and gives the money back when CamPay answers ER301 (platform balance too low)', async () => {
    const broke = await startCampaySimulator(); // balances 0
    try {
      const brokeDeps = { db, gateways: platformDirectory(db, broke), clock };
      const { tenantId, walletXaf } = await fundedTenant();
      const payout = await requestPayout(brokeDeps, { tenantId, amountXaf: 3_000, phone: MTN_PHONE });
      expect(payout).toMatchObject({ status: 'failed', failureReason: 'PAYMENT_INSUFFICIENT_FUNDS', gatewayDelayed: false });
      expect(payout.gatewayReference).toBeUndefined();
      expect(broke.requests().filter((r) => r.path === '/api/withdraw/').map((r) => r.status)).toEqual([400]);
      expect(await paymentRow(payout.paymentId)).toMatchObject({ status: 'failed', failureReason: 'PAYMENT_INSUFFICIENT_FUNDS', gatewayReference: null });
      expect(await wallet(tenantId)).toBe(walletXaf);
      expect(await journalsOf(payout.paymentId)).toBe(2);
      expect((await outboxOf(tenantId)).map((m) => m.topic)).toEqual(['payout.failed']);
      expect(await settlePayout(brokeDeps, { paymentId: payout.paymentId })).toBe('already_settled');
    } finally {
      await broke.close();
    }
  });

  it('accepts exactly one of two concurrent payouts that together exceed the wallet', async () => {
    const { tenantId, walletXaf } = await fundedTenant(10_000); // 9 000 in the wallet
    const results = await Promise.allSettled([5_000, 5_000].map((amountXaf) => requestPayout(deps(), { tenantId, amountXaf, phone: MTN_PHONE })));
    const accepted = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason as AppError);
    expect(accepted).toHaveLength(1);
    expect(refused.map((e) => e.code)).toEqual(['PAYMENT_INSUFFICIENT_FUNDS']);
    expect(refused[0]!.details).toMatchObject({ availableXaf: walletXaf - 5_000 });
    expect(await wallet(tenantId)).toBe(walletXaf - 5_000);
    await sim.approve(accepted[0]!.gatewayReference!);
    expect(await settlePayout(deps(), { paymentId: accepted[0]!.paymentId })).toBe('succeeded');
  });

  it('never overdraws a wallet under ten concurrent payouts', async () => {
    const { tenantId } = await fundedTenant(10_000); // 9 000: room for nine payouts of 1 000
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => requestPayout(deps(), { tenantId, amountXaf: 1_000, phone: MTN_PHONE })));
    const accepted = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    expect(accepted).toHaveLength(9);
    expect(await wallet(tenantId)).toBe(0);
    for (const payout of accepted) {
      await sim.decline(payout.gatewayReference!);
      expect(await settlePayout(deps(), { paymentId: payout.paymentId })).toBe('failed');
    }
    expect(await wallet(tenantId)).toBe(9_000);
  });

  it('settles once when the same payout is settled 20 times at once', async () => {
    const { tenantId, walletXaf } = await fundedTenant();
    const clearingBefore = await clearing();
    const payout = await requestPayout(deps(), { tenantId, amountXaf: 4_000, phone: MTN_PHONE });
    await sim.approve(payout.gatewayReference!);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => settlePayout(deps(), { paymentId: payout.paymentId })));
    expect(outcomes.filter((o) => o === 'succeeded')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'already_settled')).toHaveLength(19);
    expect(await journalsOf(payout.paymentId)).toBe(2); // the hold and one settlement
    expect(await clearing()).toBe(clearingBefore - 4_000);
    expect(await wallet(tenantId)).toBe(walletXaf - 4_000);
    expect((await outboxOf(tenantId)).map((m) => m.topic)).toEqual(['payout.succeeded']);
  });

  it('keeps a payout pending when CamPay is unavailable at request time; the sweep sends and settles it', async () => {
    const { tenantId, walletXaf } = await fundedTenant();
    sim.setFaults({ failNext: { status: 503, path: '/api/withdraw/', body: { message: 'maintenance' } } });
    const payout = await requestPayout(deps(), { tenantId, amountXaf: 6_000, phone: MTN_PHONE });
    expect(payout).toMatchObject({ status: 'pending', gatewayDelayed: true });
    expect(payout.gatewayReference).toBeUndefined();
    const { externalReference } = await paymentRow(payout.paymentId);
    expect(withdrawalsTo(externalReference)).toEqual([]);
    expect(await wallet(tenantId)).toBe(walletXaf - 6_000); // held meanwhile

    // The customer-payment reconciler leaves payouts alone (it would "collect" them otherwise).
    const collectsBefore = sim.requests().filter((r) => r.path === '/api/collect/').length;
    clock.advance(PAST_NEXT_CHECK_MS);
    await reconcilePayments(deps());
    expect(sim.requests().filter((r) => r.path === '/api/collect/')).toHaveLength(collectsBefore);
    expect((await paymentRow(payout.paymentId)).checkCount).toBe(0);

    const first = await settleDuePayouts(deps());
    expect(first).toEqual({ checked: 1, outcomes: { still_pending: 1 } });
    const sent = await paymentRow(payout.paymentId);
    expect(sent.gatewayReference).toBeTruthy();
    expect(withdrawalsTo(externalReference)).toHaveLength(1);

    await sim.approve(sent.gatewayReference!);
    expect(await settleDuePayouts(deps())).toEqual({ checked: 0, outcomes: {} }); // backing off
    clock.advance(PAST_NEXT_CHECK_MS);
    expect(await settleDuePayouts(deps())).toEqual({ checked: 1, outcomes: { succeeded: 1 } });
    expect((await paymentRow(payout.paymentId)).status).toBe('successful');
    expect(await wallet(tenantId)).toBe(walletXaf - 6_000);
  });

  it('does not pay twice when CamPay created the withdrawal but its answer was lost', async () => {
    const { tenantId, walletXaf } = await fundedTenant();
    // The answer to our withdraw request is lost (a proxy's 502) although CamPay created the withdrawal.
    sim.setFaults({ failNext: { status: 502, path: '/api/withdraw/', body: 'Bad Gateway' } });
    const payout = await requestPayout(deps(), { tenantId, amountXaf: 2_500, phone: MTN_PHONE });
    expect(payout).toMatchObject({ status: 'pending', gatewayDelayed: true });
    const { externalReference, phone } = await paymentRow(payout.paymentId);
    const platformApp = (await gateways.get('platform'))!;
    await platformApp.gateway.withdraw({ amountXaf: 2_500, recipientPhone: phone, description: 'Relais payout', externalReference });
    expect(withdrawalsTo(externalReference)).toHaveLength(1);

    clock.advance(PAST_NEXT_CHECK_MS);
    expect(await settleDuePayouts(deps())).toEqual({ checked: 1, outcomes: { still_pending: 1 } });
    const withdrawals = withdrawalsTo(externalReference);
    expect(withdrawals).toHaveLength(1); // asked again with the same external reference: the same withdrawal
    expect((await paymentRow(payout.paymentId)).gatewayReference).toBe(withdrawals[0]!.reference);

    await sim.approve(withdrawals[0]!.reference);
    clock.advance(PAST_NEXT_CHECK_MS);
    expect(await settleDuePayouts(deps())).toEqual({ checked: 1, outcomes: { succeeded: 1 } });
    expect(await wallet(tenantId)).toBe(walletXaf - 2_500);
  });

  it('sends one withdraw request at a time for a payout without a reference, however many settle it at once', async () => {
    const { tenantId, walletXaf } = await fundedTenant();
    sim.setFaults({ failNext: { status: 503, path: '/api/withdraw/' } });
    const payout = await requestPayout(deps(), { tenantId, amountXaf: 1_200, phone: MTN_PHONE });
    const withdrawCallsBefore = sim.requests().filter((r) => r.path === '/api/withdraw/').length;
    clock.advance(PAST_NEXT_CHECK_MS);
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => settlePayout(deps(), { paymentId: payout.paymentId })));
    expect(sim.requests().filter((r) => r.path === '/api/withdraw/')).toHaveLength(withdrawCallsBefore + 1);
    expect(outcomes.filter((o) => o === 'still_pending')).toHaveLength(10);
    const { gatewayReference } = await paymentRow(payout.paymentId);
    await sim.decline(gatewayReference!);
    expect(await settlePayout(deps(), { paymentId: payout.paymentId })).toBe('failed');
    expect(await wallet(tenantId)).toBe(walletXaf);
  });

  it('keeps holding a payout CamPay never acknowledged past its deadline, flags it, and settles it once CamPay names it', async () => {
    const { tenantId, walletXaf } = await fundedTenant();
    sim.setFaults({ failNext: { status: 503, path: '/api/withdraw/' } });
    const payout = await requestPayout(deps(), { tenantId, amountXaf: 1_500, phone: MTN_PHONE });
    expect(payout).toMatchObject({ status: 'pending', gatewayDelayed: true });
    clock.advance(PAYOUT_PENDING_TIMEOUT_MS + 1_000);
    // A re-send that is refused proves nothing about the first request: the money stays held.
    sim.setFaults({ failNext: { status: 400, path: '/api/withdraw/', body: { message: 'external_reference already used' } } });
    expect(await settleDuePayouts(deps())).toEqual({ checked: 1, outcomes: { gateway_unavailable: 1 } });
    expect(await paymentRow(payout.paymentId)).toMatchObject({ status: 'pending', gatewayReference: null });
    expect(await wallet(tenantId)).toBe(walletXaf - 1_500);
    expect((await outboxOf(tenantId)).map((m) => m.topic)).toEqual(['payout.needs_review']);
    // CamPay answers again: same reference, then its word settles it.
    clock.advance(PAST_NEXT_CHECK_MS);
    await settleDuePayouts(deps());
    const { gatewayReference, externalReference } = await paymentRow(payout.paymentId);
    expect(withdrawalsTo(externalReference)).toHaveLength(1);
    await sim.decline(gatewayReference!);
    expect(await settlePayout(deps(), { paymentId: payout.paymentId })).toBe('failed');
    expect(await wallet(tenantId)).toBe(walletXaf);
    expect((await outboxOf(tenantId)).map((m) => m.topic)).toEqual(['payout.needs_review', 'payout.failed']);
  });

  it('keeps holding a withdrawal CamPay still reports PENDING past the deadline, until CamPay decides', async () => {
    const { tenantId, walletXaf } = await fundedTenant();
    const payout = await requestPayout(deps(), { tenantId, amountXaf: 1_000, phone: MTN_PHONE });
    clock.advance(PAYOUT_PENDING_TIMEOUT_MS + 1_000);
    expect(await settlePayout(deps(), { paymentId: payout.paymentId })).toBe('still_pending');
    expect(await wallet(tenantId)).toBe(walletXaf - 1_000);
    await sim.decline(payout.gatewayReference!);
    expect(await settlePayout(deps(), { paymentId: payout.paymentId })).toBe('failed');
    expect(await wallet(tenantId)).toBe(walletXaf);
  });
});
