import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSlaPolicy,
  createTenant,
  DEFAULT_WEEKLY_HOURS,
  getBusinessCalendar,
  listSlaPolicies,
  loadBusinessCalendar,
  setBusinessHours,
  setDefaultSlaPolicy,
  updateSlaPolicy,
} from '@relais/core';
import { helpdeskSettings, tenants, type Database } from '@relais/db';
import { errorOf } from '../../tests/support/app-error-of.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';

const NOW = new Date('2026-05-18T08:00:00Z');
const clock = { now: () => NOW };

describe.each(testDrivers())('SLA policies and business hours on %s', (driver) => {
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

  async function newTenant(): Promise<string> {
    counter += 1;
    const { tenant } = await createTenant({ db, clock }, { name: `SLA ${counter}`, email: `sla-policies-${driver}-${counter}@example.cm`, plan: 'starter' });
    return tenant.id;
  }

  it('creates, lists and updates policies with targets per priority; a missing target is no target', async () => {
    const tenantId = await newTenant();
    const standard = await createSlaPolicy({ db, clock }, {
      tenantId,
      name: ' Standard ',
      targets: { medium: { firstResponseMinutes: 60, resolutionMinutes: 480 }, urgent: { firstResponseMinutes: 15 } },
    });
    expect(standard).toMatchObject({ name: 'Standard', isDefault: false, targets: { medium: { firstResponseMinutes: 60, resolutionMinutes: 480 }, urgent: { firstResponseMinutes: 15 } } });
    const vip = await createSlaPolicy({ db, clock }, { tenantId, name: 'VIP', targets: { high: { resolutionMinutes: 120 } }, isDefault: true });
    expect(vip.isDefault).toBe(true);

    const updated = await updateSlaPolicy({ db, clock }, { tenantId, policyId: standard.id, targets: { low: { resolutionMinutes: 2_400 } } });
    expect(updated).toMatchObject({ id: standard.id, name: 'Standard', targets: { low: { resolutionMinutes: 2_400 } } });
    expect(updated.targets.medium).toBeUndefined();
    const renamed = await updateSlaPolicy({ db, clock }, { tenantId, policyId: standard.id, name: 'Standard 2' });
    expect(renamed.targets).toEqual({ low: { resolutionMinutes: 2_400 } });

    expect((await listSlaPolicies({ db }, { tenantId })).map((policy) => [policy.name, policy.isDefault])).toEqual([
      ['Standard 2', false],
      ['VIP', true],
    ]);
    // Another tenant sees none of them, and cannot touch them.
    const other = await newTenant();
    expect(await listSlaPolicies({ db }, { tenantId: other })).toEqual([]);
    expect((await errorOf(updateSlaPolicy({ db, clock }, { tenantId: other, policyId: standard.id, name: 'Mine' }))).code).toBe('NOT_FOUND');
  });

  it.each([
    [{ medium: { firstResponseMinutes: 0 } }, 'targets.medium.firstResponseMinutes: targets are positive (leave a target out for none)'],
    [{ medium: { firstResponseMinutes: -5 } }, 'targets.medium.firstResponseMinutes: targets are positive (leave a target out for none)'],
    [{ medium: { resolutionMinutes: 90.5 } }, 'targets.medium.resolutionMinutes: targets are whole minutes'],
    [{ medium: { resolutionMinutes: 600_000 } }, 'targets.medium.resolutionMinutes: targets are at most 525600 minutes'],
    [{ critical: { resolutionMinutes: 60 } }, 'targets'],
    [{ medium: { firstResponse: 60 } }, 'targets.medium'],
  ])('refuses targets %j', async (targets, message) => {
    const tenantId = await newTenant();
    const error = await errorOf(createSlaPolicy({ db, clock }, { tenantId, name: 'Bad', targets: targets as never }));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message.startsWith(message)).toBe(true);
  });

  it('refuses a policy without a name', async () => {
    const tenantId = await newTenant();
    expect((await errorOf(createSlaPolicy({ db, clock }, { tenantId, name: '  ', targets: {} }))).message).toBe('name: name is required');
  });

  it('keeps one default per tenant: a new default replaces the old one, and the default can be removed', async () => {
    const tenantId = await newTenant();
    const first = await createSlaPolicy({ db, clock }, { tenantId, name: 'First', targets: {}, isDefault: true });
    const second = await createSlaPolicy({ db, clock }, { tenantId, name: 'Second', targets: {}, isDefault: true });
    const defaults = async () => (await listSlaPolicies({ db }, { tenantId })).filter((policy) => policy.isDefault).map((policy) => policy.id);
    expect(await defaults()).toEqual([second.id]);

    await updateSlaPolicy({ db, clock }, { tenantId, policyId: first.id, isDefault: true });
    expect(await defaults()).toEqual([first.id]);
    await setDefaultSlaPolicy({ db, clock }, { tenantId, policyId: second.id });
    expect(await defaults()).toEqual([second.id]);
    await setDefaultSlaPolicy({ db, clock }, { tenantId, policyId: second.id });
    expect(await defaults()).toEqual([second.id]);
    await setDefaultSlaPolicy({ db, clock }, { tenantId, policyId: null });
    expect(await defaults()).toEqual([]);

    const other = await newTenant();
    expect((await errorOf(setDefaultSlaPolicy({ db, clock }, { tenantId: other, policyId: first.id }))).code).toBe('NOT_FOUND');
  });

  it('makes exactly one default when two are chosen at once', async () => {
    const tenantId = await newTenant();
    const [a, b] = await Promise.all([
      createSlaPolicy({ db, clock }, { tenantId, name: 'A', targets: {} }),
      createSlaPolicy({ db, clock }, { tenantId, name: 'B', targets: {} }),
    ]);
    const results = await Promise.allSettled([
      setDefaultSlaPolicy({ db, clock }, { tenantId, policyId: a!.id }),
      setDefaultSlaPolicy({ db, clock }, { tenantId, policyId: b!.id }),
    ]);
    for (const result of results) if (result.status === 'rejected') expect((result.reason as { code?: string }).code).toBe('CONFLICT');
    expect((await listSlaPolicies({ db }, { tenantId })).filter((policy) => policy.isDefault)).toHaveLength(1);
  });

  it('uses the default week in the tenant timezone until business hours are saved, then the saved ones', async () => {
    const tenantId = await newTenant();
    expect(await getBusinessCalendar({ db }, { tenantId })).toEqual({ timezone: 'Africa/Douala', weekly: DEFAULT_WEEKLY_HOURS, holidays: [] });

    const saved = await setBusinessHours({ db, clock }, {
      tenantId,
      weeklyHours: { mon: [['08:00', '12:00'], ['14:00', '18:00']], tue: [['08:00', '18:00']], sat: [['09:00', '24:00']] },
      holidays: ['2026-12-25', '2026-05-20'],
    });
    expect(saved).toEqual({
      timezone: 'Africa/Douala',
      weekly: { mon: [['08:00', '12:00'], ['14:00', '18:00']], tue: [['08:00', '18:00']], wed: [], thu: [], fri: [], sat: [['09:00', '24:00']], sun: [] },
      holidays: ['2026-05-20', '2026-12-25'],
    });
    // The other settings of the new row keep their defaults.
    const [row] = await db.withTenant(tenantId, (tx) => tx.select().from(helpdeskSettings).where(eq(helpdeskSettings.tenantId, tenantId)));
    expect(row).toMatchObject({ reopenWindowHours: 72, autoAssign: true, csatEnabled: true });

    // Saving again updates the same row, and leaves the other settings as they are.
    await db.withTenant(tenantId, (tx) => tx.update(helpdeskSettings).set({ autoAssign: false }).where(eq(helpdeskSettings.tenantId, tenantId)));
    await setBusinessHours({ db, clock }, { tenantId, weeklyHours: DEFAULT_WEEKLY_HOURS });
    const [again] = await db.withTenant(tenantId, (tx) => tx.select().from(helpdeskSettings).where(eq(helpdeskSettings.tenantId, tenantId)));
    expect(again).toMatchObject({ autoAssign: false, holidays: [], weeklyHours: DEFAULT_WEEKLY_HOURS });

    // The tenant's own timezone applies (read from the central tenants row inside the tenant's context).
    await db.withPlatform((tx) => tx.update(tenants).set({ timezone: 'Europe/Paris' }).where(eq(tenants.id, tenantId)));
    expect((await db.withTenant(tenantId, (tx) => loadBusinessCalendar(tx, tenantId))).timezone).toBe('Europe/Paris');
  });

  it.each([
    [{ mon: [['14:00', '18:00'], ['08:00', '12:00']] }, [], 'weeklyHours.mon: ranges must be in order and must not overlap'],
    [{ mon: [['08:00', '12:00'], ['11:00', '18:00']] }, [], 'weeklyHours.mon: ranges must be in order and must not overlap'],
    [{ mon: [['18:00', '08:00']] }, [], 'weeklyHours.mon.0: a range must end after it starts'],
    [{ mon: [['08:00', '25:00']] }, [], 'weeklyHours.mon.0.1: an end time is HH:MM, from 00:01 to 24:00'],
    [{}, [], 'weeklyHours: the week needs business hours on at least one day'],
    [DEFAULT_WEEKLY_HOURS, ['20-05-2026'], 'holidays.0: a holiday is an ISO date (yyyy-mm-dd)'],
  ])('refuses business hours %j with holidays %j', async (weeklyHours, holidays, message) => {
    const tenantId = await newTenant();
    const error = await errorOf(setBusinessHours({ db, clock }, { tenantId, weeklyHours: weeklyHours as never, holidays }));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toBe(message);
  });
});
