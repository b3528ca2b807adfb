import type { Tx } from '@relais/db';
import { countActiveAgents } from './check-agent-quota.js';
import { notifyPlanLimit } from './notify-plan-limit.js';
import { planLimitReached } from './plan-limit-reached.js';
import { loadPlanLimit, lockPlanMetric, type PlanQuota } from './plan-quota.js';

/**
 * Guards adding one active agent (creating one, re-enabling one, or turning an admin into one):
 * call it in the transaction that makes the change, before it. Refuses with PLAN_LIMIT_REACHED
 * when the plan's seats are all taken; otherwise notifies the admins when this agent brings the
 * count to 80 % or 100 % (once per month and threshold) and returns the quota before the change.
 */
export async function assertCanAddAgent(tx: Tx, tenantId: string, now: Date): Promise<PlanQuota> {
  const plan = await loadPlanLimit(tx, tenantId, 'agents', now);
  if (plan.limit === null) return { ...plan, used: await countActiveAgents(tx, tenantId) };
  await lockPlanMetric(tx, tenantId, 'agents');
  const locked: PlanQuota = { ...plan, used: await countActiveAgents(tx, tenantId) };
  if (locked.used >= plan.limit) throw planLimitReached(locked);
  await notifyPlanLimit(tx, { ...locked, used: locked.used + 1 });
  return locked;
}
