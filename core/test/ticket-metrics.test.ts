import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, getAgentMetrics, getHelpdeskMetrics, listTicketQueue, type AgentMetrics, type QueuedTicket } from '@relais/core';
import { contacts, csatResponses, executeRows, teamMembers, teams, tickets, users, type Database, type Tx } from '@relais/db';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';
import { errorOf } from '../../tests/support/app-error-of.js';

const at = (iso: string) => new Date(iso);
/** Well after the period: every due time of the metrics data set has passed, except T6's. */
const METRICS_NOW = at('2026-05-20T12:00:00Z');
/** 11 and 12 May 2026 on the Douala calendar (UTC+1). */
const PERIOD = { from: at('2026-05-10T23:00:00Z'), to: at('2026-05-12T23:00:00Z') };
/** The queue is looked at on 12 May, 10:30 in Douala. */
const QUEUE_NOW = at('2026-05-12T09:30:00Z');

type TicketRow = typeof tickets.$inferInsert;

describe.each(testDrivers())('ticket metrics and the open-ticket queue on %s', (driver) => {
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

  const deps = (now: Date) => ({ db, clock: { now: () => now } });

  async function newTenant(name: string) {
    counter += 1;
    const { tenant, admin } = await createTenant({ db, clock: { now: () => at('2026-05-01T00:00:00Z') } }, { name, email: `metrics-${driver}-${counter}@example.cm`, plan: 'business' });
    const tenantId = tenant.id;
    const inTenant = <T>(work: (tx: Tx) => Promise<T>) => db.withTenant(tenantId, work);
    const [contact] = await inTenant((tx) => tx.insert(contacts).values({ tenantId, name: 'Awa Ndongo', phoneE164: '+237670000001' }).returning({ id: contacts.id }));
    const contactId = contact!.id;
    const addUser = async (userName: string, options: { disabled?: boolean } = {}) => {
      counter += 1;
      const [user] = await inTenant((tx) =>
        tx
          .insert(users)
          .values({ tenantId, email: `agent-${counter}@example.cm`, name: userName, role: 'agent', passwordHash: 'x', disabledAt: options.disabled ? at('2026-05-01T00:00:00Z') : null })
          .returning({ id: users.id }),
      );
      return user!.id;
    };
    let number = 0;
    const addTicket = async (values: Partial<TicketRow> & { createdAt: Date }) => {
      number += 1;
      const row = { tenantId, number, contactId, subject: `Ticket ${number}`, updatedAt: values.createdAt, ...values };
      const [ticket] = await inTenant((tx) => tx.insert(tickets).values(row).returning({ id: tickets.id }));
      return ticket!.id;
    };
    const addCsat = async (ticketId: string, agentId: string | null, rating: number, createdAt: Date) => {
      await inTenant((tx) => tx.insert(csatResponses).values({ tenantId, ticketId, contactId, agentId, rating, createdAt }));
    };
    return { tenantId, adminId: admin.id, contactId, addUser, addTicket, addCsat };
  }

  describe('figures', () => {
    let tenantId: string;
    let adminId: string;
    let alice: string;
    let bob: string;
    let carol: string;
    let dave: string;
    let otherTenantId: string;

    beforeAll(async () => {
      const zone = await newTenant('Zone Akwa');
      ({ tenantId, adminId } = zone);
      alice = await zone.addUser('Alice');
      bob = await zone.addUser('Bob');
      carol = await zone.addUser('Carol');
      dave = await zone.addUser('Dave', { disabled: true });
      // T1: answered in 30 min (met), resolved in 4 h (met), rated 5.
      const t1 = await zone.addTicket({
        assigneeId: alice,
        status: 'resolved',
        createdAt: at('2026-05-11T08:00:00Z'),
        firstResponseDueAt: at('2026-05-11T09:00:00Z'),
        firstRespondedAt: at('2026-05-11T08:30:00Z'),
        resolutionDueAt: at('2026-05-12T08:00:00Z'),
        resolvedAt: at('2026-05-11T12:00:00Z'),
      });
      await zone.addCsat(t1, alice, 5, at('2026-05-11T13:00:00Z'));
      // T2: 11 May 23:30 in Douala (22:30 UTC); answered in 1 h (missed); resolved after the period, rated after it.
      const t2 = await zone.addTicket({
        assigneeId: alice,
        status: 'resolved',
        createdAt: at('2026-05-11T22:30:00Z'),
        firstResponseDueAt: at('2026-05-11T23:00:00Z'),
        firstRespondedAt: at('2026-05-11T23:30:00Z'),
        resolutionDueAt: at('2026-05-12T22:30:00Z'),
        resolvedAt: at('2026-05-13T00:30:00Z'),
      });
      await zone.addCsat(t2, alice, 3, at('2026-05-13T01:00:00Z'));
      // T3: 12 May 00:30 in Douala (still 11 May in UTC); no targets; answered in 1 h, resolved in 6 h, rated 4.
      const t3 = await zone.addTicket({
        assigneeId: bob,
        status: 'closed',
        createdAt: at('2026-05-11T23:30:00Z'),
        firstRespondedAt: at('2026-05-12T00:30:00Z'),
        resolvedAt: at('2026-05-12T05:30:00Z'),
        closedAt: at('2026-05-12T06:00:00Z'),
      });
      await zone.addCsat(t3, bob, 4, at('2026-05-12T06:00:00Z'));
      // T4: never answered, both due times passed: a first-response miss, overdue now.
      await zone.addTicket({
        assigneeId: bob,
        status: 'open',
        createdAt: at('2026-05-12T10:00:00Z'),
        firstResponseDueAt: at('2026-05-12T11:00:00Z'),
        resolutionDueAt: at('2026-05-13T10:00:00Z'),
      });
      // T5: opened before the period, resolved in it after 7 days (missed), rated 2 in it.
      const t5 = await zone.addTicket({
        assigneeId: alice,
        status: 'resolved',
        createdAt: at('2026-05-05T10:00:00Z'),
        firstResponseDueAt: at('2026-05-05T11:00:00Z'),
        firstRespondedAt: at('2026-05-05T10:10:00Z'),
        resolutionDueAt: at('2026-05-06T10:00:00Z'),
        resolvedAt: at('2026-05-12T10:00:00Z'),
      });
      await zone.addCsat(t5, alice, 2, at('2026-05-12T11:00:00Z'));
      // T6: unassigned, due times still ahead: counted nowhere but opened and open now.
      await zone.addTicket({
        status: 'open',
        createdAt: at('2026-05-12T12:00:00Z'),
        firstResponseDueAt: at('2026-05-25T12:00:00Z'),
        resolutionDueAt: at('2026-05-30T12:00:00Z'),
      });
      // T7: pending since before its first-response due time: the clock is stopped, not a miss, not overdue.
      await zone.addTicket({
        assigneeId: alice,
        status: 'pending',
        createdAt: at('2026-05-12T14:00:00Z'),
        firstResponseDueAt: at('2026-05-12T15:00:00Z'),
        resolutionDueAt: at('2026-05-14T14:00:00Z'),
        slaPausedAt: at('2026-05-12T14:30:00Z'),
      });
      // T8: resolved in 30 min without a reply: the resolution stopped the first-response clock (met).
      await zone.addTicket({
        assigneeId: alice,
        status: 'resolved',
        createdAt: at('2026-05-12T16:00:00Z'),
        firstResponseDueAt: at('2026-05-12T17:00:00Z'),
        resolutionDueAt: at('2026-05-13T16:00:00Z'),
        resolvedAt: at('2026-05-12T16:30:00Z'),
      });
      // T9: a duplicate merged into T1: never counted.
      await zone.addTicket({
        assigneeId: alice,
        status: 'closed',
        createdAt: at('2026-05-12T09:00:00Z'),
        firstRespondedAt: at('2026-05-12T09:01:00Z'),
        resolvedAt: at('2026-05-12T09:05:00Z'),
        closedAt: at('2026-05-12T09:05:00Z'),
        mergedIntoId: t1,
      });
      // T10: the admin's, open, no targets.
      await zone.addTicket({ assigneeId: adminId, status: 'open', createdAt: at('2026-05-12T18:00:00Z') });

      // Another tenant, same shapes and times: must never leak into the figures above.
      const other = await newTenant('Zone Bonapriso');
      otherTenantId = other.tenantId;
      const otherAgent = await other.addUser('Alice');
      const o1 = await other.addTicket({
        assigneeId: otherAgent,
        status: 'resolved',
        createdAt: at('2026-05-11T09:00:00Z'),
        firstResponseDueAt: at('2026-05-11T09:10:00Z'),
        firstRespondedAt: at('2026-05-11T10:00:00Z'),
        resolutionDueAt: at('2026-05-11T10:00:00Z'),
        resolvedAt: at('2026-05-11T20:00:00Z'),
      });
      await other.addCsat(o1, otherAgent, 1, at('2026-05-11T21:00:00Z'));
      await other.addTicket({ status: 'open', createdAt: at('2026-05-12T09:00:00Z') });
    });

    it("computes the tenant's figures over the period, by Douala day", async () => {
      const metrics = await getHelpdeskMetrics(deps(METRICS_NOW), { tenantId, ...PERIOD, bucket: 'day' });
      expect(metrics).toMatchObject({
        timezone: 'Africa/Douala',
        opened: 8, // T1 T2 T3 T4 T6 T7 T8 T10
        firstResponses: 3, // T1 T2 T3
        averageFirstResponseSeconds: 3_000, // (1 800 + 3 600 + 3 600) / 3
        firstResponseSla: { counted: 4, met: 2, metPercent: 50 }, // T1 met, T2 missed, T4 missed, T8 met
        resolved: 4, // T1 T3 T5 T8
        averageResolutionSeconds: 160_650, // (14 400 + 21 600 + 604 800 + 1 800) / 4
        resolutionSla: { counted: 3, met: 2, metPercent: 66.7 }, // T1 met, T5 missed, T8 met
        csat: { count: 3, average: 3.67 }, // 5, 4, 2
        openNow: 4, // T4 T6 T7 T10
        overdueNow: 1, // T4
        unassignedNow: 1, // T6
      });
      expect(metrics.buckets).toEqual([
        { start: '2026-05-11', startsAt: at('2026-05-10T23:00:00Z'), opened: 2, resolved: 1 },
        { start: '2026-05-12', startsAt: at('2026-05-11T23:00:00Z'), opened: 6, resolved: 3 },
      ]);
    });

    it('cuts weeks and months on the tenant calendar, empty buckets included', async () => {
      const weekly = await getHelpdeskMetrics(deps(METRICS_NOW), { tenantId, from: at('2026-05-03T23:00:00Z'), to: at('2026-05-17T23:00:00Z'), bucket: 'week' });
      // Weeks start on Monday: 4 May (T5 opened), 11 May (the rest).
      expect(weekly.buckets.map(({ start, opened, resolved }) => ({ start, opened, resolved }))).toEqual([
        { start: '2026-05-04', opened: 1, resolved: 0 },
        { start: '2026-05-11', opened: 8, resolved: 5 },
      ]);
      const monthly = await getHelpdeskMetrics(deps(METRICS_NOW), { tenantId, from: at('2026-03-15T00:00:00Z'), to: at('2026-05-15T00:00:00Z'), bucket: 'month' });
      expect(monthly.buckets.map(({ start, opened }) => ({ start, opened }))).toEqual([
        { start: '2026-03-01', opened: 0 },
        { start: '2026-04-01', opened: 0 },
        { start: '2026-05-01', opened: 9 },
      ]);
    });

    it("gives each agent's figures: active agents, and anyone else with a figure", async () => {
      const metrics = await getAgentMetrics(deps(METRICS_NOW), { tenantId, ...PERIOD });
      const byId = new Map(metrics.map((row) => [row.agentId, row]));
      // Dave (disabled, nothing) is left out; the admin is in for T10.
      expect(metrics.map((row) => row.name)).toEqual(['Alice', 'Bob', 'Carol', 'Zone Akwa']);
      expect(byId.has(dave)).toBe(false);
      expect(byId.get(alice)).toEqual<AgentMetrics>({
        agentId: alice,
        name: 'Alice',
        role: 'agent',
        disabled: false,
        opened: 4, // T1 T2 T7 T8
        firstResponses: 2,
        averageFirstResponseSeconds: 2_700,
        firstResponseSla: { counted: 3, met: 2, metPercent: 66.7 }, // T1 met, T2 missed, T8 met (T7 paused)
        resolved: 3, // T1 T5 T8
        averageResolutionSeconds: 207_000, // (14 400 + 604 800 + 1 800) / 3
        resolutionSla: { counted: 3, met: 2, metPercent: 66.7 },
        csat: { count: 2, average: 3.5 },
        openNow: 1, // T7
        overdueNow: 0,
      });
      expect(byId.get(bob)).toMatchObject({
        opened: 2,
        firstResponses: 1,
        averageFirstResponseSeconds: 3_600,
        firstResponseSla: { counted: 1, met: 0, metPercent: 0 },
        resolved: 1,
        averageResolutionSeconds: 21_600,
        resolutionSla: { counted: 0, met: 0, metPercent: null },
        csat: { count: 1, average: 4 },
        openNow: 1,
        overdueNow: 1,
      });
      expect(byId.get(carol)).toMatchObject({
        opened: 0,
        firstResponses: 0,
        averageFirstResponseSeconds: null,
        firstResponseSla: { counted: 0, met: 0, metPercent: null },
        resolved: 0,
        averageResolutionSeconds: null,
        csat: { count: 0, average: null },
        openNow: 0,
      });
      expect(byId.get(adminId)).toMatchObject({ role: 'admin', opened: 1, openNow: 1, resolved: 0 });
    });

    it('gives one agent alone when asked, and NOT_FOUND for a stranger', async () => {
      const [only, ...rest] = await getAgentMetrics(deps(METRICS_NOW), { tenantId, ...PERIOD, agentId: bob });
      expect(rest).toEqual([]);
      expect(only).toMatchObject({ agentId: bob, resolved: 1, openNow: 1 });
      // A disabled agent asked by id: shown, with nothing.
      expect(await getAgentMetrics(deps(METRICS_NOW), { tenantId, ...PERIOD, agentId: dave })).toMatchObject([{ agentId: dave, disabled: true, opened: 0 }]);
      const otherAgents = await getAgentMetrics(deps(METRICS_NOW), { tenantId: otherTenantId, ...PERIOD });
      expect((await errorOf(getAgentMetrics(deps(METRICS_NOW), { tenantId, ...PERIOD, agentId: otherAgents[0]!.agentId }))).code).toBe('NOT_FOUND');
    });

    it("keeps each tenant's figures to its own tickets", async () => {
      const metrics = await getHelpdeskMetrics(deps(METRICS_NOW), { tenantId: otherTenantId, ...PERIOD, bucket: 'day' });
      expect(metrics).toMatchObject({
        opened: 2,
        firstResponses: 1,
        averageFirstResponseSeconds: 3_600,
        firstResponseSla: { counted: 1, met: 0 },
        resolved: 1,
        averageResolutionSeconds: 39_600,
        resolutionSla: { counted: 1, met: 0 },
        csat: { count: 1, average: 1 },
        openNow: 1,
        unassignedNow: 1,
      });
      const [agent] = await getAgentMetrics(deps(METRICS_NOW), { tenantId: otherTenantId, ...PERIOD });
      expect(agent).toMatchObject({ name: 'Alice', opened: 1, resolved: 1, csat: { count: 1, average: 1 } });
    });

    it('refuses a period that runs backwards or lasts more than a year', async () => {
      expect((await errorOf(getHelpdeskMetrics(deps(METRICS_NOW), { tenantId, from: PERIOD.to, to: PERIOD.from, bucket: 'day' }))).code).toBe('VALIDATION_FAILED');
      expect((await errorOf(getAgentMetrics(deps(METRICS_NOW), { tenantId, from: at('2025-01-01T00:00:00Z'), to: at('2026-05-01T00:00:00Z') }))).code).toBe('VALIDATION_FAILED');
    });
  });

  describe('queue', () => {
    let tenantId: string;
    let adminId: string;
    let alice: string;
    let bob: string;
    let teamId: string;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      const zone = await newTenant('Zone Deido');
      ({ tenantId, adminId } = zone);
      alice = await zone.addUser('Alice');
      bob = await zone.addUser('Bob');
      teamId = await db.withTenant(tenantId, async (tx) => {
        const [team] = await tx.insert(teams).values({ tenantId, name: 'Facturation' }).returning({ id: teams.id });
        await tx.insert(teamMembers).values({ tenantId, teamId: team!.id, userId: alice });
        return team!.id;
      });
      const day = (time: string) => at(`2026-05-12T${time}Z`);
      ids.q1 = await zone.addTicket({ priority: 'urgent', createdAt: day('08:00:00'), firstResponseDueAt: day('10:00:00'), resolutionDueAt: day('20:00:00') });
      ids.q2 = await zone.addTicket({ priority: 'urgent', createdAt: day('07:00:00'), assigneeId: alice });
      ids.q10 = await zone.addTicket({ priority: 'urgent', createdAt: day('09:00:00'), teamId });
      ids.q3 = await zone.addTicket({ priority: 'high', createdAt: day('06:00:00'), firstResponseDueAt: day('09:00:00') });
      ids.q4 = await zone.addTicket({ priority: 'high', createdAt: day('05:00:00'), firstResponseDueAt: day('09:00:00'), assigneeId: alice, lastMessageAt: day('05:00:00') });
      // Answered in time: its running target is the resolution one.
      ids.q5 = await zone.addTicket({
        priority: 'high',
        createdAt: day('04:00:00'),
        firstResponseDueAt: day('08:00:00'),
        firstRespondedAt: day('07:30:00'),
        resolutionDueAt: day('12:00:00'),
        assigneeId: bob,
      });
      ids.q6 = await zone.addTicket({ priority: 'low', status: 'pending', createdAt: day('03:00:00'), firstResponseDueAt: day('08:00:00'), slaPausedAt: day('07:00:00') });
      ids.q7 = await zone.addTicket({ priority: 'medium', createdAt: day('02:00:00') });
      ids.q8 = await zone.addTicket({ priority: 'medium', createdAt: day('02:00:00') });
      await zone.addTicket({ priority: 'urgent', status: 'resolved', createdAt: day('01:00:00'), resolvedAt: day('02:00:00') });
      // q7 and q8 a microsecond apart: a page may end between them (a JS Date would not tell them apart).
      await db.withTenant(tenantId, (tx) =>
        executeRows(tx, sql`update tickets set created_at = created_at + case id when ${ids.q7} then interval '1 microsecond' else interval '2 microseconds' end where id in (${ids.q7}, ${ids.q8})`),
      );
      // Another tenant's open, urgent, unassigned ticket: never in this queue.
      const other = await newTenant('Zone Bali');
      await other.addTicket({ priority: 'urgent', createdAt: day('00:00:00') });
    });

    const numbersOf = (rows: QueuedTicket[]) => rows.map((row) => Object.entries(ids).find(([, id]) => id === row.id)?.[0]);

    async function walk(view: 'unassigned' | 'mine' | 'team' | 'all_open', userId: string, limit: number, extra: { teamId?: string } = {}) {
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await listTicketQueue(deps(QUEUE_NOW), { tenantId, userId, view, limit, cursor, ...extra });
        pages.push(numbersOf(page.tickets) as string[]);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return pages;
    }

    it('orders by priority, then the nearest running due time (none last), then the oldest', async () => {
      const everything = ['q1', 'q2', 'q10', 'q4', 'q3', 'q5', 'q7', 'q8', 'q6'];
      expect(await walk('all_open', adminId, 100)).toEqual([everything]);
      expect(await walk('all_open', adminId, 4)).toEqual([everything.slice(0, 4), everything.slice(4, 8), everything.slice(8)]);
      expect(await walk('all_open', adminId, 7)).toEqual([everything.slice(0, 7), everything.slice(7)]);
      expect(await walk('all_open', alice, 3)).toEqual([everything.slice(0, 3), everything.slice(3, 6), everything.slice(6)]);
    });

    it('shows the rows a queue needs: names, due times, breaches', async () => {
      const { tickets: rows } = await listTicketQueue(deps(QUEUE_NOW), { tenantId, userId: adminId, view: 'all_open' });
      const row = (key: string) => rows.find((ticket) => ticket.id === ids[key])!;
      expect(row('q4')).toMatchObject({
        number: 5,
        subject: 'Ticket 5',
        status: 'open',
        priority: 'high',
        assignee: { id: alice, name: 'Alice' },
        contact: { name: 'Awa Ndongo' },
        lastMessageAt: at('2026-05-12T05:00:00Z'),
        firstResponseDueAt: at('2026-05-12T09:00:00Z'),
        nextDueAt: at('2026-05-12T09:00:00Z'),
        firstResponseBreached: true,
        resolutionBreached: false,
      });
      expect(row('q1')).toMatchObject({ assignee: null, nextDueAt: at('2026-05-12T10:00:00Z'), firstResponseBreached: false });
      expect(row('q5')).toMatchObject({ nextDueAt: at('2026-05-12T12:00:00Z'), firstResponseBreached: false, resolutionBreached: false });
      // Paused an hour before its due time: not breached while pending.
      expect(row('q6')).toMatchObject({ status: 'pending', firstResponseBreached: false });
      expect(row('q7')).toMatchObject({ nextDueAt: null, firstResponseBreached: false, resolutionBreached: false });
    });

    it("gives the unassigned view, an agent's own and a team's", async () => {
      expect(await walk('unassigned', alice, 2)).toEqual([['q1', 'q10'], ['q3', 'q7'], ['q8', 'q6']]);
      expect(await walk('mine', alice, 50)).toEqual([['q2', 'q4']]);
      expect(await walk('mine', bob, 50)).toEqual([['q5']]);
      expect(await walk('team', alice, 50)).toEqual([['q10']]);
      expect(await walk('team', alice, 50, { teamId })).toEqual([['q10']]);
      expect(await walk('team', bob, 50)).toEqual([[]]);
      expect(await walk('team', adminId, 50, { teamId })).toEqual([['q10']]);
      expect((await errorOf(listTicketQueue(deps(QUEUE_NOW), { tenantId, userId: bob, view: 'team', teamId }))).code).toBe('FORBIDDEN');
    });

    it('filters by status and priority', async () => {
      const pending = await listTicketQueue(deps(QUEUE_NOW), { tenantId, userId: adminId, view: 'all_open', status: 'pending' });
      expect(numbersOf(pending.tickets)).toEqual(['q6']);
      const high = await listTicketQueue(deps(QUEUE_NOW), { tenantId, userId: adminId, view: 'all_open', priority: 'high', limit: 2 });
      expect(numbersOf(high.tickets)).toEqual(['q4', 'q3']);
      const rest = await listTicketQueue(deps(QUEUE_NOW), { tenantId, userId: adminId, view: 'all_open', priority: 'high', limit: 2, cursor: high.nextCursor! });
      expect(numbersOf(rest.tickets)).toEqual(['q5']);
      expect(rest.nextCursor).toBeNull();
    });

    it('refuses a forged cursor, a stranger and an oversized page', async () => {
      expect((await errorOf(listTicketQueue(deps(QUEUE_NOW), { tenantId, userId: adminId, view: 'all_open', cursor: 'not-a-cursor' }))).code).toBe('VALIDATION_FAILED');
      const forged = Buffer.from(JSON.stringify([9, null, '2026-05-12', 'x'])).toString('base64url');
      expect((await errorOf(listTicketQueue(deps(QUEUE_NOW), { tenantId, userId: adminId, view: 'all_open', cursor: forged }))).code).toBe('VALIDATION_FAILED');
      expect((await errorOf(listTicketQueue(deps(QUEUE_NOW), { tenantId, userId: adminId, view: 'all_open', limit: 101 }))).code).toBe('VALIDATION_FAILED');
      const stranger = (await newTenant('Zone Bepanda')).adminId;
      expect((await errorOf(listTicketQueue(deps(QUEUE_NOW), { tenantId, userId: stranger, view: 'all_open' }))).code).toBe('FORBIDDEN');
    });
  });
});
