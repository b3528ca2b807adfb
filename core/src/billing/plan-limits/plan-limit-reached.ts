import { AppError } from '../../shared/app-error.js';
import { limitReachedText } from './plan-limit-messages.js';
import type { PlanQuota } from './plan-quota.js';

/** The refusal, with what the reseller can do about it (FR and EN in details.message). */
export function planLimitReached(quota: PlanQuota): AppError {
  const message = limitReachedText(quota);
  return new AppError('PLAN_LIMIT_REACHED', message.en, {
    details: {
      metric: quota.metric,
      used: quota.used,
      limit: quota.limit,
      planId: quota.plan.id,
      month: quota.month,
      resetsOn: quota.metric === 'tickets' ? quota.resetsOn : null,
      upgradePlanId: quota.upgrade?.id ?? null,
      message,
    },
  });
}
