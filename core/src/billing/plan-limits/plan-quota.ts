import { and, asc, eq, ne } from 'drizzle-orm';
import { plans, tenants, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { lockKey } from '../../shared/transaction-lock.js';
import { localDate, localMonth, startOfNextMonth } from '../subscriptions/billing-calendar.js';

/** What a plan limits: tickets opened per calendar month, and active agents at any time. */
export type PlanMetric = 'tickets' | 'agents';

/** Usage at or above this share of the limit earns the reseller's admins a warning (once a month). */
export const PLAN_LIMIT_WARNING_PERCENT = 80;

export interface PlanSummary {
  id: string;
  name: { fr: string; en: string };
  /** null = unlimited */
  limit: number | null;
}

/** One metric of a tenant's plan, measured now. */
export interface PlanQuota {
  metric: PlanMetric;
  tenantId: string;
  plan: PlanSummary;
  /** null = unlimited */
  limit: number | null;
  used: number;
  /** YYYY-MM in Africa/Douala: the month tickets are counted in and notices are sent once per. */
  month: string;
  /** YYYY-MM-DD: the 1st of the next month, when the ticket count starts again. */
  resetsOn: string;
  /** The cheapest subscription plan with a higher limit for this metric, if any: what to suggest. */
  upgrade?: PlanSummary;
}

type PlanRow = typeof plans.$inferSelect;

const limitOf = (plan: PlanRow, metric: PlanMetric): number | null => (metric === 'tickets' ? plan.ticketsPerMonth : plan.maxAgents);
const summaryOf = (plan: PlanRow, metric: PlanMetric): PlanSummary => ({ id: plan.id, name: { fr: plan.nameFr, en: plan.nameEn }, limit: limitOf(plan, metric) });

/**
 * The tenant's plan and the limit it sets for `metric`. Works in a tenant transaction (a tenant
 * reads its own tenants row and every plan) or a platform one. Commission tenants have the
 * 'commission' plan's limits, from the plans table like any other.
 */
export async function loadPlanLimit(tx: Tx, tenantId: string, metric: PlanMetric, now: Date): Promise<Omit<PlanQuota, 'used'>> {
  const [tenant] = await tx.select({ planId: tenants.planId, billingMode: tenants.billingMode }).from(tenants).where(eq(tenants.id, tenantId));
  if (!tenant) throw new AppError('NOT_FOUND', `tenant ${tenantId} not found`);
  const planId = tenant.planId ?? (tenant.billingMode === 'commission' ? 'commission' : undefined);
  const [plan] = planId ? await tx.select().from(plans).where(eq(plans.id, planId)) : [];
  if (!plan) throw new AppError('CONFLICT', `tenant ${tenantId} has no plan; choose one before opening tickets or adding agents`);
  const limit = limitOf(plan, metric);
  let upgrade: PlanSummary | undefined;
  if (limit !== null) {
    // Suggest a subscription plan (commission is a billing mode, not an upgrade), cheapest first.
    const candidates = await tx
      .select()
      .from(plans)
      .where(and(eq(plans.active, true), eq(plans.commissionRateBps, 0), ne(plans.id, plan.id)))
      .orderBy(asc(plans.monthlyFeeXaf));
    const better = candidates.find((candidate) => {
      const other = limitOf(candidate, metric);
      return other === null || other > limit;
    });
    if (better) upgrade = summaryOf(better, metric);
  }
  return {
    metric,
    tenantId,
    plan: summaryOf(plan, metric),
    limit,
    month: localMonth(now),
    resetsOn: localDate(startOfNextMonth(now)),
    upgrade,
  };
}

/**
 * Serialises, until the transaction ends, the check-then-insert of one metric for one tenant, so
 * that two tickets opened at once cannot both take the last place.
 */
export async function lockPlanMetric(tx: Tx, tenantId: string, metric: PlanMetric): Promise<void> {
  await lockKey(tx, `plan-limit:${metric}:${tenantId}`);
}

/** Share of the limit used, rounded down; null when unlimited. */
export function usagePercent(used: number, limit: number | null): number | null {
  if (limit === null) return null;
  if (limit <= 0) return 100;
  return Math.floor((used * 100) / limit);
}

/** The thresholds (80, 100) that `used` has reached. */
export function reachedThresholds(used: number, limit: number | null): (80 | 100)[] {
  if (limit === null || limit <= 0) return [];
  if (used >= limit) return [100];
  return used * 100 >= limit * PLAN_LIMIT_WARNING_PERCENT ? [80] : [];
}
