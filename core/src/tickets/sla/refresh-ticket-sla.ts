import { and, eq } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { categories, helpdeskSettings, slaPolicies, tenants, tickets, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { businessCalendarFrom, type BusinessCalendar } from './business-calendar.js';
import { addBusinessMinutes, businessMinutesBetween } from './business-clock.js';
import { storedSlaTargets, type PriorityTargets } from './sla-policy.js';

/** Why the SLA is refreshed. Informative only: the ticket's state alone decides, so a refresh is idempotent. */
export type SlaRefreshReason = 'created' | 'priority_changed' | 'status_changed' | 'first_response';

/** The warning fires at 80 % of a target, in whole minutes (integer arithmetic: no 0.8 rounding surprises). */
export function slaWarningMinutes(targetMinutes: number): number {
  return Math.floor((targetMinutes * 4) / 5);
}

/** The SLA columns of a ticket, as refreshTicketSla stored them. */
export interface TicketSla {
  firstResponseDueAt: Date | null;
  firstResponseWarnAt: Date | null;
  resolutionDueAt: Date | null;
  resolutionWarnAt: Date | null;
  firstResponseWarnedAt: Date | null;
  firstResponseBreachedAt: Date | null;
  resolutionWarnedAt: Date | null;
  resolutionBreachedAt: Date | null;
  slaPausedAt: Date | null;
  slaPausedMinutes: number;
}

const categoryPolicy = alias(slaPolicies, 'category_policy');
const defaultPolicy = alias(slaPolicies, 'default_policy');

/**
 * (Re)computes a ticket's SLA columns from its current row, in the caller's transaction, after the
 * caller changed the ticket (creation, priority, status, first agent reply). The rules:
 *
 * - Policy: the category's, else the tenant's default, else none (no due times).
 * - Due = addBusinessMinutes(start, target + sla_paused_minutes); warning at 80 % of the target
 *   (floor, in whole minutes). Start is created_at; for the resolution clock of a reopened ticket,
 *   reopened_at.
 * - Pending pauses both clocks: entering pending stamps sla_paused_at; leaving it adds the business
 *   minutes spent (rounded to the minute) to sla_paused_minutes, which pushes the due times back.
 * - The first-response clock is done once first_responded_at is set, and does not run again for
 *   a reopened ticket (its resolution clock covers the customer's new message): its columns are
 *   left as they were. Resolved or closed: both clocks are done and their columns stay as they
 *   were (with the last pending stretch still credited when the ticket is resolved from pending);
 *   the pause count restarts at 0, so that a reopening starts afresh from reopened_at.
 * - Recorded warnings and breaches (*_warned_at, *_breached_at) are cleared when the recomputed
 *   warning / due time lies after `now` — the event then fires again at the new time — and kept
 *   when it has still passed (a breach recorded stays recorded while it still holds). A target
 *   removed clears them with its due times.
 */
export async function refreshTicketSla(tx: Tx, options: { tenantId: string; ticketId: string; now: Date; reason: SlaRefreshReason }): Promise<TicketSla> {
  const { tenantId, ticketId, now } = options;
  const [row] = await tx
    .select({
      ticket: {
        status: tickets.status,
        priority: tickets.priority,
        createdAt: tickets.createdAt,
        reopenedAt: tickets.reopenedAt,
        firstRespondedAt: tickets.firstRespondedAt,
        firstResponseDueAt: tickets.firstResponseDueAt,
        firstResponseWarnAt: tickets.firstResponseWarnAt,
        resolutionDueAt: tickets.resolutionDueAt,
        resolutionWarnAt: tickets.resolutionWarnAt,
        firstResponseWarnedAt: tickets.firstResponseWarnedAt,
        firstResponseBreachedAt: tickets.firstResponseBreachedAt,
        resolutionWarnedAt: tickets.resolutionWarnedAt,
        resolutionBreachedAt: tickets.resolutionBreachedAt,
        slaPausedAt: tickets.slaPausedAt,
        slaPausedMinutes: tickets.slaPausedMinutes,
      },
      categoryTargets: categoryPolicy.targets,
      defaultTargets: defaultPolicy.targets,
      timezone: tenants.timezone,
      weeklyHours: helpdeskSettings.weeklyHours,
      holidays: helpdeskSettings.holidays,
    })
    .from(tickets)
    .innerJoin(tenants, eq(tenants.id, tickets.tenantId))
    .leftJoin(categories, and(eq(categories.tenantId, tickets.tenantId), eq(categories.id, tickets.categoryId)))
    .leftJoin(categoryPolicy, and(eq(categoryPolicy.tenantId, tickets.tenantId), eq(categoryPolicy.id, categories.slaPolicyId)))
    .leftJoin(defaultPolicy, and(eq(defaultPolicy.tenantId, tickets.tenantId), eq(defaultPolicy.isDefault, true)))
    .leftJoin(helpdeskSettings, eq(helpdeskSettings.tenantId, tickets.tenantId))
    .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId)));
  if (!row) throw new AppError('NOT_FOUND', 'ticket not found');
  const { ticket } = row;

  let calendar: BusinessCalendar | undefined;
  const calendarOf = () => (calendar ??= businessCalendarFrom(row));
  const policyTargets = row.categoryTargets ?? row.defaultTargets;
  const targets: PriorityTargets = policyTargets === null ? {} : (storedSlaTargets(policyTargets)[ticket.priority] ?? {});

  let pausedAt = ticket.slaPausedAt;
  let pausedMinutes = ticket.slaPausedMinutes;
  const leavingPause = ticket.status !== 'pending' && pausedAt !== null;
  if (ticket.status === 'pending' && pausedAt === null) pausedAt = now;
  if (leavingPause) {
    pausedMinutes += Math.round(businessMinutesBetween(pausedAt!, now, calendarOf()));
    pausedAt = null;
  }

  const done = ticket.status === 'resolved' || ticket.status === 'closed';
  const sla: TicketSla = { ...pick(ticket), slaPausedAt: pausedAt, slaPausedMinutes: done ? 0 : pausedMinutes };
  if (!done || leavingPause) {
    if (ticket.firstRespondedAt === null && ticket.reopenedAt === null) {
      const clock = runSlaClock(ticket.createdAt, targets.firstResponseMinutes, pausedMinutes, now, calendarOf, {
        warnedAt: ticket.firstResponseWarnedAt,
        breachedAt: ticket.firstResponseBreachedAt,
      });
      Object.assign(sla, {
        firstResponseDueAt: clock.dueAt,
        firstResponseWarnAt: clock.warnAt,
        firstResponseWarnedAt: clock.warnedAt,
        firstResponseBreachedAt: clock.breachedAt,
      });
    }
    const clock = runSlaClock(ticket.reopenedAt ?? ticket.createdAt, targets.resolutionMinutes, pausedMinutes, now, calendarOf, {
      warnedAt: ticket.resolutionWarnedAt,
      breachedAt: ticket.resolutionBreachedAt,
    });
    Object.assign(sla, { resolutionDueAt: clock.dueAt, resolutionWarnAt: clock.warnAt, resolutionWarnedAt: clock.warnedAt, resolutionBreachedAt: clock.breachedAt });
  }
  await tx.update(tickets).set(sla).where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId)));
  return sla;
}

function pick(ticket: TicketSla): Omit<TicketSla, 'slaPausedAt' | 'slaPausedMinutes'> {
  return {
    firstResponseDueAt: ticket.firstResponseDueAt,
    firstResponseWarnAt: ticket.firstResponseWarnAt,
    resolutionDueAt: ticket.resolutionDueAt,
    resolutionWarnAt: ticket.resolutionWarnAt,
    firstResponseWarnedAt: ticket.firstResponseWarnedAt,
    firstResponseBreachedAt: ticket.firstResponseBreachedAt,
    resolutionWarnedAt: ticket.resolutionWarnedAt,
    resolutionBreachedAt: ticket.resolutionBreachedAt,
  };
}

/** One clock's due and warning times, and which recorded marks still hold (for a new ticket: none). */
export function runSlaClock(
  start: Date,
  targetMinutes: number | undefined,
  pausedMinutes: number,
  now: Date,
  calendar: () => BusinessCalendar,
  recorded: { warnedAt: Date | null; breachedAt: Date | null },
): { dueAt: Date | null; warnAt: Date | null; warnedAt: Date | null; breachedAt: Date | null } {
  if (targetMinutes === undefined) return { dueAt: null, warnAt: null, warnedAt: null, breachedAt: null };
  const dueAt = addBusinessMinutes(start, targetMinutes + pausedMinutes, calendar());
  const warnAt = addBusinessMinutes(start, slaWarningMinutes(targetMinutes) + pausedMinutes, calendar());
  return {
    dueAt,
    warnAt,
    warnedAt: warnAt > now ? null : recorded.warnedAt,
    breachedAt: dueAt > now ? null : recorded.breachedAt,
  };
}
