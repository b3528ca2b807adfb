import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, createTenant, dispatchOutbox, OUTBOX_MAX_ATTEMPTS, startTicketPayment, systemClock, writeToOutbox, type OutboxDelivery } from '@relais/core';
import { outbox, type Database } from '@relais/db';
import { startCampaySimulator } from '@relais/sim';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';
import { createPricedTicket } from '../support/ticket-fixtures.js';
import { steppedClock } from '../support/stepped-clock.js';

describe('outbox dispatch', () => {
  let test: TestDatabase;
  let db: Database;
  let tenantId: string;

  beforeAll(async () => {
    test = await createTestDatabase();
    db = test.db;
    tenantId = (await createTenant({ db, clock: systemClock }, { name: 'Outbox Test', email: 'outbox@example.cm', mode: 'commission' })).tenant.id;
  });
  afterAll(async () => test?.drop());

  const write = (topic: string, key: string) => db.withTenant(tenantId, (tx) => writeToOutbox(tx, tenantId, { topic, dedupeKey: key, payload: { key } }));
  const statusOf = async (key: string) => (await db.withTenant(tenantId, (tx) => tx.select().from(outbox).where(eq(outbox.dedupeKey, key))))[0]!;

  it('delivers each message once, in order, and records a duplicate write once', async () => {
    expect(await write('test.a', 'a-1')).toBe(true);
    expect(await write('test.a', 'a-1')).toBe(false);
    await write('test.a', 'a-2');
    const seen: string[] = [];
    const consumers = { 'test.a': async (d: OutboxDelivery) => void seen.push(String(d.payload.key)) };
    expect(await dispatchOutbox({ db, clock: systemClock, consumers }, { tenantId })).toEqual({ delivered: 2, retried: 0, dead: 0 });
    expect(await dispatchOutbox({ db, clock: systemClock, consumers }, { tenantId })).toEqual({ delivered: 0, retried: 0, dead: 0 });
    expect(seen).toEqual(['a-1', 'a-2']);
    expect((await statusOf('a-1')).status).toBe('sent');
  });

  it('leaves topics without a consumer pending', async () => {
    await write('test.nobody', 'n-1');
    await dispatchOutbox({ db, clock: systemClock, consumers: { 'test.other': async () => {} } }, { tenantId });
    expect((await statusOf('n-1')).status).toBe('pending');
  });

  it('retries a failing consumer with backoff, then marks the message dead', async () => {
    const clock = steppedClock();
    await write('test.fail', 'f-1');
    let calls = 0;
    const consumers = {
      'test.fail': async () => {
        calls += 1;
        throw new Error('provider said no\nwith a long body');
      },
    };
    for (let attempt = 1; attempt <= OUTBOX_MAX_ATTEMPTS; attempt += 1) {
      const report = await dispatchOutbox({ db, clock, consumers }, { tenantId });
      expect(report).toEqual(attempt < OUTBOX_MAX_ATTEMPTS ? { delivered: 0, retried: 1, dead: 0 } : { delivered: 0, retried: 0, dead: 1 });
      // Not due again until the backoff has passed.
      expect((await dispatchOutbox({ db, clock, consumers }, { tenantId })).retried).toBe(0);
      clock.advance(60 * 60_000);
    }
    expect(calls).toBe(OUTBOX_MAX_ATTEMPTS);
    expect(await statusOf('f-1')).toMatchObject({ status: 'dead', attempts: OUTBOX_MAX_ATTEMPTS, lastError: 'Error: provider said no' });
  });

  it('marks a message dead at once when its consumer refuses it for good (non-retryable AppError)', async () => {
    await write('test.refused', 'r-1');
    let calls = 0;
    const consumers = {
      'test.refused': async () => {
        calls += 1;
        throw new AppError('VALIDATION_FAILED', 'this can never work');
      },
    };
    expect(await dispatchOutbox({ db, clock: systemClock, consumers }, { tenantId })).toEqual({ delivered: 0, retried: 0, dead: 1 });
    expect(await statusOf('r-1')).toMatchObject({ status: 'dead', attempts: 1, lastError: 'AppError: this can never work' });
    expect(calls).toBe(1);
  });

  it('delivers each message once when several dispatchers run at the same time', async () => {
    for (let i = 0; i < 30; i += 1) await write('test.concurrent', `c-${i}`);
    const seen: string[] = [];
    const consumers = {
      'test.concurrent': async (d: OutboxDelivery) => {
        seen.push(d.id);
        await new Promise((resolve) => setTimeout(resolve, 2));
      },
    };
    const reports = await Promise.all(Array.from({ length: 5 }, () => dispatchOutbox({ db, clock: systemClock, consumers }, { tenantId })));
    expect(reports.reduce((sum, r) => sum + r.delivered, 0)).toBe(30);
    expect(new Set(seen).size).toBe(30);
    expect(seen).toHaveLength(30);
  });

  it('delivers again after a lease runs out (the dispatching process died mid-delivery)', async () => {
    const clock = steppedClock();
    await write('test.lease', 'l-1');
    const seen: number[] = [];
    // First dispatcher "dies": its consumer never returns.
    void dispatchOutbox({ db, clock, consumers: { 'test.lease': (d) => (seen.push(d.attempt), new Promise<void>(() => {})) } }, { tenantId, limit: 1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await dispatchOutbox({ db, clock, consumers: { 'test.lease': async (d) => void seen.push(d.attempt) } }, { tenantId })).toMatchObject({ delivered: 0 });
    clock.advance(61_000);
    expect(await dispatchOutbox({ db, clock, consumers: { 'test.lease': async (d) => void seen.push(d.attempt) } }, { tenantId })).toMatchObject({ delivered: 1 });
    expect(seen).toEqual([1, 2]);
  });
});

// A real kill needs two processes on one database: PostgreSQL (PGlite holds its directory alone).
describe.runIf(testDrivers().includes('postgres'))('outbox after a crash between commit and delivery', () => {
  let receiver: Server;
  const received: string[] = [];
  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push(body);
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it('delivers the fulfilled payment\'s message exactly once after the process was killed', async () => {
    const sim = await startCampaySimulator({});
    const campay = { baseUrl: sim.url, credentials: { kind: 'token' as const, token: sim.credentials.permanentToken }, webhookKey: sim.webhookKey };
    const testDb = await createTestDatabase('postgres');
    const services = await createTestServices(testDb, { campay, startJobs: false });
    try {
      const tenantId = (await createTenant({ db: services.db, clock: systemClock }, { name: 'Crash Test', email: 'crash@example.cm' })).tenant.id;
      const { ticketId } = await createPricedTicket(services.db, tenantId, 500);
      const started = await startTicketPayment(services, { tenantId, ticketId, payerPhone: '+237670000009' });
      const reference = sim.transactions().find((t) => t.amount === 500 && t.status === 'PENDING')!.reference;
      await sim.approve(reference);

      // A separate process fulfils the payment, commits, and is killed before any delivery.
      const child = spawn(process.execPath, ['--import', 'tsx', new URL('../support/fulfil-then-die.ts', import.meta.url).pathname], {
        env: { ...process.env, CRASH_DATABASE_URL: (testDb.config as { url: string }).url, CRASH_CAMPAY: JSON.stringify(campay), CRASH_PAYMENT_ID: started.paymentId },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      expect(signal).toBe('SIGKILL');

      const rows = await services.db.withTenant(tenantId, (tx) => tx.select().from(outbox).where(eq(outbox.topic, 'ticket.paid')));
      expect(rows).toHaveLength(1);
      expect(rows[0]!.status).toBe('pending');

      // "After restart": a dispatcher delivers it once, and never again.
      const consumers = {
        'ticket.paid': async (d: OutboxDelivery) => {
          const response = await fetch(`http://127.0.0.1:${(receiver.address() as { port: number }).port}/`, { method: 'POST', body: JSON.stringify({ id: d.id, ticketId: d.payload.ticketId }) });
          if (!response.ok) throw new Error(`receiver answered ${response.status}`);
        },
      };
      expect(await dispatchOutbox({ db: services.db, clock: systemClock, consumers }, { tenantId })).toMatchObject({ delivered: 1 });
      expect(await dispatchOutbox({ db: services.db, clock: systemClock, consumers }, { tenantId })).toMatchObject({ delivered: 0 });
      expect(received.map((body) => JSON.parse(body).ticketId)).toEqual([ticketId]);
    } finally {
      await services.close();
      await sim.close();
    }
  });
});
