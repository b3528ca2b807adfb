import { randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimVoucherForTicket, createPackage, createRouterOsClient, createSecretBox, dispatchOutbox, generateVouchers, pushVouchersToRouter } from '@relais/core';
import { wifiVouchers } from '@relais/db';
import { startRouterOsSimulator, type RouterOsSimulator } from '@relais/sim';
import { errorOf } from '../support/app-error-of.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { createPaidWifiTickets, createRouterRow, createWifiTenant } from './wifi-claim-fixtures.js';
import { buildOutboxConsumers } from '@relais/workers';
import pino from 'pino';

const clock = { now: () => new Date() };

describe('pushing vouchers to a router (RouterOS adapter against the RouterOS simulator over TCP)', () => {
  let test: TestDatabase;
  let sim: RouterOsSimulator;
  let tenantId: string;
  let routerId: string;
  const secrets = createSecretBox(randomBytes(32));
  const routerClient = createRouterOsClient();
  const deps = () => ({ db: test.db, routerClient, secrets });

  beforeAll(async () => {
    test = await createTestDatabase();
    sim = await startRouterOsSimulator({ hotspotServers: [{ name: 'hotspot1', dnsName: 'wifi.akwa.cm' }] });
    tenantId = await createWifiTenant(test.db, 'push');
    routerId = await createRouterRow(test.db, secrets, tenantId, {
      name: 'Akwa',
      host: sim.host,
      port: sim.port,
      username: sim.credentials.username,
      password: sim.credentials.password,
      dnsName: 'wifi.akwa.cm',
    });
  });
  afterEach(async () => sim.setFaults({ refuseConnections: false }));
  afterAll(async () => {
    await sim?.close();
    await test?.drop();
  });

  const vouchersOf = (packageId: string) =>
    test.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.packageId, packageId))));
  const newPackage = (name: string, extra: Record<string, unknown> = {}) =>
    createPackage({ db: test.db }, { tenantId, nameFr: name, nameEn: `${name} (en)`, priceXaf: 500, validityMinutes: 1_440, routerIds: [routerId], ...extra });

  it('adds each waiting voucher as a hotspot user with the package limits, and records its RouterOS id', async () => {
    const pkg = await newPackage('Jour', { mikrotikProfile: 'wifi-1d', timeLimitSeconds: 10_800, dataLimitBytes: 1_073_741_824 });
    const generated = await generateVouchers({ db: test.db }, { tenantId, packageId: pkg.id, count: 30, separatePassword: true });
    expect(await pushVouchersToRouter(deps(), { tenantId, routerId })).toEqual({ added: 30, alreadyThere: 0, failed: [] });

    for (const voucher of generated.vouchers) {
      expect(sim.findUser(voucher.username)).toMatchObject({ password: voucher.password, profile: 'wifi-1d', limitUptimeSeconds: 10_800, limitBytesTotal: 1_073_741_824 });
    }
    const rows = await vouchersOf(pkg.id);
    expect(rows.every((row) => row.pushedToRouterAt instanceof Date && row.routerUserId === sim.findUser(row.username)!.id)).toBe(true);
    expect(await pushVouchersToRouter(deps(), { tenantId, routerId })).toEqual({ added: 0, alreadyThere: 0, failed: [] });
  });

  it('after a push interrupted between the router and the database, records the users already there instead of failing', async () => {
    const pkg = await newPackage('Semaine');
    const generated = await generateVouchers({ db: test.db }, { tenantId, packageId: pkg.id, count: 5 });
    // The router got the first two, then the process died before writing that down.
    for (const voucher of generated.vouchers.slice(0, 2)) sim.addUser({ name: voucher.username, password: voucher.password, profile: 'default' });
    expect(await pushVouchersToRouter(deps(), { tenantId, routerId })).toEqual({ added: 3, alreadyThere: 2, failed: [] });
    const rows = await vouchersOf(pkg.id);
    expect(rows.every((row) => row.routerUserId === sim.findUser(row.username)!.id)).toBe(true);
  });

  it('leaves the vouchers waiting when the router refuses their profile or is unreachable', async () => {
    const pkg = await newPackage('Nuit', { mikrotikProfile: 'no-such-profile' });
    const generated = await generateVouchers({ db: test.db }, { tenantId, packageId: pkg.id, count: 3 });
    const report = await pushVouchersToRouter(deps(), { tenantId, routerId });
    expect(report).toMatchObject({ added: 0, alreadyThere: 0 });
    expect(report.failed.map((f) => [f.username, f.reason]).sort()).toEqual(generated.vouchers.map((v) => [v.username, 'unknown_profile']).sort());
    expect((await vouchersOf(pkg.id)).every((row) => row.pushedToRouterAt === null)).toBe(true);

    await sim.setFaults({ refuseConnections: true });
    const unreachable = await errorOf(pushVouchersToRouter(deps(), { tenantId, routerId }));
    expect(unreachable.code).toBe('ROUTER_UNREACHABLE');
  });

  it('a voucher generated on demand for a paid ticket reaches the router through the outbox (past vouchers the router refuses)', async () => {
    const pkg = await newPackage('Heure', { generateOnDemand: true, validityMinutes: 60 });
    const [ticketId] = await createPaidWifiTickets(test.db, tenantId, pkg.id, 1);
    const claimed = await claimVoucherForTicket({ db: test.db, clock }, { tenantId, ticketId: ticketId! });
    expect(claimed).toMatchObject({ source: 'on_demand', routerId, onRouter: false });
    expect(sim.findUser(claimed.username)).toBeUndefined();

    const consumers = buildOutboxConsumers({ db: test.db, secrets, routerClient, clock, logger: pino({ level: 'silent' }) } as Parameters<typeof buildOutboxConsumers>[0]);
    // Only the router push: the other topics (refunds) need services this test does not start.
    await dispatchOutbox({ db: test.db, clock, consumers: { 'wifi.router_push_required': consumers['wifi.router_push_required']! } }, { tenantId });
    expect(sim.findUser(claimed.username)).toMatchObject({ password: claimed.password });
    const waiting = await test.db.withTenant(tenantId, (tx) =>
      tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.id, claimed.voucherId), isNull(wifiVouchers.pushedToRouterAt))),
    );
    expect(waiting).toHaveLength(0);
    expect(await claimVoucherForTicket({ db: test.db, clock }, { tenantId, ticketId: ticketId! })).toMatchObject({ onRouter: true, alreadyClaimed: true });
  });
});
