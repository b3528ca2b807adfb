import { and, asc, eq, inArray, lte, ne, sql } from 'drizzle-orm';
import { outbox, tenants, type Database } from '@relais/db';
import { isAppError } from '../shared/app-error.js';
import type { Clock } from '../shared/ports/clock.js';

export interface OutboxDelivery {
  /** Stable across redeliveries: consumers use it to make their effect idempotent. */
  id: string;
  tenantId: string;
  topic: string;
  dedupeKey: string;
  payload: Record<string, unknown>;
  /** 1 on the first try. */
  attempt: number;
}

export type OutboxConsumer = (delivery: OutboxDelivery) => Promise<void>;

export interface DispatchReport {
  delivered: number;
  retried: number;
  dead: number;
}

/** A claimed message not settled within this time (process died mid-delivery) is delivered again. */
export const OUTBOX_LEASE_MS = 60_000;
export const OUTBOX_MAX_ATTEMPTS = 8;
const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 15 * 60_000;

const retryDelayMs = (attempt: number) => Math.min(RETRY_BASE_MS * 2 ** (attempt - 1), RETRY_MAX_MS);

/**
 * Delivers a tenant's pending outbox messages to their topic's consumer, oldest first. Each
 * message is claimed with a lease in its own short transaction (concurrent dispatchers skip each
 * other's rows), handed to the consumer outside any transaction, then marked sent, or retried
 * with backoff and finally marked dead (at once for a non-retryable AppError). At-least-once: a process killed after a consumer ran but
 * before the mark delivers again once the lease ends, so consumers key their effect on `id`.
 * Topics without a consumer stay pending until one is registered: nothing is dropped.
 */
export async function dispatchOutbox(
  deps: { db: Database; clock: Clock; consumers: Record<string, OutboxConsumer>; onError?: (error: unknown, delivery: OutboxDelivery) => void },
  options: { tenantId: string; limit?: number },
): Promise<DispatchReport> {
  const report: DispatchReport = { delivered: 0, retried: 0, dead: 0 };
  const topics = Object.keys(deps.consumers);
  if (topics.length === 0) return report;
  for (let handled = 0; handled < (options.limit ?? 100); handled += 1) {
    const delivery = await claimNext(deps.db, options.tenantId, topics, deps.clock.now());
    if (!delivery) break;
    try {
      await deps.consumers[delivery.topic]!(delivery);
      await settle(deps.db, delivery, { status: 'sent', sentAt: deps.clock.now(), lastError: null });
      report.delivered += 1;
    } catch (error) {
      deps.onError?.(error, delivery);
      // A refusal that will not change (AppError not retryable) is dead at once, not retried for hours.
      const dead = delivery.attempt >= OUTBOX_MAX_ATTEMPTS || (isAppError(error) && !error.retryable);
      await settle(deps.db, delivery, {
        status: dead ? 'dead' : 'pending',
        availableAt: new Date(deps.clock.now().getTime() + retryDelayMs(delivery.attempt)),
        // Only the error's class and first line: consumer errors may quote provider responses.
        lastError: error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]!.slice(0, 300)}` : 'unknown error',
      });
      if (dead) report.dead += 1;
      else report.retried += 1;
    }
  }
  return report;
}

async function claimNext(db: Database, tenantId: string, topics: string[], now: Date): Promise<OutboxDelivery | undefined> {
  return db.withTenant(tenantId, async (tx) => {
    const [row] = await tx
      .select()
      .from(outbox)
      .where(and(eq(outbox.tenantId, tenantId), eq(outbox.status, 'pending'), lte(outbox.availableAt, now), inArray(outbox.topic, topics)))
      .orderBy(asc(outbox.availableAt), asc(outbox.createdAt))
      .limit(1)
      .for('update', { skipLocked: true });
    if (!row) return undefined;
    // The lease: invisible to other dispatchers until it ends or the message is settled.
    await tx
      .update(outbox)
      .set({ attempts: sql`${outbox.attempts} + 1`, availableAt: new Date(now.getTime() + OUTBOX_LEASE_MS) })
      .where(and(eq(outbox.tenantId, tenantId), eq(outbox.id, row.id)));
    return {
      id: row.id,
      tenantId,
      topic: row.topic,
      dedupeKey: row.dedupeKey,
      payload: row.payload as Record<string, unknown>,
      attempt: row.attempts + 1,
    };
  });
}

async function settle(
  db: Database,
  delivery: OutboxDelivery,
  change: { status: 'sent' | 'pending' | 'dead'; sentAt?: Date; availableAt?: Date; lastError: string | null },
): Promise<void> {
  await db.withTenant(delivery.tenantId, (tx) =>
    tx
      .update(outbox)
      .set(change)
      // Only if still ours: a lease that ran out may have been claimed and settled by another.
      .where(and(eq(outbox.tenantId, delivery.tenantId), eq(outbox.id, delivery.id), eq(outbox.attempts, delivery.attempt), ne(outbox.status, 'sent'))),
  );
}

/** Tenants to sweep: every tenant not closed (each has its own RLS-scoped outbox). */
export async function tenantsWithOutbox(db: Database): Promise<string[]> {
  const rows = await db.withPlatform((tx) => tx.select({ id: tenants.id }).from(tenants).where(ne(tenants.status, 'closed')));
  return rows.map((row) => row.id);
}
