import { and, count, eq, gte, lt } from 'drizzle-orm';
import { tickets, type Tx } from '@relais/db';
import { startOfMonth, startOfNextMonth } from '../subscriptions/billing-calendar.js';
import { loadPlanLimit, type PlanQuota } from './plan-quota.js';

/**
 * Tickets the tenant opened in the calendar month of `now` (Africa/Douala), against its plan's
 * monthly quota. Read-only; `tx` must see the tenant's rows (withTenant, or a platform
 * transaction after enterTenant).
 */
export async function checkTicketQuota(tx: Tx, tenantId: string, now: Date): Promise<PlanQuota> {
  const plan = await loadPlanLimit(tx, tenantId, 'tickets', now);
  return { ...plan, used: await countTicketsOfMonth(tx, tenantId, now) };
}

/** Tickets created in the Douala calendar month of `now`. */
export async function countTicketsOfMonth(tx: Tx, tenantId: string, now: Date): Promise<number> {
  const [row] = await tx
    .select({ used: count() })
    .from(tickets)
    .where(and(eq(tickets.tenantId, tenantId), gte(tickets.createdAt, startOfMonth(now)), lt(tickets.createdAt, startOfNextMonth(now))));
  return Number(row!.used);
}
