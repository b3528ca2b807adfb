import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPackage, createSecretBox, findPackageByName, listPackages, updatePackage } from '@relais/core';
import { errorOf } from '../support/app-error-of.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/test-database.js';
import { createRouterRow, createWifiTenant } from './wifi-claim-fixtures.js';

describe.each(testDrivers())('WiFi packages on %s', (driver) => {
  let test: TestDatabase;
  let tenantId: string;
  let otherTenantId: string;
  const secrets = createSecretBox(randomBytes(32));
  const valid = () => ({ tenantId, nameFr: '1 jour', nameEn: '1 day', priceXaf: 500, validityMinutes: 1_440 });

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    tenantId = await createWifiTenant(test.db, 'pkg');
    otherTenantId = await createWifiTenant(test.db, 'pkg-other');
  });
  afterAll(async () => test?.drop());

  it('creates a package with limits, profile, rate limit and routers, and lists it with its stock', async () => {
    const akwa = await createRouterRow(test.db, secrets, tenantId, { name: 'Akwa' });
    await createRouterRow(test.db, secrets, tenantId, { name: 'Bonapriso' });
    const created = await createPackage({ db: test.db }, {
      ...valid(),
      nameFr: 'Semaine',
      nameEn: 'Week',
      priceXaf: 2_500,
      validityMinutes: 7 * 1_440,
      timeLimitSeconds: 10_800,
      dataLimitBytes: 1_073_741_824,
      mikrotikProfile: 'semaine',
      rateLimit: '2M/5M',
      routerNames: ['akwa'],
      lowStockThreshold: 5,
      generateOnDemand: true,
    });
    expect(created).toMatchObject({
      name: { fr: 'Semaine', en: 'Week' },
      priceXaf: 2_500,
      timeLimitSeconds: 10_800,
      dataLimitBytes: 1_073_741_824,
      mikrotikProfile: 'semaine',
      rateLimit: '2M/5M',
      lowStockThreshold: 5,
      generateOnDemand: true,
      active: true,
      routers: [{ id: akwa, name: 'Akwa' }],
      stock: { available: 0, sold: 0 },
    });
    const listed = await listPackages({ db: test.db }, { tenantId });
    expect(listed.map((item) => item.id)).toContain(created.id);
    expect(await findPackageByName({ db: test.db }, { tenantId, name: 'WEEK' })).toMatchObject({ id: created.id });
  });

  it('defaults: profile "default", no limits, low stock at 10, active, no router', async () => {
    const created = await createPackage({ db: test.db }, { ...valid(), nameFr: 'Défaut', nameEn: 'Default' });
    expect(created).toMatchObject({ mikrotikProfile: 'default', timeLimitSeconds: null, dataLimitBytes: null, rateLimit: null, lowStockThreshold: 10, active: true, generateOnDemand: false, routers: [] });
  });

  it.each([
    [{ priceXaf: -1 }, /priceXaf: cannot be negative/],
    [{ priceXaf: 12.5 }, /priceXaf: must be a whole number of XAF/],
    [{ validityMinutes: 0 }, /validityMinutes: must be at least one minute/],
    [{ nameFr: '  ' }, /nameFr: the French name is required/],
    [{ rateLimit: 'fast' }, /rateLimit: must be a RouterOS rate limit/],
    [{ mikrotikProfile: 'a=b' }, /mikrotikProfile: must be a RouterOS hotspot user profile name/],
    [{ dataLimitBytes: 0 }, /dataLimitBytes: must be positive/],
    [{ lowStockThreshold: -3 }, /lowStockThreshold: cannot be negative/],
  ])('refuses %o with a clear VALIDATION_FAILED', async (change, message) => {
    const error = await errorOf(createPackage({ db: test.db }, { ...valid(), nameFr: `x ${JSON.stringify(change)}`, nameEn: `y ${JSON.stringify(change)}`, ...change }));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(message);
  });

  it('refuses an unknown router, and a router of another tenant', async () => {
    expect((await errorOf(createPackage({ db: test.db }, { ...valid(), nameFr: 'r1', nameEn: 'r1', routerNames: ['Nowhere'] }))).message).toMatch(/no router named "Nowhere"/);
    const foreign = await createRouterRow(test.db, secrets, otherTenantId, { name: 'Foreign' });
    const error = await errorOf(createPackage({ db: test.db }, { ...valid(), nameFr: 'r2', nameEn: 'r2', routerIds: [foreign] }));
    expect(error.message).toMatch(/no router with id/);
  });

  it('refuses a second package with the same name (people pick packages by name)', async () => {
    await createPackage({ db: test.db }, { ...valid(), nameFr: 'Nuit', nameEn: 'Night' });
    const error = await errorOf(createPackage({ db: test.db }, { ...valid(), nameFr: 'Autre', nameEn: 'nuit' }));
    expect(error.code).toBe('CONFLICT');
  });

  it('updates the given fields only and replaces the router set', async () => {
    const router = await createRouterRow(test.db, secrets, tenantId, { name: 'Deido' });
    const created = await createPackage({ db: test.db }, { ...valid(), nameFr: 'Heure', nameEn: 'Hour', validityMinutes: 60, routerIds: [router] });
    const updated = await updatePackage({ db: test.db }, { tenantId, packageId: created.id, priceXaf: 150, active: false, routerIds: [] });
    expect(updated).toMatchObject({ name: { fr: 'Heure', en: 'Hour' }, priceXaf: 150, validityMinutes: 60, active: false, routers: [] });
    expect((await errorOf(updatePackage({ db: test.db }, { tenantId: otherTenantId, packageId: created.id, priceXaf: 1 }))).code).toBe('NOT_FOUND');
  });
});
