import { and, eq, isNull, lte, sql } from 'drizzle-orm';
import { paymentAttempts, payments, type Database } from '@relais/db';

/**
 * How long a collect request owns its payment: longer than the gateway client's timeout, so the
 * reconciler never pushes a second USSD prompt while the first request is still in flight.
 */
export const COLLECT_LEASE_MS = 30_000;
const RETRY_AFTER_UNREACHABLE_MS = 10_000;

/** Stores what the gateway answered to a collect request, once: a later answer never replaces the first reference. */
export async function recordCollectRequest(
  db: Database,
  target: { tenantId: string | null; attemptId: string | null; paymentId: string },
  collected: { reference: string; ussdCode?: string; operator?: string },
  now: Date,
): Promise<void> {
  const answer = { gatewayReference: collected.reference, ussdCode: collected.ussdCode, operator: collected.operator, updatedAt: now };
  await db.withPlatform(async (tx, platform) => {
    await tx
      .update(payments)
      .set({ ...answer, nextCheckAt: now }) // poll its status from now on
      .where(and(eq(payments.id, target.paymentId), isNull(payments.gatewayReference)));
    if (target.tenantId && target.attemptId) {
      await platform.enterTenant(target.tenantId);
      await tx
        .update(paymentAttempts)
        .set(answer)
        .where(and(eq(paymentAttempts.tenantId, target.tenantId), eq(paymentAttempts.id, target.attemptId), isNull(paymentAttempts.gatewayReference)));
    }
  });
}

/** The gateway could not be reached: let the reconciler try again shortly instead of at the lease's end. */
export async function endCollectLease(db: Database, paymentId: string, now: Date): Promise<void> {
  await db.withPlatform((tx) =>
    tx
      .update(payments)
      .set({ nextCheckAt: new Date(now.getTime() + RETRY_AFTER_UNREACHABLE_MS) })
      .where(and(eq(payments.id, paymentId), eq(payments.status, 'pending'), isNull(payments.gatewayReference))),
  );
}

/**
 * Takes the lease on a pending payment whose collect request got no answer; of concurrent
 * reconcilers only one gets true, so one collect request at a time is in flight.
 */
export async function claimCollectRetry(db: Database, paymentId: string, now: Date): Promise<boolean> {
  const claimed = await db.withPlatform((tx) =>
    tx
      .update(payments)
      .set({ nextCheckAt: new Date(now.getTime() + COLLECT_LEASE_MS), checkCount: sql`${payments.checkCount} + 1` })
      .where(and(eq(payments.id, paymentId), eq(payments.status, 'pending'), isNull(payments.gatewayReference), lte(payments.nextCheckAt, now)))
      .returning({ id: payments.id }),
  );
  return claimed.length > 0;
}
