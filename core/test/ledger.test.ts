import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accountBalance,
  AppError,
  createTenant,
  ledgerTrialBalance,
  postJournalEntry,
  recordCollectedPayment,
  splitPayment,
  systemClock,
  walletBalance,
} from '@relais/core';
import { payments, type Database, type Tx } from '@relais/db';
import { createTestDatabase, type TestDatabase } from '../../tests/support/test-database.js';

describe('splitPayment', () => {
  it('always sums to the gross, never pays the platform more than its rate, and is whole francs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000_000 }), fc.integer({ min: 0, max: 10_000 }), (gross, rate) => {
        const { platformFeeXaf, resellerXaf } = splitPayment(gross, rate);
        return (
          platformFeeXaf + resellerXaf === gross &&
          Number.isInteger(platformFeeXaf) &&
          platformFeeXaf >= 0 &&
          resellerXaf >= 0 &&
          platformFeeXaf * 10_000 <= gross * rate &&
          (platformFeeXaf + 1) * 10_000 > gross * rate
        );
      }),
    );
  });

  it.each([
    [500, 1_000, 50, 450],
    [105, 1_000, 10, 95],
    [52_000, 1_000, 5_200, 46_800],
    [1, 1_000, 0, 1],
    [999, 0, 0, 999],
  ])('%i XAF at %i bps -> platform %i, reseller %i', (gross, rate, fee, reseller) => {
    expect(splitPayment(gross, rate)).toEqual({ platformFeeXaf: fee, resellerXaf: reseller });
  });

  it.each([[0], [-5], [10.5], [Number.NaN]])('refuses a gross of %s', (gross) => {
    expect(() => splitPayment(gross, 1_000)).toThrow(AppError);
  });
});

/** A settled gateway payment for the ledger lines to point at. */
async function paymentOf(tx: Tx, tenantId: string, amountXaf: number) {
  const [row] = await tx
    .insert(payments)
    .values({ tenantId, kind: 'customer_payment', externalReference: randomUUID(), phone: '+237670000000', amountXaf, status: 'successful', expiresAt: new Date() })
    .returning({ id: payments.id });
  return { id: row!.id, tenantId, amountXaf };
}

describe('ledger', () => {
  let test: TestDatabase;
  let db: Database;
  let tenantId: string;

  beforeAll(async () => {
    test = await createTestDatabase();
    db = test.db;
    tenantId = (await createTenant({ db, clock: systemClock }, { name: 'Ledger Test', email: 'ledger@example.cm', mode: 'commission' })).tenant.id;
  });
  afterAll(async () => {
    if (db) expect(await db.withPlatform((tx) => ledgerTrialBalance(tx))).toBe(0);
    await test?.drop();
  });

  it('credits the wallet with 90% and the platform with 10% of a commission-mode payment', async () => {
    await db.withPlatform(async (tx) => {
      await recordCollectedPayment(tx, { ...(await paymentOf(tx, tenantId, 500)), billingMode: 'commission', commissionRateBps: 1_000 });
      await recordCollectedPayment(tx, { ...(await paymentOf(tx, tenantId, 105)), billingMode: 'commission', commissionRateBps: 1_000 });
    });
    const balances = await db.withPlatform(async (tx) => ({
      wallet: await walletBalance(tx, tenantId),
      revenue: await accountBalance(tx, 'platform_revenue'),
      clearing: await accountBalance(tx, 'gateway_clearing'),
      trial: await ledgerTrialBalance(tx),
    }));
    expect(balances).toEqual({ wallet: 450 + 95, revenue: -(50 + 10), clearing: 605, trial: 0 });
  });

  it('credits the whole amount to a subscription-mode wallet', async () => {
    const other = (await createTenant({ db, clock: systemClock }, { name: 'Subscriber', email: 'sub@example.cm', plan: 'starter' })).tenant.id;
    await db.withPlatform(async (tx) => recordCollectedPayment(tx, { ...(await paymentOf(tx, other, 1_000)), billingMode: 'subscription', commissionRateBps: 1_000 }));
    expect(await db.withPlatform((tx) => walletBalance(tx, other))).toBe(1_000);
  });

  it('refuses unbalanced, fractional or ownerless entries and writes nothing', async () => {
    const attempts = [
      { description: 'unbalanced', lines: [{ account: 'gateway_clearing' as const, amountXaf: 10 }, { account: 'platform_revenue' as const, amountXaf: -9 }] },
      { description: 'fractional', lines: [{ account: 'gateway_clearing' as const, amountXaf: 10.5 }, { account: 'platform_revenue' as const, amountXaf: -10.5 }] },
      { description: 'ownerless wallet', lines: [{ account: 'gateway_clearing' as const, amountXaf: 10 }, { account: 'tenant_wallet' as const, amountXaf: -10 }] },
      { description: 'one line', lines: [{ account: 'gateway_clearing' as const, amountXaf: 0 }, { account: 'payouts' as const, amountXaf: 0 }] },
    ];
    for (const entry of attempts) {
      await expect(db.withPlatform((tx) => postJournalEntry(tx, entry))).rejects.toThrow(AppError);
    }
    expect(await db.withPlatform((tx) => ledgerTrialBalance(tx))).toBe(0);
  });
});
