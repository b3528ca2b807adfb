import { and, desc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { paymentAttempts, payments, tickets } from '@relais/db';
import { startCampaySimulator, type CampaySimulator } from '@relais/sim';
import { JOB_SCHEDULES } from '@relais/workers';
import { build } from '../../server/src/app.js';
import type { Services } from '../../server/src/services.js';
import { eventually, freePort } from './relais-process.js';
import { createTestDatabase } from './test-database.js';
import { createTestServices } from './test-services.js';

export interface PurchaseHarness {
  campay: CampaySimulator;
  services: Services;
  app: FastifyInstance;
  /** http://127.0.0.1:<port>, where the app listens (provider simulators call it). */
  base: string;
  close(): Promise<void>;
}

/**
 * What end-to-end purchase tests run against: the real app listening on a port, the CamPay
 * simulator calling its webhook, a fresh test database, and the outbox dispatcher and message
 * delivery jobs scheduled every second (as `relais serve` schedules them, faster).
 */
export async function startPurchaseHarness(options: { telegramApiRoot?: string } = {}): Promise<PurchaseHarness> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const campay = await startCampaySimulator({ callbackUrl: `${base}/webhooks/campay/platform`, callbackMethod: 'POST', balance: { mtn: 10_000_000, orange: 10_000_000 } });
  const services = await createTestServices(await createTestDatabase(), {
    campay: { baseUrl: campay.url, credentials: { kind: 'login', username: campay.credentials.username, password: campay.credentials.password }, webhookKey: campay.webhookKey },
    telegramApiRoot: options.telegramApiRoot,
  });
  const app = await build(services, { adminWebBuildDirectory: false });
  await app.listen({ host: '127.0.0.1', port });
  for (const scheduleId of ['outbox-dispatch', 'messages-deliver']) {
    const schedule = JOB_SCHEDULES.find((candidate) => candidate.scheduleId === scheduleId)!;
    await services.jobs.schedule(schedule.name, '* * * * * *', { scheduleId: schedule.scheduleId });
  }
  return {
    campay,
    services,
    app,
    base,
    async close() {
      await app.close();
      await services.close();
      await campay.close();
    },
  };
}

/** The tenant's newest ticket (the one a conversation just opened). */
export async function latestTicket(services: Services, tenantId: string) {
  const [ticket] = await services.db.withTenant(tenantId, (tx) => tx.select().from(tickets).where(eq(tickets.tenantId, tenantId)).orderBy(desc(tickets.number)).limit(1));
  return ticket!;
}

/** CamPay's reference of a ticket's payment attempt number `attemptNumber`, once the push was made. */
export async function gatewayReferenceOf(services: Services, tenantId: string, ticketId: string, attemptNumber = 1): Promise<string> {
  return eventually(
    async () => {
      const [attempt] = await services.db.withTenant(tenantId, (tx) =>
        tx.select().from(paymentAttempts).where(and(eq(paymentAttempts.tenantId, tenantId), eq(paymentAttempts.ticketId, ticketId))).orderBy(desc(paymentAttempts.attemptNumber)).limit(1),
      );
      if (attempt?.attemptNumber !== attemptNumber) return undefined;
      const [payment] = await services.db.withPlatform((tx) => tx.select().from(payments).where(eq(payments.externalReference, attempt.externalReference)));
      return payment?.gatewayReference ?? undefined;
    },
    30_000,
    `gateway reference of attempt ${attemptNumber}`,
  );
}
