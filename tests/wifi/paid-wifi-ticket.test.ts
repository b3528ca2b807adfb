import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, generateVouchers, ledgerTrialBalance, startTicketPayment } from '@relais/core';
import { outbox, payments, tickets, wifiVouchers } from '@relais/db';
import { JOB_SCHEDULES } from '@relais/workers';
import { startCampaySimulator, type CampaySimulator } from '@relais/sim';
import { build } from '../../server/src/app.js';
import type { Services } from '../../server/src/services.js';
import { eventually, freePort } from '../support/relais-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';
import { createPricedTicket } from '../support/ticket-fixtures.js';
import { insertWifiPackage } from '../support/wifi-fixtures.js';

// The whole purchase with real parts: CamPay simulator over HTTP, webhook route, confirm job,
// outbox dispatcher job, "ticket.paid" consumer, voucher claim.
describe('buying WiFi: payment confirmed -> voucher claimed -> ready for delivery -> ticket resolved', () => {
  let sim: CampaySimulator;
  let services: Services;
  let app: FastifyInstance;
  let tenantId: string;
  let packageId: string;

  beforeAll(async () => {
    const port = await freePort();
    sim = await startCampaySimulator({ callbackUrl: `http://127.0.0.1:${port}/webhooks/campay/platform`, callbackMethod: 'POST', balance: { mtn: 10_000_000, orange: 10_000_000 } });
    services = await createTestServices(await createTestDatabase(), {
      campay: { baseUrl: sim.url, credentials: { kind: 'login', username: sim.credentials.username, password: sim.credentials.password }, webhookKey: sim.webhookKey },
    });
    app = await build(services, { adminWebBuildDirectory: false });
    await app.listen({ host: '127.0.0.1', port });
    // The outbox dispatcher as `relais serve` schedules it, but every second.
    const dispatch = JOB_SCHEDULES.find((schedule) => schedule.scheduleId === 'outbox-dispatch')!;
    await services.jobs.schedule(dispatch.name, '* * * * * *', { scheduleId: dispatch.scheduleId });
    tenantId = (await createTenant({ db: services.db, clock: services.clock }, { name: 'Wifi Zone Deido', email: 'deido@example.cm', mode: 'commission' })).tenant.id;
    packageId = (await insertWifiPackage(services.db, tenantId)).id;
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    await sim?.close();
  });

  const outboxOf = (ticketId: string) =>
    services.db.withTenant(tenantId, async (tx) => (await tx.select().from(outbox)).filter((row) => (row.payload as { ticketId?: string }).ticketId === ticketId));

  async function pay(ticketId: string): Promise<string> {
    const started = await startTicketPayment({ db: services.db, gateways: services.gateways, clock: services.clock }, { tenantId, ticketId, payerPhone: '+237670000009' });
    const [payment] = await services.db.withPlatform((tx) => tx.select().from(payments).where(eq(payments.id, started.paymentId)));
    await sim.approve(payment!.gatewayReference!);
    return started.paymentId;
  }

  it('hands the paid ticket one voucher, asks for its delivery and resolves the ticket', async () => {
    await generateVouchers({ db: services.db }, { tenantId, packageId, count: 3 });
    const { ticketId } = await createPricedTicket(services.db, tenantId, 500, packageId);
    await pay(ticketId);

    const ready = await eventually(async () => (await outboxOf(ticketId)).find((row) => row.topic === 'wifi.voucher_ready'), 30_000, 'wifi.voucher_ready');
    const [voucher] = await services.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.ticketId, ticketId))));
    expect(voucher).toMatchObject({ status: 'sold', packageId });
    expect(ready.payload).toMatchObject({ ticketId, voucherId: voucher!.id });
    // Ids only: the code and password are read when the message is sent.
    expect(JSON.stringify(ready.payload)).not.toContain(voucher!.password);
    const [ticket] = await services.db.withTenant(tenantId, (tx) => tx.select().from(tickets).where(eq(tickets.id, ticketId)));
    expect(ticket!.status).toBe('resolved');
    expect(await services.db.withPlatform((tx) => ledgerTrialBalance(tx))).toBe(0);
  });

  it('out of stock: the customer is told, the payment is refunded through the outbox, no voucher is handed out', async () => {
    const emptyPackage = await insertWifiPackage(services.db, tenantId, { nameFr: 'Semaine', nameEn: 'Week' });
    const { ticketId } = await createPricedTicket(services.db, tenantId, 1_000, emptyPackage.id);
    const paymentId = await pay(ticketId);

    const topics = await eventually(async () => {
      const rows = await outboxOf(ticketId);
      return rows.some((row) => row.topic === 'wifi.out_of_stock') && rows.some((row) => row.topic === 'payment.refund_required') ? rows.map((row) => row.topic) : undefined;
    }, 30_000, 'out of stock recorded');
    expect(topics).not.toContain('wifi.voucher_ready');
    const refund = await eventually(
      async () => (await services.db.withPlatform((tx) => tx.select().from(payments).where(eq(payments.externalReference, `refund:${paymentId}`))))[0],
      30_000,
      'refund payout',
    );
    expect(refund).toMatchObject({ kind: 'refund', amountXaf: 1_000 });
    const handedOut = await services.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.ticketId, ticketId))));
    expect(handedOut).toEqual([]);
  });
});
