import { and, count, eq, isNull } from 'drizzle-orm';
import { users, type Tx } from '@relais/db';
import { loadPlanLimit, type PlanQuota } from './plan-quota.js';

/**
 * Active agents (role agent, not disabled) against the plan's maximum. Admins are not counted:
 * every tenant has its owner as admin, and the plans sell agent seats. Read-only; `tx` must see
 * the tenant's rows. `now` only names the month notices are deduplicated in.
 */
export async function checkAgentQuota(tx: Tx, tenantId: string, now: Date): Promise<PlanQuota> {
  const plan = await loadPlanLimit(tx, tenantId, 'agents', now);
  return { ...plan, used: await countActiveAgents(tx, tenantId) };
}

/** Users with the agent role that are not disabled. */
export async function countActiveAgents(tx: Tx, tenantId: string): Promise<number> {
  const [row] = await tx
    .select({ used: count() })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.role, 'agent'), isNull(users.disabledAt)));
  return Number(row!.used);
}
