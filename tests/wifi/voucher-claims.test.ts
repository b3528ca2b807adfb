import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, claimVoucherForTicket, generateVouchers, updatePackage, type ClaimedVoucher } from '@relais/core';
import { notifications, openDatabase, outbox, wifiVouchers, type Database } from '@relais/db';
import { errorOf } from '../support/app-error-of.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/test-database.js';
import { createPaidWifiTickets, createStockedPackage, createWifiTenant } from './wifi-claim-fixtures.js';

const clock = { now: () => new Date() };

describe.each(testDrivers())('claiming vouchers for paid tickets on %s', (driver) => {
  let test: TestDatabase;
  let tenantId: string;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    tenantId = await createWifiTenant(test.db, 'claim');
  });
  afterAll(async () => test?.drop());

  const deps = () => ({ db: test.db, clock });
  const outboxOf = (topic: string) =>
    test.db.withTenant(tenantId, (tx) => tx.select().from(outbox).where(and(eq(outbox.tenantId, tenantId), eq(outbox.topic, topic))));
  const notificationsOf = (kind: string) =>
    test.db.withTenant(tenantId, (tx) => tx.select().from(notifications).where(and(eq(notifications.tenantId, tenantId), eq(notifications.kind, kind))));

  it('hands the oldest available voucher to a paid ticket, and the same one again on a repeated claim', async () => {
    const packageId = await createStockedPackage(test.db, tenantId, { stock: 3 });
    const [oldest] = await test.db.withTenant(tenantId, (tx) =>
      tx.select().from(wifiVouchers).where(eq(wifiVouchers.packageId, packageId)).orderBy(wifiVouchers.createdAt, wifiVouchers.id).limit(1),
    );
    const [ticketId] = await createPaidWifiTickets(test.db, tenantId, packageId, 1);
    const first = await claimVoucherForTicket(deps(), { tenantId, ticketId: ticketId! });
    expect(first).toMatchObject({ voucherId: oldest!.id, username: oldest!.username, source: 'stock', alreadyClaimed: false, onRouter: true });
    const again = await claimVoucherForTicket(deps(), { tenantId, ticketId: ticketId! });
    expect(again).toMatchObject({ voucherId: first.voucherId, username: first.username, alreadyClaimed: true });
    const [row] = await test.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(eq(wifiVouchers.id, first.voucherId)));
    expect(row).toMatchObject({ status: 'sold', ticketId });
    expect(row!.soldAt).toBeInstanceOf(Date);
  });

  it('refuses an unpaid ticket and a ticket whose category sells no package', async () => {
    const packageId = await createStockedPackage(test.db, tenantId, { stock: 1 });
    const [unpaid] = await createPaidWifiTickets(test.db, tenantId, packageId, 1, { paid: false });
    expect((await errorOf(claimVoucherForTicket(deps(), { tenantId, ticketId: unpaid! }))).code).toBe('CONFLICT');
    expect((await errorOf(claimVoucherForTicket(deps(), { tenantId, ticketId: '00000000-0000-4000-8000-000000000000' }))).code).toBe('NOT_FOUND');
  });

  it('out of stock: throws VOUCHER_OUT_OF_STOCK, records it once (alert, refund request, admin notification) however often it is retried', async () => {
    const packageId = await createStockedPackage(test.db, tenantId, { stock: 0 });
    const [ticketId] = await createPaidWifiTickets(test.db, tenantId, packageId, 1, { priceXaf: 700 });
    for (let i = 0; i < 3; i += 1) {
      const error = await errorOf(claimVoucherForTicket(deps(), { tenantId, ticketId: ticketId! }));
      expect(error.code).toBe('VOUCHER_OUT_OF_STOCK');
      expect(error.details).toEqual({ ticketId, packageId });
    }
    const alerts = (await outboxOf('wifi.out_of_stock')).filter((m) => (m.payload as { ticketId: string }).ticketId === ticketId);
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!.payload as Record<string, any>;
    expect(alert).toMatchObject({ ticketId, packageId, amountXaf: 700, refundRequested: true });
    expect(alert.customerText.fr).toContain('700 FCFA vous sera remboursé');
    expect(alert.customerText.en).toContain('Your payment of 700 FCFA will be refunded');
    const refunds = (await outboxOf('payment.refund_required')).filter((m) => (m.payload as { ticketId: string }).ticketId === ticketId);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]!.payload).toMatchObject({ paymentId: alert.paymentId, amountXaf: 700, reason: 'voucher_out_of_stock' });
    expect(refunds[0]!.dedupeKey).toBe(`payment-refund:${alert.paymentId}`);
    const adminAlerts = (await notificationsOf('wifi.out_of_stock')).filter((n) => (n.payload as { ticketId: string }).ticketId === ticketId);
    expect(adminAlerts).toHaveLength(1);
    expect((adminAlerts[0]!.payload as { text: { fr: string; en: string } }).text.fr).toMatch(/Rupture de stock/);

    // Stock arriving later does not reach this ticket: its refund is already on its way.
    await generateVouchers({ db: test.db }, { tenantId, packageId, count: 2 });
    expect((await errorOf(claimVoucherForTicket(deps(), { tenantId, ticketId: ticketId! }))).code).toBe('VOUCHER_OUT_OF_STOCK');
  });

  it('generates a voucher on demand when the package allows it, made for the ticket (source on_demand)', async () => {
    const packageId = await createStockedPackage(test.db, tenantId, { stock: 0, package: { generateOnDemand: true } });
    const [ticketId] = await createPaidWifiTickets(test.db, tenantId, packageId, 1);
    const claimed = await claimVoucherForTicket(deps(), { tenantId, ticketId: ticketId! });
    expect(claimed).toMatchObject({ source: 'on_demand', alreadyClaimed: false, packageId });
    expect(claimed.username).toMatch(/^[abcdefghijkmnprstuvwxyz]{8}$/);
    const [row] = await test.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(eq(wifiVouchers.id, claimed.voucherId)));
    expect(row).toMatchObject({ status: 'sold', source: 'on_demand', ticketId });
    expect(await claimVoucherForTicket(deps(), { tenantId, ticketId: ticketId! })).toMatchObject({ voucherId: claimed.voucherId, alreadyClaimed: true, source: 'on_demand' });
    expect((await outboxOf('wifi.out_of_stock')).some((m) => (m.payload as { packageId: string }).packageId === packageId)).toBe(false);
  });

  it('signals low stock once per crossing of the threshold, and again after a restock', async () => {
    const packageId = await createStockedPackage(test.db, tenantId, { stock: 6, package: { lowStockThreshold: 3 } });
    const tickets = await createPaidWifiTickets(test.db, tenantId, packageId, 8);
    const lowStockOf = async () => (await outboxOf('wifi.low_stock')).filter((m) => (m.payload as { packageId: string }).packageId === packageId);
    for (const ticketId of tickets.slice(0, 2)) await claimVoucherForTicket(deps(), { tenantId, ticketId });
    expect(await lowStockOf()).toHaveLength(0); // 4 left
    await claimVoucherForTicket(deps(), { tenantId, ticketId: tickets[2]! }); // 3 left: crossing
    for (const ticketId of tickets.slice(3, 5)) await claimVoucherForTicket(deps(), { tenantId, ticketId }); // 2, then 1 left
    const signals = await lowStockOf();
    expect(signals).toHaveLength(1);
    expect(signals[0]!.payload).toMatchObject({ available: 3, threshold: 3 });
    expect((signals[0]!.payload as { text: { fr: string } }).text.fr).toMatch(/il reste 3 codes/);
    const adminNotes = (await notificationsOf('wifi.low_stock')).filter((n) => (n.payload as { packageId: string }).packageId === packageId);
    expect(adminNotes).toHaveLength(1); // the tenant has one admin

    await generateVouchers({ db: test.db }, { tenantId, packageId, count: 4 }); // 5 left
    await claimVoucherForTicket(deps(), { tenantId, ticketId: tickets[5]! }); // 4
    await claimVoucherForTicket(deps(), { tenantId, ticketId: tickets[6]! }); // 3: crossing again
    await claimVoucherForTicket(deps(), { tenantId, ticketId: tickets[7]! }); // 2
    expect((await lowStockOf()).map((m) => (m.payload as { available: number }).available)).toEqual([3, 3]);
  });

  it("keeps tenants apart: a tenant cannot claim for another tenant's ticket, nor take another tenant's stock", async () => {
    const stockedPackage = await createStockedPackage(test.db, tenantId, { stock: 2 });
    const [ownTicket] = await createPaidWifiTickets(test.db, tenantId, stockedPackage, 1);
    const otherTenant = await createWifiTenant(test.db, 'claim-other');
    expect((await errorOf(claimVoucherForTicket(deps(), { tenantId: otherTenant, ticketId: ownTicket! }))).code).toBe('NOT_FOUND');
    const emptyPackage = await createStockedPackage(test.db, otherTenant, { stock: 0 });
    const [otherTicket] = await createPaidWifiTickets(test.db, otherTenant, emptyPackage, 1);
    expect((await errorOf(claimVoucherForTicket(deps(), { tenantId: otherTenant, ticketId: otherTicket! }))).code).toBe('VOUCHER_OUT_OF_STOCK');
    const stock = await test.db.withTenant(tenantId, (tx) =>
      tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.packageId, stockedPackage), eq(wifiVouchers.status, 'available'))),
    );
    expect(stock).toHaveLength(2);
  });

  it('an inactive package is still delivered once paid (the sale was made before it was switched off)', async () => {
    const packageId = await createStockedPackage(test.db, tenantId, { stock: 1 });
    const [ticketId] = await createPaidWifiTickets(test.db, tenantId, packageId, 1);
    await updatePackage({ db: test.db }, { tenantId, packageId, active: false });
    expect((await claimVoucherForTicket(deps(), { tenantId, ticketId: ticketId! })).source).toBe('stock');
  });

  describe.runIf(driver === 'postgres')('under real concurrency (PostgreSQL only: PGlite has a single connection, so nothing runs in parallel there)', () => {
    let wide: Database;
    const CONNECTIONS = 40;

    beforeAll(async () => {
      wide = await openDatabase({ ...(test.config as Extract<typeof test.config, { driver: 'postgres' }>), poolSize: CONNECTIONS });
    });
    afterAll(async () => wide?.close());

    it('200 concurrent claims over 100 vouchers: 100 distinct vouchers handed out, 100 clean out-of-stock outcomes', async () => {
      const packageId = await createStockedPackage(test.db, tenantId, { stock: 100 });
      const tickets = await createPaidWifiTickets(test.db, tenantId, packageId, 200);
      const outcomes = await Promise.allSettled(tickets.map((ticketId) => claimVoucherForTicket({ db: wide, clock }, { tenantId, ticketId })));
      const claimed = outcomes.filter((o): o is PromiseFulfilledResult<ClaimedVoucher> => o.status === 'fulfilled').map((o) => o.value);
      const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as unknown);
      expect(failures.filter((e) => !(e instanceof AppError) || e.code !== 'VOUCHER_OUT_OF_STOCK')).toEqual([]);
      expect(claimed).toHaveLength(100);
      expect(failures).toHaveLength(100);
      expect(new Set(claimed.map((c) => c.voucherId)).size).toBe(100);

      const sold = await test.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(eq(wifiVouchers.packageId, packageId)));
      expect(sold.every((v) => v.status === 'sold' && v.ticketId !== null)).toBe(true);
      expect(new Set(sold.map((v) => v.ticketId)).size).toBe(100);
      const outOfStock = (await outboxOf('wifi.out_of_stock')).filter((m) => (m.payload as { packageId: string }).packageId === packageId);
      expect(outOfStock).toHaveLength(100);
      const winners = new Set(claimed.map((c) => sold.find((v) => v.id === c.voucherId)!.ticketId));
      expect(outOfStock.every((m) => !winners.has((m.payload as { ticketId: string }).ticketId))).toBe(true);
      const refunds = await test.db.withTenant(tenantId, (tx) =>
        tx.select().from(outbox).where(and(eq(outbox.topic, 'payment.refund_required'), inArray(outbox.dedupeKey, outOfStock.map((m) => `payment-refund:${(m.payload as { paymentId: string }).paymentId}`)))),
      );
      expect(refunds).toHaveLength(100);

      // Retried all at once again: same vouchers back, the same 100 out of stock, nothing recorded twice.
      const retried = await Promise.allSettled(tickets.map((ticketId) => claimVoucherForTicket({ db: wide, clock }, { tenantId, ticketId })));
      const retriedVouchers = retried.filter((o): o is PromiseFulfilledResult<ClaimedVoucher> => o.status === 'fulfilled').map((o) => o.value);
      expect(retriedVouchers.every((v) => v.alreadyClaimed)).toBe(true);
      expect(new Set(retriedVouchers.map((v) => v.voucherId))).toEqual(new Set(claimed.map((c) => c.voucherId)));
      expect((await outboxOf('wifi.out_of_stock')).filter((m) => (m.payload as { packageId: string }).packageId === packageId)).toHaveLength(100);
    });

    it('50 concurrent claims of one ticket hand out one voucher', async () => {
      const packageId = await createStockedPackage(test.db, tenantId, { stock: 10 });
      const [ticketId] = await createPaidWifiTickets(test.db, tenantId, packageId, 1);
      const claims = await Promise.all(Array.from({ length: 50 }, () => claimVoucherForTicket({ db: wide, clock }, { tenantId, ticketId: ticketId! })));
      expect(new Set(claims.map((c) => c.voucherId)).size).toBe(1);
      expect(claims.filter((c) => !c.alreadyClaimed)).toHaveLength(1);
    });
  });
});
