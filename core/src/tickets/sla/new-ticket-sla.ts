import { TICKET_PRIORITIES } from '@relais/db';
import type { TicketPriority } from '../ticket-values.js';
import { businessCalendarFrom, type BusinessCalendar } from './business-calendar.js';
import { runSlaClock, type TicketSla } from './refresh-ticket-sla.js';
import { storedSlaTargets } from './sla-policy.js';

/** What opening a ticket needs to know, read before any lock: its category's default priority, SLA inputs, auto-assignment. */
export interface TicketOpeningContext {
  categoryPriority: TicketPriority | null;
  autoAssign: boolean;
  /** The SLA columns of a ticket of `priority` created at `createdAt` (no pause, nothing recorded yet). */
  slaFor(priority: TicketPriority, createdAt: Date): TicketSla;
}

/** What ticket opening reads (in its one statement before the lock) to set a new ticket's SLA and defaults. */
export interface TicketOpeningRow {
  timezone: string;
  weekly_hours: unknown;
  holidays: unknown;
  auto_assign: boolean;
  default_priority: string | null;
  /** The SLA policy that applies: the category's, else the tenant's default (null: none). */
  targets: unknown;
}

/**
 * The opening context of one ticket from what opening read: the same rules as
 * `refreshTicketSla`, for a ticket that does not exist yet — creation writes its SLA columns
 * with the row instead of updating them afterwards, under the tenant's ticket lock. `calendar`
 * is shared by the tickets of one tenant opened together (built once, when first needed).
 */
export function ticketOpeningContext(row: TicketOpeningRow, calendar: () => BusinessCalendar): TicketOpeningContext {
  const targets = row.targets === null ? undefined : storedSlaTargets(row.targets);
  return {
    categoryPriority: row.default_priority && (TICKET_PRIORITIES as readonly string[]).includes(row.default_priority) ? (row.default_priority as TicketPriority) : null,
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

/** A tenant's business calendar from the opening row, built on first use and kept. */
export function openingCalendar(row: Pick<TicketOpeningRow, 'timezone' | 'weekly_hours' | 'holidays'>): () => BusinessCalendar {
  let calendar: BusinessCalendar | undefined;
  return () => (calendar ??= businessCalendarFrom({ timezone: row.timezone, weeklyHours: row.weekly_hours, holidays: row.holidays }));
}
