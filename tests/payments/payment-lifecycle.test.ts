import { and, count, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AppError,
  confirmPayment,
  createTenant,
  ledgerTrialBalance,
  PAYMENT_PENDING_TIMEOUT_MS,
  reconcilePayments,
  startTicketPayment,
  walletBalance,
  accountBalance,
  dispatchOutbox,
  refundDuplicatePayment,
  settlePayout,
} from '@relais/core';
import { buildOutboxConsumers } from '@relais/workers';
import { outbox, paymentAttempts, payments, paymentSplits, paymentWebhookEvents } from '@relais/db';
import { signHs256Jwt, startCampaySimulator, type CampaySimulator } from '@relais/sim';
import { build } from '../../server/src/app.js';
import type { Services } from '../../server/src/services.js';
import { eventually, freePort } from '../support/relais-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';
import { createPricedTicket } from '../support/ticket-fixtures.js';
import { steppedClock } from '../support/stepped-clock.js';

describe('payment lifecycle: CamPay simulator over HTTP, real database, webhook route, jobs', () => {
  let sim: CampaySimulator;
  let services: Services;
  let app: FastifyInstance;
  let port: number;
  let tenantId: string;
  const clock = steppedClock();
  const deps = () => ({ db: services.db, gateways: services.gateways, clock });
  const MTN_PHONE = '+237 6 70 00 00 01';

  beforeAll(async () => {
    port = await freePort();
    sim = await startCampaySimulator({
      callbackUrl: `http://127.0.0.1:${port}/webhooks/campay/platform`,
      callbackMethod: 'POST',
      balance: { mtn: 10_000_000, orange: 10_000_000 }, // for refunds
    });
    services = await createTestServices(await createTestDatabase(), {
      clock,
      campay: { baseUrl: sim.url, credentials: { kind: 'login', username: sim.credentials.username, password: sim.credentials.password }, webhookKey: sim.webhookKey },
    });
    app = await build(services, { adminWebBuildDirectory: false });
    await app.listen({ host: '127.0.0.1', port });
    tenantId = (await createTenant({ db: services.db, clock }, { name: 'Wifi Zone Akwa', email: 'akwa-pay@example.cm', mode: 'commission' })).tenant.id;
  });
  afterEach(async () => {
    sim.setFaults({ drop: false, duplicate: 1, reorder: false, delayMs: 0, latencyMs: 0, failNext: null });
    await sim.settled();
    // Money is never created or lost: every journal entry balances.
    expect(await services.db.withPlatform((tx) => ledgerTrialBalance(tx))).toBe(0);
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    await sim?.close();
  });

  const paymentRow = (paymentId: string) => services.db.withPlatform(async (tx) => (await tx.select().from(payments).where(eq(payments.id, paymentId)))[0]!);
  const outboxTopics = (ticketId: string) =>
    services.db.withTenant(tenantId, async (tx) =>
      (await tx.select({ topic: outbox.topic, payload: outbox.payload }).from(outbox)).filter((row) => (row.payload as { ticketId?: string }).ticketId === ticketId).map((row) => row.topic),
    );
  const journalsOf = (paymentId: string) =>
    services.db.withPlatform(async (tx) => (await tx.select().from(paymentSplits).where(eq(paymentSplits.paymentId, paymentId))).length);
  const settledPayment = (paymentId: string, status: string) =>
    eventually(async () => {
      const row = await paymentRow(paymentId);
      return row.status === status ? row : undefined;
    }, 20_000, `payment ${paymentId} ${status}`);

  it('pushes a USSD request, and a signed callback fulfils the ticket: 90/10 ledger, attempt paid, "ticket.paid" in the outbox', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId, 500);
    const walletBefore = await services.db.withPlatform((tx) => walletBalance(tx, tenantId));
    const started = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
    expect(started).toMatchObject({ status: 'pending', ussdCode: '*126#', operator: 'MTN', amountXaf: 500, attemptNumber: 1, gatewayDelayed: false });

    const payment = await paymentRow(started.paymentId);
    await sim.approve(payment.gatewayReference!);
    await settledPayment(started.paymentId, 'successful');

    const attempt = await services.db.withTenant(tenantId, async (tx) => (await tx.select().from(paymentAttempts).where(eq(paymentAttempts.id, started.attemptId)))[0]!);
    expect(attempt.status).toBe('successful');
    expect(await outboxTopics(ticketId)).toEqual(['ticket.paid']);
    expect(await services.db.withPlatform((tx) => walletBalance(tx, tenantId))).toBe(walletBefore + 450);
    expect(await journalsOf(started.paymentId)).toBe(3);
  });

  it('fulfils once when the same SUCCESSFUL callback arrives 50 times at once', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId, 1_000);
    const started = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
    const reference = (await paymentRow(started.paymentId)).gatewayReference!;
    sim.setFaults({ duplicate: 50 });
    await sim.approve(reference);
    await sim.settled();
    await settledPayment(started.paymentId, 'successful');
    const deliveries = sim.callbacks().filter((c) => c.reference === reference);
    expect(deliveries).toHaveLength(50);
    expect(deliveries.every((c) => c.outcome === 'sent' && c.status === 200)).toBe(true);
    await eventually(async () => ((await outboxTopics(ticketId)).length === 1 ? true : undefined), 10_000, 'outbox');
    expect(await outboxTopics(ticketId)).toEqual(['ticket.paid']);
    expect(await journalsOf(started.paymentId)).toBe(3);
    const events = await services.db.withPlatform((tx) => tx.select().from(paymentWebhookEvents).where(eq(paymentWebhookEvents.gatewayReference, reference)));
    expect(events).toHaveLength(1);
  });

  it('fulfils once when 50 confirmations race on separate connections', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId, 700);
    sim.setFaults({ drop: true });
    const started = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
    const reference = (await paymentRow(started.paymentId)).gatewayReference!;
    await sim.approve(reference);
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => confirmPayment(deps(), { gatewayAppId: 'platform', gatewayReference: reference })));
    expect(outcomes.filter((o) => o === 'fulfilled')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'already_fulfilled')).toHaveLength(49);
    expect(await outboxTopics(ticketId)).toEqual(['ticket.paid']);
    expect(await journalsOf(started.paymentId)).toBe(3);
  });

  it('fulfils nothing when a callback says SUCCESSFUL but CamPay says FAILED', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId);
    sim.setFaults({ drop: true });
    const started = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
    const payment = await paymentRow(started.paymentId);
    await sim.decline(payment.gatewayReference!);
    const forged = { status: 'SUCCESSFUL', reference: payment.gatewayReference!, amount: '500', currency: 'XAF', external_reference: payment.externalReference };
    const response = await fetch(`http://127.0.0.1:${port}/webhooks/campay/platform`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...forged, signature: signHs256Jwt({ ...forged, iat: Math.floor(Date.now() / 1000) }, sim.webhookKey) }),
    });
    expect(response.status).toBe(200);
    await settledPayment(started.paymentId, 'failed');
    expect(await outboxTopics(ticketId)).toEqual(['payment.failed']);
    expect(await journalsOf(started.paymentId)).toBe(0);
  });

  it('lets the reconciler fulfil a payment whose callback never arrives', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId);
    sim.setFaults({ drop: true });
    const started = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
    await sim.approve((await paymentRow(started.paymentId)).gatewayReference!);
    const report = await reconcilePayments(deps());
    expect(report.outcomes.fulfilled).toBe(1);
    expect((await paymentRow(started.paymentId)).status).toBe('successful');
    expect(await outboxTopics(ticketId)).toEqual(['ticket.paid']);
  });

  it('ends right when a stale FAILED callback arrives before the SUCCESSFUL one', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId);
    sim.setFaults({ reorder: true });
    const started = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
    const payment = await paymentRow(started.paymentId);
    await sim.approve(payment.gatewayReference!);
    const stale = { status: 'FAILED', reference: payment.gatewayReference!, external_reference: payment.externalReference };
    await fetch(`http://127.0.0.1:${port}/webhooks/campay/platform?${new URLSearchParams({ ...stale, signature: signHs256Jwt({ ...stale, iat: Math.floor(Date.now() / 1000) }, sim.webhookKey) })}`);
    expect(await sim.flushCallbacks()).toBe(1);
    await settledPayment(started.paymentId, 'successful');
    expect(await outboxTopics(ticketId)).toEqual(['ticket.paid']);
  });

  it('expires a payment left PENDING past 5 minutes, then honours a late success', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId);
    sim.setFaults({ drop: true });
    const started = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
    clock.advance(PAYMENT_PENDING_TIMEOUT_MS + 1_000);
    try {
      const report = await reconcilePayments(deps());
      expect(report.outcomes.expired).toBeGreaterThanOrEqual(1);
      expect((await paymentRow(started.paymentId)).status).toBe('expired');
      await sim.approve((await paymentRow(started.paymentId)).gatewayReference!);
      expect(await confirmPayment(deps(), { gatewayAppId: 'platform', paymentId: started.paymentId })).toBe('late_success_fulfilled');
      expect(await outboxTopics(ticketId)).toEqual(['payment.expired', 'ticket.paid']);
    } finally {
      clock.advance(-(PAYMENT_PENDING_TIMEOUT_MS + 1_000));
    }
  });

  it('refunds the payer when a late success pays a ticket a second time, leaving the books as after one payment', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId, 1_000);
    sim.setFaults({ drop: true });
    const books = () =>
      services.db.withPlatform(async (tx) => ({
        wallet: await walletBalance(tx, tenantId),
        revenue: await accountBalance(tx, 'platform_revenue'),
        held: await accountBalance(tx, 'payouts'),
      }));
    const before = await books();
    const first = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
    clock.advance(PAYMENT_PENDING_TIMEOUT_MS + 1_000);
    try {
      await reconcilePayments(deps());
      expect((await paymentRow(first.paymentId)).status).toBe('expired');
      const second = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
      await sim.approve((await paymentRow(second.paymentId)).gatewayReference!);
      expect(await confirmPayment(deps(), { gatewayAppId: 'platform', paymentId: second.paymentId })).toBe('fulfilled');
      // The customer confirmed the first push after all.
      await sim.approve((await paymentRow(first.paymentId)).gatewayReference!);
      expect(await confirmPayment(deps(), { gatewayAppId: 'platform', paymentId: first.paymentId })).toBe('duplicate_success_refund_required');

      const consumers = buildOutboxConsumers({ ...deps(), logger: services.logger, fileStore: services.fileStore, secrets: services.secrets, routerClient: services.routerClient, senderFor: () => undefined });
      expect((await dispatchOutbox({ db: services.db, clock, consumers }, { tenantId })).delivered).toBeGreaterThanOrEqual(1);
      const refund = await services.db.withPlatform(async (tx) => (await tx.select().from(payments).where(eq(payments.externalReference, `refund:${first.paymentId}`)))[0]!);
      expect(refund).toMatchObject({ kind: 'refund', amountXaf: 1_000, phone: '+237670000001', status: 'pending' });
      // Delivering the same message again never refunds twice.
      expect(await refundDuplicatePayment(deps(), { paymentId: first.paymentId })).toBe('already_refunded');

      await sim.approve(refund.gatewayReference!);
      expect(await settlePayout(deps(), { paymentId: refund.id })).toBe('succeeded');
      const after = await books();
      expect(after).toEqual({ wallet: before.wallet + 900, revenue: before.revenue - 100, held: 0 });
      expect(await outboxTopics(ticketId)).toEqual(['payment.expired', 'ticket.paid', 'payment.refund_required']);
    } finally {
      clock.advance(-(PAYMENT_PENDING_TIMEOUT_MS + 1_000));
    }
  });

  it('fulfils one and refunds the other when two attempts of one ticket are confirmed at the same time', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId, 600);
    sim.setFaults({ drop: true });
    const first = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
    clock.advance(PAYMENT_PENDING_TIMEOUT_MS + 1_000); // the first looks expired to the customer, not yet to us
    try {
      const second = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
      for (const id of [first.paymentId, second.paymentId]) await sim.approve((await paymentRow(id)).gatewayReference!);
      const outcomes = await Promise.all(
        [first.paymentId, second.paymentId, first.paymentId, second.paymentId].map((paymentId) => confirmPayment(deps(), { gatewayAppId: 'platform', paymentId })),
      );
      expect(outcomes.filter((o) => o === 'fulfilled' || o === 'late_success_fulfilled')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'duplicate_success_refund_required')).toHaveLength(1);
      expect((await outboxTopics(ticketId)).sort()).toEqual(['payment.refund_required', 'ticket.paid']);
    } finally {
      clock.advance(-(PAYMENT_PENDING_TIMEOUT_MS + 1_000));
    }
  });

  it('never has two collect requests in flight for one payment, however many reconcilers run', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId);
    sim.setFaults({ drop: true, failNext: { status: 503, body: { message: 'maintenance' } } });
    const started = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
    const { externalReference } = await paymentRow(started.paymentId);
    const collectRequests = () => sim.requests().filter((r) => r.path === '/api/collect/').length;
    const before = collectRequests();
    clock.advance(11_000);
    try {
      const reports = await Promise.all(Array.from({ length: 5 }, () => reconcilePayments(deps())));
      expect(reports.reduce((n, r) => n + (r.outcomes.collect_requested ?? 0), 0)).toBe(1);
      expect(collectRequests()).toBe(before + 1);
      expect(sim.transactions().filter((t) => t.external_reference === externalReference)).toHaveLength(1);
    } finally {
      clock.advance(-11_000);
    }
  });

  it('finds a late success whose callback was lost, by watching expired payments', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId);
    sim.setFaults({ drop: true });
    const started = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
    clock.advance(PAYMENT_PENDING_TIMEOUT_MS + 1_000);
    try {
      await reconcilePayments(deps());
      expect((await paymentRow(started.paymentId)).status).toBe('expired');
      clock.advance(11 * 60_000);
      await reconcilePayments(deps()); // still PENDING at CamPay: looked at, and watched again later
      expect((await paymentRow(started.paymentId)).nextCheckAt.getTime()).toBeGreaterThan(clock.now().getTime() + 9 * 60_000);
      await sim.approve((await paymentRow(started.paymentId)).gatewayReference!);
      await reconcilePayments(deps());
      expect((await paymentRow(started.paymentId)).status).toBe('expired'); // not before its next look
      clock.advance(11 * 60_000);
      expect((await reconcilePayments(deps())).outcomes.late_success_fulfilled).toBeGreaterThanOrEqual(1);
      expect((await paymentRow(started.paymentId)).status).toBe('successful');
      expect(await outboxTopics(ticketId)).toEqual(['payment.expired', 'ticket.paid']);
    } finally {
      clock.advance(-(PAYMENT_PENDING_TIMEOUT_MS + 1_000 + 22 * 60_000));
    }
  });

  it('keeps a payment PENDING when CamPay is unreachable and asks again later', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId);
    sim.setFaults({ drop: true, failNext: { status: 503, body: { message: 'maintenance' } } });
    const started = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
    expect(started).toMatchObject({ status: 'pending', gatewayDelayed: true });
    expect((await paymentRow(started.paymentId)).gatewayReference).toBeNull();
    expect((await reconcilePayments(deps())).outcomes.collect_requested).toBeUndefined(); // not before the retry delay
    clock.advance(11_000);
    const report = await reconcilePayments(deps()).finally(() => clock.advance(-11_000));
    expect(report.outcomes.collect_requested).toBe(1);
    const payment = await paymentRow(started.paymentId);
    expect(payment.gatewayReference).toBeTruthy();
    expect(payment.ussdCode).toBe('*126#');
  });

  it('refuses numbers that are not Cameroonian MTN/Orange before calling CamPay', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId);
    const before = sim.requests().length;
    for (const [phone, code] of [
      ['+33 6 12 34 56 78', 'PAYMENT_PHONE_INVALID'],
      ['12345', 'PAYMENT_PHONE_INVALID'],
      ['+237 6 66 00 00 00', 'PAYMENT_OPERATOR_UNSUPPORTED'],
    ] as const) {
      const error = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: phone }).catch((e: unknown) => e);
      expect((error as AppError).code).toBe(code);
    }
    expect(sim.requests().length).toBe(before);
    const attempts = await services.db.withTenant(tenantId, (tx) => tx.select({ n: count() }).from(paymentAttempts).where(eq(paymentAttempts.ticketId, ticketId)));
    expect(attempts[0]!.n).toBe(0);
  });

  it('allows three attempts per ticket, and returns the pending one instead of pushing twice', async () => {
    const { ticketId } = await createPricedTicket(services.db, tenantId);
    sim.setFaults({ drop: true });
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const started = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
      expect(started.attemptNumber).toBe(attempt);
      const again = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE });
      expect(again.attemptId).toBe(started.attemptId);
      await sim.decline((await paymentRow(started.paymentId)).gatewayReference!);
      expect(await confirmPayment(deps(), { gatewayAppId: 'platform', paymentId: started.paymentId })).toBe('failed');
    }
    const error = await startTicketPayment(deps(), { tenantId, ticketId, payerPhone: MTN_PHONE }).catch((e: unknown) => e);
    expect((error as AppError).code).toBe('PAYMENT_RETRIES_EXHAUSTED');
  });

  describe('webhook endpoint', () => {
    const post = (body: Record<string, unknown>) =>
      fetch(`http://127.0.0.1:${port}/webhooks/campay/platform`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const claims = { status: 'SUCCESSFUL', reference: 'unknown-ref-1', amount: '500', currency: 'XAF', external_reference: 'nobody' };
    const eventCount = (reference: string) =>
      services.db.withPlatform(async (tx) => (await tx.select({ n: count() }).from(paymentWebhookEvents).where(eq(paymentWebhookEvents.gatewayReference, reference)))[0]!.n);

    it('answers 401 to bad signatures, other algorithms and "none", storing nothing and saying nothing', async () => {
      const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
      for (const signature of [signHs256Jwt(claims, 'not-the-webhook-key'), none, 'garbage', `${signHs256Jwt(claims, sim.webhookKey)}x`]) {
        const response = await post({ ...claims, signature });
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'invalid signature' } });
      }
      expect(await eventCount('unknown-ref-1')).toBe(0);
    });

    it('answers 400 to malformed callbacks and 404 to unknown apps', async () => {
      expect((await post({ reference: 'x' })).status).toBe(400);
      const response = await fetch(`http://127.0.0.1:${port}/webhooks/campay/not-an-app?status=SUCCESSFUL&reference=x&signature=y`);
      expect(response.status).toBe(404);
    });

    it('records an unknown reference and answers 200; a replay is stored once', async () => {
      const signed = { ...claims, reference: 'unknown-ref-2', signature: signHs256Jwt({ ...claims, reference: 'unknown-ref-2' }, sim.webhookKey) };
      expect((await post(signed)).status).toBe(200);
      const replay = await post(signed);
      expect(replay.status).toBe(200);
      expect(await replay.json()).toEqual({ received: true, duplicate: true });
      expect(await eventCount('unknown-ref-2')).toBe(1);
      await eventually(async () => {
        const [event] = await services.db.withPlatform((tx) => tx.select().from(paymentWebhookEvents).where(and(eq(paymentWebhookEvents.gatewayReference, 'unknown-ref-2'))));
        return event?.outcome === 'unknown_reference' ? true : undefined;
      }, 10_000, 'unknown reference recorded');
    });
  });

});
