import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPackage, createSecretBox, generateVouchers, VOUCHER_ALPHABET_NAMES, VOUCHER_ALPHABETS } from '@relais/core';
import { outbox, wifiVouchers } from '@relais/db';
import { errorOf } from '../support/app-error-of.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/test-database.js';
import { createRouterRow, createStockedPackage, createWifiTenant } from './wifi-claim-fixtures.js';

const LOOK_ALIKES = /[01lIoOq]/;

describe.each(testDrivers())('voucher generation on %s', (driver) => {
  let test: TestDatabase;
  let tenantId: string;
  let packageId: string;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    tenantId = await createWifiTenant(test.db, 'gen');
    packageId = await createStockedPackage(test.db, tenantId);
  });
  afterAll(async () => test?.drop());

  const storedCodes = () => test.db.withTenant(tenantId, (tx) => tx.select({ username: wifiVouchers.username }).from(wifiVouchers).where(eq(wifiVouchers.tenantId, tenantId)));

  it('makes codes of the asked length, prefix and alphabet, unique per tenant, stored available', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          count: fc.integer({ min: 1, max: 40 }),
          length: fc.integer({ min: 5, max: 16 }),
          prefix: fc.stringMatching(/^[A-Za-z0-9]{0,6}$/),
          alphabet: fc.constantFrom(...VOUCHER_ALPHABET_NAMES),
          separatePassword: fc.boolean(),
        }),
        async (options) => {
          const before = new Set((await storedCodes()).map((row) => row.username));
          const generated = await generateVouchers({ db: test.db }, { tenantId, packageId, ...options });
          expect(generated.count).toBe(options.count);
          const characters = new Set(VOUCHER_ALPHABETS[options.alphabet]);
          for (const { username, password } of generated.vouchers) {
            expect(username.startsWith(options.prefix)).toBe(true);
            const random = username.slice(options.prefix.length);
            expect(random).toHaveLength(options.length);
            expect([...random].every((c) => characters.has(c))).toBe(true);
            expect(random).not.toMatch(LOOK_ALIKES);
            expect(before.has(username)).toBe(false);
            if (options.separatePassword) {
              expect(password).toHaveLength(options.length);
              expect([...password].every((c) => characters.has(c))).toBe(true);
            } else expect(password).toBe(username);
          }
          expect(new Set(generated.vouchers.map((v) => v.username)).size).toBe(options.count);
          const rows = await test.db.withTenant(tenantId, (tx) =>
            tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.packageId, packageId))),
          );
          const ours = rows.filter((row) => generated.vouchers.some((v) => v.id === row.id));
          expect(ours).toHaveLength(options.count);
          expect(ours.every((row) => row.status === 'available' && row.source === 'generated' && row.routerId === null && row.ticketId === null)).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
    const all = (await storedCodes()).map((row) => row.username);
    expect(new Set(all).size).toBe(all.length);
  });

  it('fills a small code space without duplicates (collisions are drawn again), then refuses clearly', async () => {
    // 3 digits from 8: 512 codes; a batch may take the space up to half.
    const first = await generateVouchers({ db: test.db }, { tenantId, packageId, count: 150, length: 3, alphabet: 'digits', prefix: 'D' });
    const second = await generateVouchers({ db: test.db }, { tenantId, packageId, count: 100, length: 3, alphabet: 'digits', prefix: 'D' });
    const codes = [...first.vouchers, ...second.vouchers].map((v) => v.username);
    expect(new Set(codes).size).toBe(250);
    const error = await errorOf(generateVouchers({ db: test.db }, { tenantId, packageId, count: 10, length: 3, alphabet: 'digits', prefix: 'D' }));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/make only 512 codes \(250 already used\), too few for 10 more; use a longer code/);
  });

  it.each([
    [{ count: 0 }, /count: must be at least 1/],
    [{ count: 10_001 }, /count: at most 10000 per batch/],
    [{ count: 1, length: 2 }, /length: must be at least 3/],
    [{ count: 1, length: 17 }, /length: at most 16/],
    [{ count: 1, prefix: 'TOOLONG' }, /prefix: must be up to 6 letters or digits/],
    [{ count: 1, alphabet: 'emoji' }, /alphabet: must be one of digits, lower, upper, mixed/],
  ])('refuses %o', async (change, message) => {
    const error = await errorOf(generateVouchers({ db: test.db }, { tenantId, packageId, count: 1, ...(change as object) }));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(message);
  });

  it("stores vouchers of a package on a router for that router, waiting for the push, and asks for the push", async () => {
    const secrets = createSecretBox(randomBytes(32));
    const router = await createRouterRow(test.db, secrets, tenantId, { name: `gen-${randomBytes(3).toString('hex')}` });
    const pkg = await createPackage({ db: test.db }, { tenantId, nameFr: 'Routé', nameEn: 'Routed', priceXaf: 200, validityMinutes: 60, routerIds: [router] });
    const generated = await generateVouchers({ db: test.db }, { tenantId, packageId: pkg.id, count: 5 });
    expect(generated.router).toMatchObject({ id: router });
    const rows = await test.db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.packageId, pkg.id))));
    expect(rows.every((row) => row.routerId === router && row.pushedToRouterAt === null && row.routerUserId === null)).toBe(true);
    const messages = await test.db.withTenant(tenantId, (tx) => tx.select().from(outbox).where(and(eq(outbox.tenantId, tenantId), eq(outbox.topic, 'wifi.router_push_required'))));
    expect(messages.map((m) => m.payload)).toContainEqual(expect.objectContaining({ routerId: router, packageId: pkg.id, count: 5 }));
  });

  it('needs a router choice when the package is on several routers', async () => {
    const secrets = createSecretBox(randomBytes(32));
    const a = await createRouterRow(test.db, secrets, tenantId, { name: `a-${randomBytes(3).toString('hex')}` });
    const b = await createRouterRow(test.db, secrets, tenantId, { name: `b-${randomBytes(3).toString('hex')}` });
    const pkg = await createPackage({ db: test.db }, { tenantId, nameFr: 'Deux', nameEn: 'Two', priceXaf: 200, validityMinutes: 60, routerIds: [a, b] });
    expect((await errorOf(generateVouchers({ db: test.db }, { tenantId, packageId: pkg.id, count: 1 }))).message).toMatch(/sold on several routers/);
    expect((await generateVouchers({ db: test.db }, { tenantId, packageId: pkg.id, count: 1, routerId: b })).router?.id).toBe(b);
  });

  it("cannot generate for another tenant's package", async () => {
    const other = await createWifiTenant(test.db, 'gen-other');
    expect((await errorOf(generateVouchers({ db: test.db }, { tenantId: other, packageId, count: 1 }))).code).toBe('NOT_FOUND');
  });
});
