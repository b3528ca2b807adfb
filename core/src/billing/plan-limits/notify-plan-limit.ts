import { and, eq, isNull } from 'drizzle-orm';
import { notifications, users, type Tx } from '@relais/db';
import { writeToOutbox } from '../../shared/outbox.js';
import { limitReachedText, limitTitle, limitWarningText } from './plan-limit-messages.js';
import { reachedThresholds, usagePercent, type PlanMetric, type PlanQuota } from './plan-quota.js';

export const PLAN_LIMIT_NOTIFICATION_KINDS = { 80: 'plan.limit_warning', 100: 'plan.limit_reached' } as const;

/** Unique per tenant in the outbox: one notice per metric, month and threshold. */
export function planLimitDedupeKey(metric: PlanMetric, month: string, threshold: 80 | 100): string {
  return `plan-limit:${metric}:${month}:${threshold}`;
}

/**
 * Tells the tenant's admins, once per month and threshold, that `quota` (usage as it will be
 * once the caller's change commits) has reached 80 % or 100 % of the plan: an outbox message
 * keyed `plan-limit:<metric>:<yyyy-mm>:<80|100>`, and, only if that message is new, one
 * `notifications` row per active admin. At 100 % only the "reached" notice is sent (a jump
 * straight past 80 % does not send a stale warning after it). Written in the caller's
 * transaction, which must see the tenant's rows: a rolled-back change notifies nobody.
 * Returns the thresholds notified now.
 */
export async function notifyPlanLimit(tx: Tx, quota: PlanQuota): Promise<(80 | 100)[]> {
  const sent: (80 | 100)[] = [];
  const percent = usagePercent(quota.used, quota.limit);
  for (const threshold of reachedThresholds(quota.used, quota.limit)) {
    const kind = PLAN_LIMIT_NOTIFICATION_KINDS[threshold];
    const admins = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.tenantId, quota.tenantId), eq(users.role, 'admin'), isNull(users.disabledAt)));
    const payload = {
      metric: quota.metric,
      threshold,
      used: quota.used,
      limit: quota.limit,
      percent,
      month: quota.month,
      planId: quota.plan.id,
      upgradePlanId: quota.upgrade?.id ?? null,
      title: limitTitle(quota, threshold),
      message: threshold === 100 ? limitReachedText(quota) : limitWarningText(quota, percent ?? threshold),
    };
    const created = await writeToOutbox(tx, quota.tenantId, {
      topic: kind,
      dedupeKey: planLimitDedupeKey(quota.metric, quota.month, threshold),
      payload: { ...payload, userIds: admins.map((admin) => admin.id) },
    });
    if (!created) continue;
    if (admins.length > 0) {
      await tx.insert(notifications).values(admins.map((admin) => ({ tenantId: quota.tenantId, userId: admin.id, kind, payload })));
    }
    sent.push(threshold);
  }
  return sent;
}
