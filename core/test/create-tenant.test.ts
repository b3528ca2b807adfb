import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, eq } from 'drizzle-orm';
import { createTenant, listTenants, systemClock, verifyPassword, AppError } from '@relais/core';
import { auditLog, subscriptions, tenants, tenantStatusHistory, users, type Database } from '@relais/db';
import { createTestDatabase, type TestDatabase } from '../../tests/support/test-database.js';

describe('createTenant', () => {
  let test: TestDatabase;
  let db: Database;
  const deps = () => ({ db, clock: systemClock });

  beforeAll(async () => {
    test = await createTestDatabase();
    db = test.db;
  });
  afterAll(async () => test?.drop());

  const platformCounts = () =>
    db.withPlatform(async (tx) => ({
      tenants: (await tx.select({ n: count() }).from(tenants))[0]!.n,
      history: (await tx.select({ n: count() }).from(tenantStatusHistory))[0]!.n,
      subscriptions: (await tx.select({ n: count() }).from(subscriptions))[0]!.n,
    }));

  it('creates the tenant, its subscription, status history, audit entry and an admin with a one-time password', async () => {
    const created = await createTenant(deps(), { name: 'Wifi Zone Bépanda', email: 'Owner@Bepanda.cm', plan: 'business' });
    expect(created.tenant).toMatchObject({ slug: 'wifi-zone-bepanda', email: 'owner@bepanda.cm', billingMode: 'subscription', planId: 'business' });
    expect(created.admin.oneTimePassword).toMatch(/^[A-Za-z2-9]{16}$/);

    const admin = await db.withTenant(created.tenant.id, async (tx) => (await tx.select().from(users))[0]!);
    expect(admin).toMatchObject({ email: 'owner@bepanda.cm', role: 'admin', mustChangePassword: true });
    expect(admin.passwordHash).not.toContain(created.admin.oneTimePassword);
    expect(await verifyPassword(created.admin.oneTimePassword, admin.passwordHash)).toBe(true);
    expect(await verifyPassword('wrong-password', admin.passwordHash)).toBe(false);

    const audit = await db.withTenant(created.tenant.id, (tx) => tx.select().from(auditLog));
    expect(audit.map((entry) => entry.action)).toEqual(['tenant.created']);
    const subscription = await db.withPlatform((tx) => tx.select().from(subscriptions).where(eq(subscriptions.tenantId, created.tenant.id)));
    expect(subscription).toHaveLength(1);
    expect(subscription[0]!.planId).toBe('business');
  });

  it('puts commission tenants on the commission plan without a subscription', async () => {
    const created = await createTenant(deps(), { name: 'Hotspot Akwa', email: 'akwa@example.cm', mode: 'commission' });
    expect(created.tenant.planId).toBe('commission');
    const rows = await db.withPlatform((tx) => tx.select().from(subscriptions).where(eq(subscriptions.tenantId, created.tenant.id)));
    expect(rows).toEqual([]);
  });

  it.each([
    [{ name: 'Other', email: 'other@example.cm', slug: 'wifi-zone-bepanda' }, /slug "wifi-zone-bepanda" already exists/],
    [{ name: 'Other', email: 'OWNER@bepanda.cm', slug: 'other' }, /email "owner@bepanda.cm" already exists/],
    [{ name: 'X', email: 'x@example.cm' }, /name: name must have at least 2 characters/],
    [{ name: 'Good name', email: 'not-an-email' }, /email/],
    [{ name: 'Good name', email: 'a@b.cm', slug: 'Bad Slug' }, /slug/],
    [{ name: 'Good name', email: 'a@b.cm', mode: 'commission' as const, plan: 'starter' as const }, /plan: a plan applies to subscription mode only/],
  ])('refuses %o and leaves nothing half-created', async (input, message) => {
    const before = await platformCounts();
    const error = await createTenant(deps(), input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toMatch(message);
    expect(await platformCounts()).toEqual(before);
  });

  it('lets exactly one of two concurrent creations with the same slug succeed', async () => {
    const before = await platformCounts();
    const results = await Promise.allSettled([
      createTenant(deps(), { name: 'Race One', email: 'race1@example.cm', slug: 'race' }),
      createTenant(deps(), { name: 'Race Two', email: 'race2@example.cm', slug: 'race' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((rejected.reason as AppError).code).toBe('CONFLICT');
    expect((await platformCounts()).tenants).toBe(before.tenants + 1);
  });

  it('lists tenants in creation order', async () => {
    const slugs = (await listTenants({ db })).map((t) => t.slug);
    expect(slugs.slice(0, 2)).toEqual(['wifi-zone-bepanda', 'hotspot-akwa']);
    expect(slugs).toContain('race');
  });
});
