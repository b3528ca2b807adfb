import { asc, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AppError,
  assertCanAddAgent,
  assertCanOpenTicket,
  checkAgentQuota,
  checkTicketQuota,
  createTenant,
  planLimitDedupeKey,
  type PlanQuota,
} from '@relais/core';
import { contacts, notifications, outbox, tenants, tickets, users, type Database } from '@relais/db';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';
import { errorOf } from '../../tests/support/app-error-of.js';

/** 10:00 in Douala on 12 May 2026, and the first minutes of May and June there. */
const MAY_12 = new Date('2026-05-12T09:00:00Z');
const MAY_START = new Date('2026-04-30T23:00:00Z');
const JUNE_12 = new Date('2026-06-12T09:00:00Z');

describe.each(testDrivers())('plan limits on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let counter = 0;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
  });
  afterAll(async () => {
    await test?.drop();
  });

  async function tenantOn(options: { plan?: 'starter' | 'business' | 'enterprise'; mode?: 'commission' } = {}) {
    counter += 1;
    const { tenant, admin } = await createTenant(
      { db, clock: { now: () => MAY_START } },
      { name: `Limits ${counter}`, email: `limits-${driver}-${counter}@example.cm`, ...(options.mode ? { mode: options.mode } : { plan: options.plan ?? 'starter' }) },
    );
    const contactId = await db.withTenant(tenant.id, async (tx) => (await tx.insert(contacts).values({ tenantId: tenant.id, name: 'Awa' }).returning())[0]!.id);
    return { tenantId: tenant.id, adminId: admin.id, contactId };
  }

  /** Tickets opened without the guard (history: earlier this month, or last month). */
  async function seedTickets(tenant: { tenantId: string; contactId: string }, howMany: number, createdAt: Date) {
    await db.withTenant(tenant.tenantId, async (tx) => {
      const rows = Array.from({ length: howMany }, () => ({
        tenantId: tenant.tenantId,
        number: (counter += 1) * 1_000,
        contactId: tenant.contactId,
        subject: 'seed',
        createdAt,
      }));
      for (let i = 0; i < rows.length; i += 500) await tx.insert(tickets).values(rows.slice(i, i + 500));
    });
  }

  /** What the ticket use case will do: the guard, then the insert, in one transaction. */
  const openTicket = (tenant: { tenantId: string; contactId: string }, now: Date) =>
    db.withTenant(tenant.tenantId, async (tx) => {
      const quota = await assertCanOpenTicket(tx, tenant.tenantId, now);
      await tx.insert(tickets).values({ tenantId: tenant.tenantId, number: (counter += 1) * 1_000, contactId: tenant.contactId, subject: 'Acheter du WiFi', createdAt: now });
      return quota;
    });

  const addAgent = (tenantId: string, now: Date) =>
    db.withTenant(tenantId, async (tx) => {
      const quota = await assertCanAddAgent(tx, tenantId, now);
      counter += 1;
      const [agent] = await tx
        .insert(users)
        .values({ tenantId, email: `agent-${counter}@example.cm`, name: `Agent ${counter}`, role: 'agent', passwordHash: 'x' })
        .returning({ id: users.id });
      return { quota, agentId: agent!.id };
    });

  const noticesOf = (tenantId: string) =>
    db.withTenant(tenantId, async (tx) => ({
      notifications: await tx.select().from(notifications).orderBy(asc(notifications.createdAt)),
      outbox: await tx.select().from(outbox).where(eq(outbox.tenantId, tenantId)).orderBy(asc(outbox.createdAt)),
    }));

  it('counts tickets per Douala calendar month, warns the active admins once at 80 %, and refuses at 100 %', async () => {
    const tenant = await tenantOn({ plan: 'starter' });
    // A second admin is notified too; a disabled admin and an agent are not.
    const [secondAdmin] = await db.withTenant(tenant.tenantId, (tx) =>
      tx
        .insert(users)
        .values([
          { tenantId: tenant.tenantId, email: `admin2-${counter}@example.cm`, name: 'Admin 2', role: 'admin', passwordHash: 'x' },
          { tenantId: tenant.tenantId, email: `gone-${counter}@example.cm`, name: 'Gone', role: 'admin', passwordHash: 'x', disabledAt: MAY_START },
          { tenantId: tenant.tenantId, email: `agent-${counter}@example.cm`, name: 'Agent', role: 'agent', passwordHash: 'x' },
        ])
        .returning({ id: users.id }),
    );
    // April's tickets, including one a minute before midnight in Douala (22:59 UTC), do not count;
    // one at 00:30 in Douala on 1 May (23:30 UTC on 30 April) does.
    await seedTickets(tenant, 30, new Date('2026-04-20T10:00:00Z'));
    await seedTickets(tenant, 1, new Date('2026-04-30T22:59:00Z'));
    await seedTickets(tenant, 1, new Date('2026-04-30T23:30:00Z'));
    await seedTickets(tenant, 77, new Date('2026-05-05T10:00:00Z'));
    const quota = await db.withTenant(tenant.tenantId, (tx) => checkTicketQuota(tx, tenant.tenantId, MAY_12));
    expect(quota).toMatchObject({ metric: 'tickets', used: 78, limit: 100, month: '2026-05', resetsOn: '2026-06-01', plan: { id: 'starter' }, upgrade: { id: 'business', limit: 1_000 } });

    // The 79th ticket: 79 %, nothing sent.
    expect((await openTicket(tenant, MAY_12)).used).toBe(78);
    expect(await noticesOf(tenant.tenantId)).toEqual({ notifications: [], outbox: [] });

    // The 80th: the warning, to both active admins, and one outbox message.
    await openTicket(tenant, MAY_12);
    let notices = await noticesOf(tenant.tenantId);
    expect(notices.outbox).toHaveLength(1);
    expect(notices.outbox[0]).toMatchObject({ topic: 'plan.limit_warning', dedupeKey: 'plan-limit:tickets:2026-05:80' });
    expect(notices.notifications.map((n) => n.userId).sort()).toEqual([tenant.adminId, secondAdmin!.id].sort());
    const warning = notices.notifications[0]!;
    expect(warning.kind).toBe('plan.limit_warning');
    expect(warning.payload).toMatchObject({ metric: 'tickets', threshold: 80, used: 80, limit: 100, percent: 80, month: '2026-05', planId: 'starter', upgradePlanId: 'business' });
    const message = (warning.payload as { message: { fr: string; en: string } }).message;
    expect(message.fr).toBe(
      'Vous avez utilisé 80 des 100 tickets de votre forfait Starter pour mai 2026 (80 %). Au-delà, les nouveaux tickets seront refusés jusqu\'au 1er juin 2026 : passez au forfait Business (1 000 tickets par mois) pour l\'éviter.',
    );
    expect(message.en).toBe(
      'You have used 80 of the 100 tickets of your Starter plan for May 2026 (80%). Beyond that, new tickets will be refused until 1 June 2026: upgrade to the Business plan (1,000 tickets per month) to avoid it.',
    );

    // 81st to 99th: nothing new.
    for (let i = 81; i <= 99; i += 1) await openTicket(tenant, MAY_12);
    notices = await noticesOf(tenant.tenantId);
    expect(notices.outbox).toHaveLength(1);
    expect(notices.notifications).toHaveLength(2);

    // The 100th is allowed and announces the limit; the 101st is refused with what to do.
    await openTicket(tenant, MAY_12);
    notices = await noticesOf(tenant.tenantId);
    expect(notices.outbox.map((o) => o.dedupeKey)).toEqual([planLimitDedupeKey('tickets', '2026-05', 80), planLimitDedupeKey('tickets', '2026-05', 100)]);
    expect(notices.notifications.filter((n) => n.kind === 'plan.limit_reached')).toHaveLength(2);

    const refused = await errorOf(openTicket(tenant, MAY_12));
    expect(refused.code).toBe('PLAN_LIMIT_REACHED');
    expect(refused.httpStatus).toBe(402);
    expect(refused.message).toBe(
      'Your Starter plan includes 100 tickets per month and all of them are used for May 2026. New tickets are refused until 1 June 2026; upgrade to the Business plan (1,000 tickets per month) to open more now.',
    );
    expect(refused.details).toMatchObject({ metric: 'tickets', used: 100, limit: 100, planId: 'starter', resetsOn: '2026-06-01', upgradePlanId: 'business' });
    expect((refused.details!.message as { fr: string }).fr).toContain('passez au forfait Business');
    expect((await db.withTenant(tenant.tenantId, (tx) => checkTicketQuota(tx, tenant.tenantId, MAY_12))).used).toBe(100);
    // Refused again: still no further notice.
    await errorOf(openTicket(tenant, MAY_12));
    expect((await noticesOf(tenant.tenantId)).outbox).toHaveLength(2);

    // June starts afresh.
    expect((await openTicket(tenant, JUNE_12)).used).toBe(0);
    expect((await noticesOf(tenant.tenantId)).outbox).toHaveLength(2);
  });

  it('lets concurrent openings take the last places exactly once', async () => {
    const tenant = await tenantOn({ plan: 'starter' });
    await seedTickets(tenant, 95, MAY_12);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => openTicket(tenant, MAY_12)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const rejections = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejections.every((r) => (r.reason as AppError).code === 'PLAN_LIMIT_REACHED')).toBe(true);
    const [row] = await db.withTenant(tenant.tenantId, (tx) => tx.select({ n: count() }).from(tickets).where(eq(tickets.tenantId, tenant.tenantId)));
    expect(Number(row!.n)).toBe(100);
    const notices = await noticesOf(tenant.tenantId);
    // 95 seeded without the guard: the 96th opening is already past 80 %, then 100 is reached.
    expect(notices.outbox.map((o) => o.dedupeKey).sort()).toEqual(['plan-limit:tickets:2026-05:100', 'plan-limit:tickets:2026-05:80']);
    expect(notices.notifications).toHaveLength(2);
  });

  it('counts active agents only; a jump straight to 100 % sends the "reached" notice alone', async () => {
    const tenant = await tenantOn({ plan: 'starter' });
    const quotas: PlanQuota[] = [];
    const agents: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const added = await addAgent(tenant.tenantId, MAY_12);
      quotas.push(added.quota);
      agents.push(added.agentId);
    }
    expect(quotas.map((q) => q.used)).toEqual([0, 1, 2]);
    expect(quotas[0]).toMatchObject({ metric: 'agents', limit: 3, plan: { id: 'starter' }, upgrade: { id: 'business', limit: 10 } });
    let notices = await noticesOf(tenant.tenantId);
    // 1/3 and 2/3 are under 80 %; 3/3 is the limit.
    expect(notices.outbox.map((o) => o.dedupeKey)).toEqual(['plan-limit:agents:2026-05:100']);
    expect(notices.notifications).toHaveLength(1);
    expect(notices.notifications[0]!.payload).toMatchObject({ metric: 'agents', threshold: 100, used: 3, limit: 3 });

    const refused = await errorOf(addAgent(tenant.tenantId, MAY_12));
    expect(refused.code).toBe('PLAN_LIMIT_REACHED');
    expect(refused.message).toBe(
      'Your Starter plan allows 3 active agents and you have all of them. Disable an agent you no longer need, or upgrade to the Business plan (10 agents), to add one.',
    );

    // Disabling one frees a seat; taking it again sends nothing new this month.
    await db.withTenant(tenant.tenantId, (tx) => tx.update(users).set({ disabledAt: MAY_12 }).where(eq(users.id, agents[0]!)));
    expect((await db.withTenant(tenant.tenantId, (tx) => checkAgentQuota(tx, tenant.tenantId, MAY_12))).used).toBe(2);
    await addAgent(tenant.tenantId, MAY_12);
    notices = await noticesOf(tenant.tenantId);
    expect(notices.outbox).toHaveLength(1);
    expect(notices.notifications).toHaveLength(1);
  });

  it('warns at the 8th of 10 agents on Business', async () => {
    const tenant = await tenantOn({ plan: 'business' });
    for (let i = 0; i < 7; i += 1) await addAgent(tenant.tenantId, MAY_12);
    expect((await noticesOf(tenant.tenantId)).outbox).toEqual([]);
    await addAgent(tenant.tenantId, MAY_12);
    const notices = await noticesOf(tenant.tenantId);
    expect(notices.outbox.map((o) => o.topic)).toEqual(['plan.limit_warning']);
    expect(notices.notifications[0]!.payload).toMatchObject({ metric: 'agents', threshold: 80, used: 8, limit: 10, upgradePlanId: 'enterprise' });
  });

  it('applies the commission plan from the plans table: unlimited tickets, 10 agents', async () => {
    const tenant = await tenantOn({ mode: 'commission' });
    await seedTickets(tenant, 1_200, MAY_12);
    const quota = await openTicket(tenant, MAY_12);
    expect(quota).toMatchObject({ metric: 'tickets', limit: null, used: null, plan: { id: 'commission' } });
    expect(await db.withTenant(tenant.tenantId, (tx) => checkTicketQuota(tx, tenant.tenantId, MAY_12))).toMatchObject({ limit: null, used: 1_201 });
    expect(quota.upgrade).toBeUndefined();
    for (let i = 0; i < 10; i += 1) await addAgent(tenant.tenantId, MAY_12);
    const refused = await errorOf(addAgent(tenant.tenantId, MAY_12));
    expect(refused.details).toMatchObject({ metric: 'agents', used: 10, limit: 10, planId: 'commission', upgradePlanId: 'enterprise' });
    expect((await noticesOf(tenant.tenantId)).outbox.map((o) => o.dedupeKey)).toEqual(['plan-limit:agents:2026-05:80', 'plan-limit:agents:2026-05:100']);
  });

  it('never limits Enterprise', async () => {
    const tenant = await tenantOn({ plan: 'enterprise' });
    await seedTickets(tenant, 2_000, MAY_12);
    expect((await openTicket(tenant, MAY_12)).limit).toBeNull();
    for (let i = 0; i < 12; i += 1) await addAgent(tenant.tenantId, MAY_12);
    expect(await noticesOf(tenant.tenantId)).toEqual({ notifications: [], outbox: [] });
  });

  it('follows a change of plan at once', async () => {
    const tenant = await tenantOn({ plan: 'starter' });
    await seedTickets(tenant, 100, MAY_12);
    expect((await errorOf(openTicket(tenant, MAY_12))).code).toBe('PLAN_LIMIT_REACHED');
    await db.withPlatform((tx) => tx.update(tenants).set({ planId: 'business' }).where(eq(tenants.id, tenant.tenantId)));
    expect(await openTicket(tenant, MAY_12)).toMatchObject({ used: 100, limit: 1_000, plan: { id: 'business' } });
  });
});
