import { eq } from 'drizzle-orm';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { helpdeskSettings, tenants, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';

export const BUSINESS_WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type BusinessWeekday = (typeof BUSINESS_WEEKDAYS)[number];

/** A range of one day's business hours, local wall-clock time: ["08:00", "12:00"]; "24:00" ends at midnight. */
export type BusinessRange = [start: string, end: string];
export type WeeklyHours = Record<BusinessWeekday, BusinessRange[]>;

/** When SLA clocks run: the weekly hours, whole-day holidays, in the tenant's timezone. */
export interface BusinessCalendar {
  /** IANA name, e.g. Africa/Douala. */
  timezone: string;
  weekly: WeeklyHours;
  /** ISO dates (yyyy-mm-dd), local to `timezone`, sorted. */
  holidays: string[];
}

/** Monday to Friday 08:00-18:00, Saturday 08:00-13:00, Sunday closed (decision 014). */
export const DEFAULT_WEEKLY_HOURS: WeeklyHours = {
  mon: [['08:00', '18:00']],
  tue: [['08:00', '18:00']],
  wed: [['08:00', '18:00']],
  thu: [['08:00', '18:00']],
  fri: [['08:00', '18:00']],
  sat: [['08:00', '13:00']],
  sun: [],
};

/** "HH:MM" -> minutes after midnight ("24:00" -> 1440). */
export function minutesAfterMidnight(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

const startTime = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, 'a time is HH:MM, from 00:00 to 23:59');
const endTime = z.string().regex(/^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/, 'an end time is HH:MM, from 00:01 to 24:00');

const rangeSchema = z
  .tuple([startTime, endTime])
  .refine(([start, end]) => minutesAfterMidnight(start) < minutesAfterMidnight(end), 'a range must end after it starts');

const dayRangesSchema = z
  .array(rangeSchema)
  .max(12, 'at most 12 ranges a day')
  .refine((ranges) => ranges.every((range, i) => i === 0 || minutesAfterMidnight(ranges[i - 1]![1]) <= minutesAfterMidnight(range[0])), 'ranges must be in order and must not overlap')
  .default([]);

/** Each day's ranges (a missing day is closed); the week needs at least one range, or no due time could ever be reached. */
export const weeklyHoursSchema = z
  .strictObject(Object.fromEntries(BUSINESS_WEEKDAYS.map((day) => [day, dayRangesSchema])) as Record<BusinessWeekday, typeof dayRangesSchema>)
  .refine((week) => BUSINESS_WEEKDAYS.some((day) => week[day].length > 0), 'the week needs business hours on at least one day');

/** Whole days off (ISO dates), kept sorted and once each. */
export const holidaysSchema = z
  .array(z.iso.date('a holiday is an ISO date (yyyy-mm-dd)'))
  .max(1_000, 'at most 1000 holidays')
  .transform((dates) => [...new Set(dates)].sort());

export const businessTimezoneSchema = z.string().refine((zone) => IANAZone.isValidZone(zone), 'not a known IANA timezone (e.g. Africa/Douala)');

export const businessCalendarSchema = z.object({ timezone: businessTimezoneSchema, weekly: weeklyHoursSchema, holidays: holidaysSchema });

/**
 * The calendar from stored values: helpdesk_settings' hours and holidays (null = never set: the
 * defaults) and the tenant's timezone. Stored values were validated when written; a row that
 * no longer parses is a fault, not something to guess around.
 */
export function businessCalendarFrom(stored: { timezone: string; weeklyHours: unknown; holidays: unknown }): BusinessCalendar {
  const parsed = businessCalendarSchema.safeParse({
    timezone: stored.timezone,
    weekly: stored.weeklyHours ?? DEFAULT_WEEKLY_HOURS,
    holidays: stored.holidays ?? [],
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('INTERNAL', `stored business calendar is invalid (${issue.path.join('.')}: ${issue.message})`);
  }
  return parsed.data;
}

/** The tenant's business calendar (defaults until the helpdesk settings are saved). Needs the tenant's context. */
export async function loadBusinessCalendar(tx: Tx, tenantId: string): Promise<BusinessCalendar> {
  // tenants is central, but a tenant context may read its own row (tenant_reads_own policy).
  const [row] = await tx
    .select({ timezone: tenants.timezone, weeklyHours: helpdeskSettings.weeklyHours, holidays: helpdeskSettings.holidays })
    .from(tenants)
    .leftJoin(helpdeskSettings, eq(helpdeskSettings.tenantId, tenants.id))
    .where(eq(tenants.id, tenantId));
  if (!row) throw new AppError('NOT_FOUND', 'tenant not found');
  return businessCalendarFrom(row);
}
