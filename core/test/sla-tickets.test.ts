import { and, asc, eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addBusinessMinutes,
  businessMinutesBetween,
  checkTicketSla,
  createSlaPolicy,
  createTenant,
  DEFAULT_WEEKLY_HOURS,
  refreshTicketSla,
  setBusinessHours,
  type SlaRefreshReason,
} from '@relais/core';
import { categories, contacts, notifications, outbox, ticketEvents, tickets, users, type Database } from '@relais/db';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';

/** A wall-clock time in Douala (UTC+1, no daylight saving). */
const douala = (iso: string) => DateTime.fromISO(iso, { zone: 'Africa/Douala' }).toJSDate();
const DEFAULT_CALENDAR = { timezone: 'Africa/Douala', weekly: DEFAULT_WEEKLY_HOURS, holidays: [] };

/** Monday 18 May 2026, 09:00 in Douala. */
const MONDAY_9 = douala('2026-05-18T09:00');

const TARGETS = {
  low: { firstResponseMinutes: 240, resolutionMinutes: 1_200 },
  medium: { firstResponseMinutes: 60, resolutionMinutes: 600 },
  high: { firstResponseMinutes: 30, resolutionMinutes: 240 },
  // urgent: no target at all
};

describe.each(testDrivers())('ticket SLA on %s', (driver) => {
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

  /** A tenant with the default policy above, an agent, and a contact. */
  async function helpdesk(options: { defaultPolicy?: boolean } = {}) {
    counter += 1;
    const clock = { now: () => MONDAY_9 };
    const { tenant, admin } = await createTenant({ db, clock }, { name: `Desk ${counter}`, email: `sla-${driver}-${counter}@example.cm`, plan: 'business' });
    const tenantId = tenant.id;
    const policy = options.defaultPolicy === false ? undefined : await createSlaPolicy({ db, clock }, { tenantId, name: 'Standard', targets: TARGETS, isDefault: true });
    const { agentId, contactId } = await db.withTenant(tenantId, async (tx) => {
      const [agent] = await tx.insert(users).values({ tenantId, email: `agent-${counter}@example.cm`, name: 'Agent', role: 'agent', passwordHash: 'x' }).returning({ id: users.id });
      const [contact] = await tx.insert(contacts).values({ tenantId, name: 'Awa' }).returning({ id: contacts.id });
      return { agentId: agent!.id, contactId: contact!.id };
    });
    return { tenantId, adminId: admin.id, agentId, contactId, policyId: policy?.id };
  }

  type Desk = Awaited<ReturnType<typeof helpdesk>>;

  /** What openTicket does: the row, then the SLA in the same transaction. */
  async function openTicket(desk: Desk, options: { createdAt?: Date; priority?: 'low' | 'medium' | 'high' | 'urgent'; categoryId?: string; assigneeId?: string | null } = {}) {
    counter += 1;
    const createdAt = options.createdAt ?? MONDAY_9;
    return db.withTenant(desk.tenantId, async (tx) => {
      const [ticket] = await tx
        .insert(tickets)
        .values({
          tenantId: desk.tenantId,
          number: 1_000 + counter,
          contactId: desk.contactId,
          categoryId: options.categoryId ?? null,
          assigneeId: options.assigneeId === undefined ? desk.agentId : options.assigneeId,
          subject: 'Pas de connexion',
          priority: options.priority ?? 'medium',
          createdAt,
          updatedAt: createdAt,
        })
        .returning({ id: tickets.id, number: tickets.number });
      await refreshTicketSla(tx, { tenantId: desk.tenantId, ticketId: ticket!.id, now: createdAt, reason: 'created' });
      return ticket!;
    });
  }

  /** What applyTicketChanges / postTicketReply do: change the row, then refresh the SLA. */
  async function change(desk: Desk, ticketId: string, now: Date, set: Partial<typeof tickets.$inferInsert>, reason: SlaRefreshReason) {
    return db.withTenant(desk.tenantId, async (tx) => {
      await tx.update(tickets).set({ ...set, updatedAt: now }).where(and(eq(tickets.tenantId, desk.tenantId), eq(tickets.id, ticketId)));
      return refreshTicketSla(tx, { tenantId: desk.tenantId, ticketId, now, reason });
    });
  }

  const ticketRow = async (desk: Desk, ticketId: string) =>
    (await db.withTenant(desk.tenantId, (tx) => tx.select().from(tickets).where(and(eq(tickets.tenantId, desk.tenantId), eq(tickets.id, ticketId)))))[0]!;

  /** A ticket's SLA events in time order (each at the time its threshold passed). */
  const eventsAt = async (desk: Desk, ticketId: string) =>
    db.withTenant(desk.tenantId, (tx) =>
      tx
        .select({ kind: ticketEvents.kind, data: ticketEvents.data, actorKind: ticketEvents.actorKind, createdAt: ticketEvents.createdAt })
        .from(ticketEvents)
        .where(and(eq(ticketEvents.tenantId, desk.tenantId), eq(ticketEvents.ticketId, ticketId)))
        .orderBy(asc(ticketEvents.createdAt)),
    );
  const eventsOf = async (desk: Desk, ticketId: string) => (await eventsAt(desk, ticketId)).map(({ createdAt: _createdAt, ...event }) => event);

  const notificationsOf = async (desk: Desk) =>
    db.withTenant(desk.tenantId, (tx) => tx.select().from(notifications).where(eq(notifications.tenantId, desk.tenantId)).orderBy(asc(notifications.createdAt)));

  const check = (desk: Desk, now: Date) => checkTicketSla({ db, clock: { now: () => now } }, { tenantId: desk.tenantId });

  describe('refreshTicketSla', () => {
    it('sets due and 80 % warning times from the policy in business hours on creation', async () => {
      const desk = await helpdesk();
      const ticket = await openTicket(desk);
      expect(await ticketRow(desk, ticket.id)).toMatchObject({
        firstResponseDueAt: douala('2026-05-18T10:00'),
        firstResponseWarnAt: douala('2026-05-18T09:48'),
        // 600 business minutes from Monday 09:00: 540 on Monday, 60 on Tuesday.
        resolutionDueAt: douala('2026-05-19T09:00'),
        resolutionWarnAt: douala('2026-05-18T17:00'),
        slaPausedAt: null,
        slaPausedMinutes: 0,
      });

      // Friday 17:30 + 60 minutes: Saturday 08:30 with the default week.
      const late = await openTicket(desk, { createdAt: douala('2026-05-22T17:30') });
      expect((await ticketRow(desk, late.id)).firstResponseDueAt).toEqual(douala('2026-05-23T08:30'));
    });

    it("uses the category's policy before the default, the tenant's hours and holidays, and no due times without a policy", async () => {
      const desk = await helpdesk();
      const fast = await createSlaPolicy({ db, clock: { now: () => MONDAY_9 } }, { tenantId: desk.tenantId, name: 'Fast', targets: { medium: { firstResponseMinutes: 10 } } });
      const categoryId = await db.withTenant(desk.tenantId, async (tx) => {
        const [category] = await tx.insert(categories).values({ tenantId: desk.tenantId, nameFr: 'Panne', nameEn: 'Outage', slaPolicyId: fast.id }).returning({ id: categories.id });
        return category!.id;
      });
      const inCategory = await openTicket(desk, { categoryId });
      expect(await ticketRow(desk, inCategory.id)).toMatchObject({ firstResponseDueAt: douala('2026-05-18T09:10'), firstResponseWarnAt: douala('2026-05-18T09:08'), resolutionDueAt: null, resolutionWarnAt: null });

      // Two ranges a day and a holiday (Tuesday 19 May), saved for this tenant only.
      await setBusinessHours({ db, clock: { now: () => MONDAY_9 } }, { tenantId: desk.tenantId, weeklyHours: { mon: [['08:00', '12:00'], ['14:00', '18:00']], wed: [['08:00', '18:00']] }, holidays: ['2026-05-19'] });
      const split = await openTicket(desk, { createdAt: douala('2026-05-18T11:30') });
      expect(await ticketRow(desk, split.id)).toMatchObject({
        firstResponseDueAt: douala('2026-05-18T14:30'),
        // 600 minutes: 30 + 240 on Monday, Tuesday off, 330 on Wednesday.
        resolutionDueAt: douala('2026-05-20T13:30'),
      });

      const bare = await helpdesk({ defaultPolicy: false });
      const none = await openTicket(bare);
      expect(await ticketRow(bare, none.id)).toMatchObject({ firstResponseDueAt: null, firstResponseWarnAt: null, resolutionDueAt: null, resolutionWarnAt: null });
    });

    it('pauses while pending and shifts the due times by exactly the business minutes paused', async () => {
      const desk = await helpdesk();
      const ticket = await openTicket(desk);
      const before = await ticketRow(desk, ticket.id);

      const pendingAt = douala('2026-05-18T09:30');
      await change(desk, ticket.id, pendingAt, { status: 'pending' }, 'status_changed');
      expect(await ticketRow(desk, ticket.id)).toMatchObject({ slaPausedAt: pendingAt, slaPausedMinutes: 0, firstResponseDueAt: before.firstResponseDueAt });
      // Still pending an hour later (a priority change meanwhile keeps the pause).
      await change(desk, ticket.id, douala('2026-05-18T10:30'), {}, 'priority_changed');
      expect((await ticketRow(desk, ticket.id)).slaPausedAt).toEqual(pendingAt);

      // Back to open on Tuesday 10:00: 510 minutes on Monday + 120 on Tuesday.
      const openAt = douala('2026-05-19T10:00');
      await change(desk, ticket.id, openAt, { status: 'open' }, 'status_changed');
      const after = await ticketRow(desk, ticket.id);
      const paused = businessMinutesBetween(pendingAt, openAt, DEFAULT_CALENDAR);
      expect(paused).toBe(630);
      expect(after).toMatchObject({ slaPausedAt: null, slaPausedMinutes: 630, firstResponseDueAt: douala('2026-05-19T10:30'), resolutionDueAt: douala('2026-05-20T09:30') });
      expect(businessMinutesBetween(before.firstResponseDueAt!, after.firstResponseDueAt!, DEFAULT_CALENDAR)).toBe(paused);
      expect(businessMinutesBetween(before.resolutionDueAt!, after.resolutionDueAt!, DEFAULT_CALENDAR)).toBe(paused);
      expect(businessMinutesBetween(before.resolutionWarnAt!, after.resolutionWarnAt!, DEFAULT_CALENDAR)).toBe(paused);

      // A second pause over the night and the weekend's closed hours costs nothing.
      await change(desk, ticket.id, douala('2026-05-23T13:00'), { status: 'pending' }, 'status_changed');
      await change(desk, ticket.id, douala('2026-05-25T08:00'), { status: 'open' }, 'status_changed');
      expect(await ticketRow(desk, ticket.id)).toMatchObject({ slaPausedMinutes: 630, firstResponseDueAt: after.firstResponseDueAt, resolutionDueAt: after.resolutionDueAt });
    });

    it('recomputes on a priority change, keeping a recorded breach only while it still holds', async () => {
      const desk = await helpdesk();
      const ticket = await openTicket(desk);
      // 10:05: the first response (due 10:00) is late; both alerts recorded.
      expect(await check(desk, douala('2026-05-18T10:05'))).toMatchObject({ warnings: 1, breaches: 1 });
      const breached = await ticketRow(desk, ticket.id);
      expect(breached.firstResponseBreachedAt).toEqual(douala('2026-05-18T10:05'));

      // High (30 min): due 09:30, still passed: the breach stays recorded.
      await change(desk, ticket.id, douala('2026-05-18T10:10'), { priority: 'high' }, 'priority_changed');
      expect(await ticketRow(desk, ticket.id)).toMatchObject({
        firstResponseDueAt: douala('2026-05-18T09:30'),
        firstResponseWarnedAt: breached.firstResponseWarnedAt,
        firstResponseBreachedAt: breached.firstResponseBreachedAt,
        resolutionDueAt: douala('2026-05-18T13:00'),
      });
      expect((await check(desk, douala('2026-05-18T10:11'))).breaches).toBe(0);

      // Low (240 min): due 13:00, warning at 12:12, both ahead: cleared, and they fire again then.
      await change(desk, ticket.id, douala('2026-05-18T10:15'), { priority: 'low' }, 'priority_changed');
      expect(await ticketRow(desk, ticket.id)).toMatchObject({
        firstResponseDueAt: douala('2026-05-18T13:00'),
        firstResponseWarnAt: douala('2026-05-18T12:12'),
        firstResponseWarnedAt: null,
        firstResponseBreachedAt: null,
      });
      expect(await check(desk, douala('2026-05-18T12:12'))).toMatchObject({ warnings: 1, breaches: 0 });
      expect(await check(desk, douala('2026-05-18T13:00'))).toMatchObject({ warnings: 0, breaches: 1 });

      // Urgent has no target: no due times, nothing recorded.
      await change(desk, ticket.id, douala('2026-05-18T13:05'), { priority: 'urgent' }, 'priority_changed');
      expect(await ticketRow(desk, ticket.id)).toMatchObject({
        firstResponseDueAt: null,
        firstResponseWarnAt: null,
        firstResponseBreachedAt: null,
        resolutionDueAt: null,
        resolutionWarnedAt: null,
      });
      const kinds = (await eventsOf(desk, ticket.id)).map((event) => [event.kind, (event.data as { target: string }).target]);
      expect(kinds).toEqual([
        ['sla_warning', 'first_response'],
        ['sla_breached', 'first_response'],
        ['sla_warning', 'first_response'],
        ['sla_breached', 'first_response'],
      ]);
    });

    it('stops the first-response clock at the first reply, and both at resolution; a reopening restarts the resolution clock', async () => {
      const desk = await helpdesk();
      const ticket = await openTicket(desk);
      const created = await ticketRow(desk, ticket.id);

      await change(desk, ticket.id, douala('2026-05-18T09:20'), { firstRespondedAt: douala('2026-05-18T09:20') }, 'first_response');
      // A later priority change leaves the first-response columns as they were; resolution: 240 min.
      await change(desk, ticket.id, douala('2026-05-18T09:30'), { priority: 'high' }, 'priority_changed');
      expect(await ticketRow(desk, ticket.id)).toMatchObject({
        firstResponseDueAt: created.firstResponseDueAt,
        firstResponseWarnAt: created.firstResponseWarnAt,
        resolutionDueAt: douala('2026-05-18T13:00'),
        resolutionWarnAt: douala('2026-05-18T12:12'),
      });
      expect(await check(desk, douala('2026-05-18T12:12'))).toMatchObject({ warnings: 1, breaches: 0 });

      // Pending from 12:30, resolved from pending at 14:00: the 90 minutes paused still count,
      // then the pause count restarts for a possible reopening.
      await change(desk, ticket.id, douala('2026-05-18T12:30'), { status: 'pending' }, 'status_changed');
      await change(desk, ticket.id, douala('2026-05-18T14:00'), { status: 'resolved', resolvedAt: douala('2026-05-18T14:00') }, 'status_changed');
      const resolved = await ticketRow(desk, ticket.id);
      expect(resolved).toMatchObject({ resolutionDueAt: douala('2026-05-18T14:30'), resolutionWarnedAt: douala('2026-05-18T12:12'), slaPausedAt: null, slaPausedMinutes: 0 });
      expect(await check(desk, douala('2026-05-18T16:00'))).toMatchObject({ tickets: 0 });
      await change(desk, ticket.id, douala('2026-05-18T16:00'), { status: 'closed', closedAt: douala('2026-05-18T16:00') }, 'status_changed');
      expect((await ticketRow(desk, ticket.id)).resolutionDueAt).toEqual(resolved.resolutionDueAt);

      // Reopened on Tuesday 09:00: 240 minutes from then; the first-response clock stays done.
      const reopenedAt = douala('2026-05-19T09:00');
      await change(desk, ticket.id, reopenedAt, { status: 'open', reopenedAt, resolvedAt: null, closedAt: null }, 'status_changed');
      expect(await ticketRow(desk, ticket.id)).toMatchObject({
        firstResponseDueAt: created.firstResponseDueAt,
        resolutionDueAt: douala('2026-05-19T13:00'),
        resolutionWarnAt: douala('2026-05-19T12:12'),
        resolutionWarnedAt: null,
      });
      expect(await check(desk, douala('2026-05-19T13:00'))).toMatchObject({ warnings: 1, breaches: 1 });
      const kinds = (await eventsOf(desk, ticket.id)).map((event) => `${event.kind}:${(event.data as { target: string }).target}`);
      expect(kinds).toEqual(['sla_warning:resolution', 'sla_warning:resolution', 'sla_breached:resolution']);
    });

    it('is idempotent, and refuses a ticket of another tenant', async () => {
      const desk = await helpdesk();
      const ticket = await openTicket(desk);
      const first = await ticketRow(desk, ticket.id);
      await change(desk, ticket.id, douala('2026-05-18T09:05'), {}, 'status_changed');
      const { updatedAt: _a, ...again } = await ticketRow(desk, ticket.id);
      const { updatedAt: _b, ...before } = first;
      expect(again).toEqual(before);

      const other = await helpdesk();
      const error = await db
        .withTenant(other.tenantId, (tx) => refreshTicketSla(tx, { tenantId: other.tenantId, ticketId: ticket.id, now: MONDAY_9, reason: 'created' }))
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('checkTicketSla', () => {
    it('a late run that finds the warning and the breach both due records each at the time it passed, in that order', async () => {
      const desk = await helpdesk();
      const ticket = await openTicket(desk);
      expect(await check(desk, douala('2026-05-18T11:30'))).toMatchObject({ warnings: 1, breaches: 1 });
      const events = (await eventsAt(desk, ticket.id)).filter((event) => (event.data as { target: string }).target === 'first_response');
      expect(events.map((event) => [event.kind, event.createdAt.toISOString()])).toEqual([
        ['sla_warning', douala('2026-05-18T09:48').toISOString()],
        ['sla_breached', douala('2026-05-18T10:00').toISOString()],
      ]);
    });

    it('records the warning at 80 % and then the breach, once each even when two runs race, and notifies the assignee', async () => {
      const desk = await helpdesk();
      const ticket = await openTicket(desk);

      expect(await check(desk, douala('2026-05-18T09:47'))).toMatchObject({ tickets: 0, warnings: 0, breaches: 0 });
      expect(await check(desk, douala('2026-05-18T09:48'))).toMatchObject({ tickets: 1, warnings: 1, breaches: 0 });
      let events = await eventsOf(desk, ticket.id);
      expect(events).toEqual([{ kind: 'sla_warning', actorKind: 'system', data: { target: 'first_response', dueAt: douala('2026-05-18T10:00').toISOString() } }]);
      let sent = await notificationsOf(desk);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ userId: desk.agentId, kind: 'ticket.sla_warning', createdAt: douala('2026-05-18T09:48') });
      expect(sent[0]!.payload).toMatchObject({
        ticketId: ticket.id,
        ticketNumber: ticket.number,
        title: { fr: `SLA bientôt dépassé : ticket #${ticket.number}`, en: `SLA at risk: ticket #${ticket.number}` },
        body: {
          fr: `Délai de première réponse du ticket #${ticket.number} « Pas de connexion » : échéance le 18 mai 2026 à 10:00.`,
          en: `The first response of ticket #${ticket.number} "Pas de connexion" is due by 18 May 2026 at 10:00.`,
        },
      });
      expect((await ticketRow(desk, ticket.id)).firstResponseWarnedAt).toEqual(douala('2026-05-18T09:48'));

      // Two runs at once at 10:00: one breach between them.
      const at10 = douala('2026-05-18T10:00');
      const [a, b] = await Promise.all([check(desk, at10), check(desk, at10)]);
      expect(a.breaches + b.breaches).toBe(1);
      expect(a.warnings + b.warnings).toBe(0);
      expect(await check(desk, douala('2026-05-18T10:01'))).toMatchObject({ tickets: 0 });

      // The resolution warning (17:00), raced too.
      const at17 = douala('2026-05-18T17:00');
      const runs = await Promise.all([check(desk, at17), check(desk, at17), check(desk, at17)]);
      expect(runs.reduce((sum, run) => sum + run.warnings, 0)).toBe(1);

      events = await eventsOf(desk, ticket.id);
      expect(events.map((event) => `${event.kind}:${(event.data as { target: string }).target}`)).toEqual(['sla_warning:first_response', 'sla_breached:first_response', 'sla_warning:resolution']);
      sent = await notificationsOf(desk);
      expect(sent.map((notification) => notification.kind)).toEqual(['ticket.sla_warning', 'ticket.sla_breached', 'ticket.sla_warning']);
      expect((sent[1]!.payload as { title: { en: string }; body: { fr: string; en: string } }).body).toEqual({
        fr: `Le délai de première réponse du ticket #${ticket.number} « Pas de connexion » est dépassé (échéance le 18 mai 2026 à 10:00).`,
        en: `The first response deadline of ticket #${ticket.number} "Pas de connexion" has passed (due 18 May 2026 at 10:00).`,
      });
      // Each event goes to the automations (ticket.event) and each notification by email.
      const topics = await db.withTenant(desk.tenantId, (tx) => tx.select({ topic: outbox.topic }).from(outbox).where(eq(outbox.tenantId, desk.tenantId)));
      expect(topics.filter((row) => row.topic === 'ticket.event')).toHaveLength(3);
      expect(topics.filter((row) => row.topic === 'notification.email')).toHaveLength(3);
    });

    it("records warning then breach together when both passed (the job was down), and tells the active admins when nobody can act", async () => {
      const desk = await helpdesk();
      const { secondAdminId } = await db.withTenant(desk.tenantId, async (tx) => {
        const [second] = await tx.insert(users).values({ tenantId: desk.tenantId, email: `admin2-${counter}@example.cm`, name: 'Admin 2', role: 'admin', passwordHash: 'x' }).returning({ id: users.id });
        await tx.insert(users).values({ tenantId: desk.tenantId, email: `gone-${counter}@example.cm`, name: 'Gone', role: 'admin', passwordHash: 'x', disabledAt: MONDAY_9 });
        return { secondAdminId: second!.id };
      });
      const unassigned = await openTicket(desk, { assigneeId: null });
      const disabledAgent = await db.withTenant(desk.tenantId, async (tx) => {
        const [agent] = await tx.insert(users).values({ tenantId: desk.tenantId, email: `left-${counter}@example.cm`, name: 'Left', role: 'agent', passwordHash: 'x', disabledAt: MONDAY_9 }).returning({ id: users.id });
        return agent!.id;
      });
      const orphaned = await openTicket(desk, { assigneeId: disabledAgent });

      const report = await check(desk, douala('2026-05-19T10:00'));
      expect(report).toMatchObject({ tickets: 2, warnings: 4, breaches: 4, failed: 0 });
      for (const ticket of [unassigned, orphaned]) {
        const recorded = (await eventsOf(desk, ticket.id)).map((event) => `${event.kind}:${(event.data as { target: string }).target}`);
        expect(recorded.sort()).toEqual(['sla_breached:first_response', 'sla_breached:resolution', 'sla_warning:first_response', 'sla_warning:resolution']);
        expect(await ticketRow(desk, ticket.id)).toMatchObject({
          firstResponseWarnedAt: douala('2026-05-19T10:00'),
          firstResponseBreachedAt: douala('2026-05-19T10:00'),
          resolutionWarnedAt: douala('2026-05-19T10:00'),
          resolutionBreachedAt: douala('2026-05-19T10:00'),
        });
      }
      const sent = await notificationsOf(desk);
      expect(sent).toHaveLength(16);
      expect(new Set(sent.map((notification) => notification.userId))).toEqual(new Set([desk.adminId, secondAdminId]));
    });

    it('never alerts on a pending (paused), resolved or closed ticket, nor on a ticket without targets', async () => {
      const desk = await helpdesk();
      const pending = await openTicket(desk);
      await change(desk, pending.id, douala('2026-05-18T09:10'), { status: 'pending' }, 'status_changed');
      const resolved = await openTicket(desk);
      await change(desk, resolved.id, douala('2026-05-18T09:10'), { status: 'resolved', resolvedAt: douala('2026-05-18T09:10') }, 'status_changed');
      const closed = await openTicket(desk);
      await change(desk, closed.id, douala('2026-05-18T09:10'), { status: 'closed', closedAt: douala('2026-05-18T09:10') }, 'status_changed');
      await openTicket(desk, { priority: 'urgent' });

      expect(await check(desk, douala('2026-05-25T12:00'))).toMatchObject({ tickets: 0, warnings: 0, breaches: 0 });
      expect(await notificationsOf(desk)).toEqual([]);

      // Back to open a week later: the clock resumes with the pause credited, then alerts.
      await change(desk, pending.id, douala('2026-05-25T12:00'), { status: 'open' }, 'status_changed');
      expect((await ticketRow(desk, pending.id)).firstResponseDueAt).toEqual(addBusinessMinutes(MONDAY_9, 60 + businessMinutesBetween(douala('2026-05-18T09:10'), douala('2026-05-25T12:00'), DEFAULT_CALENDAR), DEFAULT_CALENDAR));
      expect(await check(desk, douala('2026-05-25T12:50'))).toMatchObject({ tickets: 1, warnings: 1, breaches: 1 });
    });
  });
});
