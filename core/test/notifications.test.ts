import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countUnreadNotifications,
  createTenant,
  getNotificationPreferences,
  listNotifications,
  markNotificationsRead,
  NOTIFICATION_EMAIL_TOPIC,
  NOTIFICATION_KINDS,
  notifyUsers,
  setNotificationPreference,
  type NotificationKind,
} from '@relais/core';
import { notifications, outbox, users, type Database } from '@relais/db';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';
import { errorOf } from '../../tests/support/app-error-of.js';

const T0 = new Date('2026-05-12T09:00:00Z');
const clock = { now: () => T0 };
const minutesAfter = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

describe.each(testDrivers())('in-app notifications and preferences on %s', (driver) => {
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

  async function newTenant() {
    counter += 1;
    const { tenant, admin } = await createTenant({ db, clock }, { name: `Notify ${counter}`, email: `notify-${driver}-${counter}@example.cm`, mode: 'commission' });
    return { tenantId: tenant.id, adminId: admin.id };
  }

  async function addAgent(tenantId: string, options: { locale?: 'fr' | 'en'; disabled?: boolean } = {}): Promise<string> {
    counter += 1;
    const [agent] = await db.withTenant(tenantId, (tx) =>
      tx
        .insert(users)
        .values({
          tenantId,
          email: `agent-${counter}@example.cm`,
          name: `Agent ${counter}`,
          role: 'agent',
          passwordHash: 'x',
          locale: options.locale ?? 'fr',
          disabledAt: options.disabled ? T0 : null,
        })
        .returning({ id: users.id }),
    );
    return agent!.id;
  }

  const notify = (tenantId: string, userIds: string[], options: { kind?: NotificationKind; at?: Date; title?: string } = {}) =>
    db.withTenant(tenantId, (tx) =>
      notifyUsers(tx, {
        tenantId,
        userIds,
        kind: options.kind ?? 'ticket.assigned',
        content: { title: { fr: `${options.title ?? 'Ticket'} assigné`, en: `${options.title ?? 'Ticket'} assigned` }, body: { fr: 'Corps', en: 'Body' }, ticketNumber: 7 },
        at: options.at ?? T0,
      }),
    );

  const emailsQueued = (tenantId: string, notificationIds: string[]) =>
    db.withTenant(tenantId, async (tx) => {
      const rows = await tx.select({ payload: outbox.payload }).from(outbox).where(and(eq(outbox.tenantId, tenantId), eq(outbox.topic, NOTIFICATION_EMAIL_TOPIC)));
      return rows.map((row) => (row.payload as { notificationId: string }).notificationId).filter((id) => notificationIds.includes(id));
    });

  it('lists every kind with both channels on by default, and stores a choice per kind', async () => {
    const { tenantId } = await newTenant();
    const agent = await addAgent(tenantId);
    expect(await getNotificationPreferences({ db }, { tenantId, userId: agent })).toEqual(NOTIFICATION_KINDS.map((kind) => ({ kind, inApp: true, email: true })));

    await setNotificationPreference({ db }, { tenantId, userId: agent, kind: 'ticket.sla_warning', inApp: true, email: false });
    await setNotificationPreference({ db }, { tenantId, userId: agent, kind: 'ticket.mentioned', inApp: false, email: false });
    // A second choice replaces the first.
    await setNotificationPreference({ db }, { tenantId, userId: agent, kind: 'ticket.mentioned', inApp: false, email: true });
    const preferences = await getNotificationPreferences({ db }, { tenantId, userId: agent });
    expect(preferences.find((p) => p.kind === 'ticket.sla_warning')).toEqual({ kind: 'ticket.sla_warning', inApp: true, email: false });
    expect(preferences.find((p) => p.kind === 'ticket.mentioned')).toEqual({ kind: 'ticket.mentioned', inApp: false, email: true });
    expect(preferences.find((p) => p.kind === 'ticket.assigned')).toEqual({ kind: 'ticket.assigned', inApp: true, email: true });
  });

  it('refuses an unknown kind and a user of another tenant', async () => {
    const { tenantId } = await newTenant();
    const other = await newTenant();
    const agent = await addAgent(tenantId);
    const strangerAgent = await addAgent(other.tenantId);
    expect((await errorOf(setNotificationPreference({ db }, { tenantId, userId: agent, kind: 'ticket.unknown' as NotificationKind, inApp: true, email: true }))).code).toBe('VALIDATION_FAILED');
    expect((await errorOf(setNotificationPreference({ db }, { tenantId, userId: strangerAgent, kind: 'ticket.assigned', inApp: false, email: false }))).code).toBe('NOT_FOUND');
    expect((await errorOf(getNotificationPreferences({ db }, { tenantId, userId: strangerAgent }))).code).toBe('NOT_FOUND');
  });

  it('notifies as each user chose for the kind: in-app off, email off, both off', async () => {
    const { tenantId } = await newTenant();
    const [both, emailOnly, inAppOnly, neither, disabled] = [
      await addAgent(tenantId),
      await addAgent(tenantId),
      await addAgent(tenantId),
      await addAgent(tenantId),
      await addAgent(tenantId, { disabled: true }),
    ];
    await setNotificationPreference({ db }, { tenantId, userId: emailOnly!, kind: 'ticket.assigned', inApp: false, email: true });
    await setNotificationPreference({ db }, { tenantId, userId: inAppOnly!, kind: 'ticket.assigned', inApp: true, email: false });
    await setNotificationPreference({ db }, { tenantId, userId: neither!, kind: 'ticket.assigned', inApp: false, email: false });

    const created = await notify(tenantId, [both!, emailOnly!, inAppOnly!, neither!, disabled!, both!]);
    expect(created).toHaveLength(3);
    const owners = await db.withTenant(tenantId, (tx) => tx.select({ id: notifications.id, userId: notifications.userId }).from(notifications));
    const idOf = (userId: string) => owners.find((row) => row.userId === userId)?.id;
    expect(idOf(neither!)).toBeUndefined();
    expect(idOf(disabled!)).toBeUndefined();
    expect((await emailsQueued(tenantId, created)).sort()).toEqual([idOf(both!), idOf(emailOnly!)].sort());

    const inApp = async (userId: string) => ({
      listed: (await listNotifications({ db }, { tenantId, userId })).notifications.length,
      unread: await countUnreadNotifications({ db }, { tenantId, userId }),
    });
    expect(await inApp(both!)).toEqual({ listed: 1, unread: 1 });
    expect(await inApp(emailOnly!)).toEqual({ listed: 0, unread: 0 });
    expect(await inApp(inAppOnly!)).toEqual({ listed: 1, unread: 1 });
    expect(await inApp(neither!)).toEqual({ listed: 0, unread: 0 });

    // Preferences are per kind: another kind still reaches the user who turned assignments off.
    const mentioned = await notify(tenantId, [neither!], { kind: 'ticket.mentioned' });
    expect(mentioned).toHaveLength(1);
    expect(await emailsQueued(tenantId, mentioned)).toEqual(mentioned);
    expect(await inApp(neither!)).toEqual({ listed: 1, unread: 1 });
  });

  it('counts unread, lists newest first and marks read only the user’s own notifications', async () => {
    const { tenantId, adminId } = await newTenant();
    const agent = await addAgent(tenantId, { locale: 'en' });
    const [first] = await notify(tenantId, [agent], { at: minutesAfter(1), title: 'First' });
    const [second] = await notify(tenantId, [agent], { at: minutesAfter(2), title: 'Second' });
    const [third] = await notify(tenantId, [agent], { at: minutesAfter(3), title: 'Third' });
    const [adminOwn] = await notify(tenantId, [adminId], { at: minutesAfter(1) });

    expect(await countUnreadNotifications({ db }, { tenantId, userId: agent })).toBe(3);
    const page = await listNotifications({ db }, { tenantId, userId: agent });
    expect(page.nextBefore).toBeNull();
    expect(page.notifications.map((n) => n.id)).toEqual([third, second, first]);
    expect(page.notifications[0]).toMatchObject({
      kind: 'ticket.assigned',
      title: { fr: 'Third assigné', en: 'Third assigned' },
      body: { fr: 'Corps', en: 'Body' },
      ticketNumber: 7,
      readAt: null,
      createdAt: minutesAfter(3),
    });

    // The admin's id in the list is ignored: nobody marks another user's notifications.
    const readAt = minutesAfter(10);
    expect(await markNotificationsRead({ db, clock: { now: () => readAt } }, { tenantId, userId: agent, ids: [second!, adminOwn!] })).toEqual({ marked: 1 });
    expect(await countUnreadNotifications({ db }, { tenantId, userId: agent })).toBe(2);
    expect(await countUnreadNotifications({ db }, { tenantId, userId: adminId })).toBe(1);
    expect((await listNotifications({ db }, { tenantId, userId: agent, unreadOnly: true })).notifications.map((n) => n.id)).toEqual([third, first]);

    expect(await markNotificationsRead({ db, clock: { now: () => minutesAfter(20) } }, { tenantId, userId: agent, all: true })).toEqual({ marked: 2 });
    expect(await countUnreadNotifications({ db }, { tenantId, userId: agent })).toBe(0);
    expect(await countUnreadNotifications({ db }, { tenantId, userId: adminId })).toBe(1);
    // Marking again changes nothing and keeps the first read time.
    expect(await markNotificationsRead({ db, clock: { now: () => minutesAfter(30) } }, { tenantId, userId: agent, all: true })).toEqual({ marked: 0 });
    const listed = (await listNotifications({ db }, { tenantId, userId: agent })).notifications;
    expect(listed.find((n) => n.id === second)?.readAt).toEqual(readAt);
    expect(listed.find((n) => n.id === third)?.readAt).toEqual(minutesAfter(20));

    expect((await errorOf(markNotificationsRead({ db, clock }, { tenantId, userId: agent, ids: [] }))).code).toBe('VALIDATION_FAILED');
  });

  it('pages with `before`, ties in time included, and refuses another user’s cursor', async () => {
    const { tenantId, adminId } = await newTenant();
    const agent = await addAgent(tenantId);
    // Five at the same instant (one transaction notifying several times), two later.
    const sameTime: string[] = [];
    for (let i = 0; i < 5; i += 1) sameTime.push(...(await notify(tenantId, [agent], { at: minutesAfter(1) })));
    const later = [...(await notify(tenantId, [agent], { at: minutesAfter(2) })), ...(await notify(tenantId, [agent], { at: minutesAfter(3) }))];
    const [adminOwn] = await notify(tenantId, [adminId]);

    const seen: string[] = [];
    let before: string | undefined;
    let pages = 0;
    do {
      const page = await listNotifications({ db }, { tenantId, userId: agent, limit: 3, ...(before ? { before } : {}) });
      seen.push(...page.notifications.map((n) => n.id));
      before = page.nextBefore ?? undefined;
      pages += 1;
    } while (before);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(new Set([...sameTime, ...later]));
    expect(seen.slice(0, 2)).toEqual([later[1], later[0]]);

    expect((await errorOf(listNotifications({ db }, { tenantId, userId: agent, limit: 3, before: adminOwn! }))).code).toBe('NOT_FOUND');
    expect((await errorOf(listNotifications({ db }, { tenantId, userId: agent, limit: 0 }))).code).toBe('VALIDATION_FAILED');
  });

  it('shows rows written by other notifiers (plan limits: `message`, no ticket) and tolerates odd payloads', async () => {
    const { tenantId, adminId } = await newTenant();
    await db.withTenant(tenantId, (tx) =>
      tx.insert(notifications).values([
        { tenantId, userId: adminId, kind: 'plan.limit_warning', payload: { title: { fr: 'Limite proche', en: 'Limit near' }, message: { fr: '80 %', en: '80%' } }, createdAt: minutesAfter(1) },
        { tenantId, userId: adminId, kind: 'plan.limit_reached', payload: { title: 'not bilingual' }, createdAt: minutesAfter(2) },
      ]),
    );
    const [odd, planLimit] = (await listNotifications({ db }, { tenantId, userId: adminId })).notifications;
    expect(planLimit).toMatchObject({ kind: 'plan.limit_warning', title: { fr: 'Limite proche', en: 'Limit near' }, body: { fr: '80 %', en: '80%' } });
    expect(planLimit).not.toHaveProperty('ticketNumber');
    expect(odd).toMatchObject({ kind: 'plan.limit_reached', title: { fr: 'plan.limit_reached', en: 'plan.limit_reached' }, body: { fr: '', en: '' } });
    expect(await countUnreadNotifications({ db }, { tenantId, userId: adminId })).toBe(2);
  });

  it('keeps tenants apart: another tenant sees, counts and marks none of them', async () => {
    const one = await newTenant();
    const two = await newTenant();
    const agentOne = await addAgent(one.tenantId);
    const agentTwo = await addAgent(two.tenantId);
    const idsOne = await notify(one.tenantId, [agentOne, agentTwo]);
    expect(idsOne).toHaveLength(1); // agentTwo is not a user of tenant one
    await notify(two.tenantId, [agentTwo]);

    // Tenant two's context with tenant one's user and notification ids: nothing there.
    expect((await listNotifications({ db }, { tenantId: two.tenantId, userId: agentOne })).notifications).toEqual([]);
    expect(await countUnreadNotifications({ db }, { tenantId: two.tenantId, userId: agentOne })).toBe(0);
    expect(await markNotificationsRead({ db, clock }, { tenantId: two.tenantId, userId: agentOne, ids: idsOne })).toEqual({ marked: 0 });
    expect(await markNotificationsRead({ db, clock }, { tenantId: two.tenantId, userId: agentTwo, ids: idsOne })).toEqual({ marked: 0 });
    expect(await countUnreadNotifications({ db }, { tenantId: one.tenantId, userId: agentOne })).toBe(1);
    expect(await countUnreadNotifications({ db }, { tenantId: two.tenantId, userId: agentTwo })).toBe(1);
  });
});
