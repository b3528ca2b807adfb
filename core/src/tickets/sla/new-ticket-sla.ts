import { sql } from 'drizzle-orm';
import { executeRows, TICKET_PRIORITIES, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import type { TicketPriority } from '../ticket-values.js';
import { businessCalendarFrom } from './business-calendar.js';
import { runSlaClock, type TicketSla } from './refresh-ticket-sla.js';
import { storedSlaTargets } from './sla-policy.js';

/** What opening a ticket needs to know, read before any lock: its category's default priority, SLA inputs, auto-assignment. */
export interface TicketOpeningContext {
  categoryPriority: TicketPriority | null;
  autoAssign: boolean;
  /** The SLA columns of a ticket of `priority` created at `createdAt` (no pause, nothing recorded yet). */
  slaFor(priority: TicketPriority, createdAt: Date): TicketSla;
}

/**
 * One statement: the tenant's timezone and helpdesk settings, the category (NOT_FOUND when given
 * and not the tenant's) and the SLA policy that applies (the category's, else the default). The
 * same rules as `refreshTicketSla`, for a ticket that does not exist yet: creation writes its SLA
 * columns with the row instead of updating them afterwards, under the tenant's ticket lock.
 */
export async function loadTicketOpeningContext(tx: Tx, options: { tenantId: string; categoryId?: string | null }): Promise<TicketOpeningContext> {
  const categoryId = options.categoryId ?? null;
  const [row] = (await executeRows(
    tx,
    sql`select t.timezone, h.weekly_hours, h.holidays, coalesce(h.auto_assign, true) as auto_assign,
          c.id as category_id, c.default_priority, coalesce(cp.targets, dp.targets) as targets
        from tenants t
        left join helpdesk_settings h on h.tenant_id = t.id
        left join categories c on c.tenant_id = t.id and c.id = ${categoryId}::uuid
        left join sla_policies cp on cp.tenant_id = t.id and cp.id = c.sla_policy_id
        left join sla_policies dp on dp.tenant_id = t.id and dp.is_default
        where t.id = ${options.tenantId}`,
  )) as {
    timezone: string;
    weekly_hours: unknown;
    holidays: unknown;
    auto_assign: boolean;
    category_id: string | null;
    default_priority: TicketPriority | null;
    targets: unknown;
  }[];
  if (!row) throw new AppError('NOT_FOUND', 'tenant not found');
  if (categoryId && !row.category_id) throw new AppError('NOT_FOUND', 'category not found');
  const targets = row.targets === null ? undefined : storedSlaTargets(row.targets);
  const calendar = () => businessCalendarFrom({ timezone: row.timezone, weeklyHours: row.weekly_hours, holidays: row.holidays });
  return {
    categoryPriority: row.default_priority && (TICKET_PRIORITIES as readonly string[]).includes(row.default_priority) ? row.default_priority : null,
    autoAssign: row.auto_assign,
    slaFor(priority, createdAt) {
      const none = { warnedAt: null, breachedAt: null };
      const first = runSlaClock(createdAt, targets?.[priority]?.firstResponseMinutes, 0, createdAt, calendar, none);
      const resolution = runSlaClock(createdAt, targets?.[priority]?.resolutionMinutes, 0, createdAt, calendar, none);
      return {
        firstResponseDueAt: first.dueAt,
        firstResponseWarnAt: first.warnAt,
        resolutionDueAt: resolution.dueAt,
        resolutionWarnAt: resolution.warnAt,
        firstResponseWarnedAt: null,
        firstResponseBreachedAt: null,
        resolutionWarnedAt: null,
        resolutionBreachedAt: null,
        slaPausedAt: null,
        slaPausedMinutes: 0,
      };
    },
  };
}
