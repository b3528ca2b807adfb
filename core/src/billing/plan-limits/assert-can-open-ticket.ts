import type { Tx } from '@relais/db';
import { countTicketsOfMonth } from './check-ticket-quota.js';
import { planLimitReached } from './plan-limit-reached.js';
import { notifyPlanLimit } from './notify-plan-limit.js';
import { loadPlanLimit, lockPlanMetric, type PlanQuota } from './plan-quota.js';

/**
 * Guards opening one ticket: call it in the transaction that inserts the ticket, before the
 * insert. Refuses with PLAN_LIMIT_REACHED when this month's tickets already fill the plan;
 * otherwise notifies the admins if this ticket brings usage to 80 % or 100 % (once per month and
 * threshold) and returns the quota as it was before the ticket. Concurrent openings for one
 * tenant queue on a transaction lock, so the last place is taken once. An unlimited plan is not
 * counted (`used: null`): counting a busy month's tickets on every opening costs more than the
 * opening itself (checkTicketQuota gives the figure).
 */
export async function assertCanOpenTicket(tx: Tx, tenantId: string, now: Date): Promise<PlanQuota | (Omit<PlanQuota, 'used'> & { used: null })> {
  const plan = await loadPlanLimit(tx, tenantId, 'tickets', now);
  if (plan.limit === null) return { ...plan, used: null };
  await lockPlanMetric(tx, tenantId, 'tickets');
  // Counted under the lock: a concurrent opening has committed its ticket, or not started.
  const locked: PlanQuota = { ...plan, used: await countTicketsOfMonth(tx, tenantId, now) };
  if (locked.used >= plan.limit) throw planLimitReached(locked);
  await notifyPlanLimit(tx, { ...locked, used: locked.used + 1 });
  return locked;
}
