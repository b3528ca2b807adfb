/**
 * Calendar arithmetic for billing: months begin on the 1st at 00:00 on the wall clock of
 * Africa/Douala (the platform's time zone), whatever the server's own zone is. Douala has no
 * daylight saving today (UTC+1), but the offset is read from the time zone database rather than
 * hard-coded, so a future change of rule, or another zone, stays correct.
 */
export const BILLING_TIME_ZONE = 'Africa/Douala';

const ONE_DAY_MS = 24 * 60 * 60 * 1000;

interface WallClock {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClockOf(instant: Date, timeZone: string): WallClock {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(instant).map((part) => [part.type, part.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in milliseconds. */
function offsetMs(instant: Date, timeZone: string): number {
  const wall = wallClockOf(instant, timeZone);
  const wallAsUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return wallAsUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The instant the wall clock of `timeZone` shows 00:00 on that day (month may overflow: 13 = next January). */
function localMidnight(year: number, month: number, day: number, timeZone: string): Date {
  const guess = Date.UTC(year, month - 1, day);
  // Two passes settle the offset even on a day whose offset changes.
  let instant = guess - offsetMs(new Date(guess), timeZone);
  instant = guess - offsetMs(new Date(instant), timeZone);
  return new Date(instant);
}

/** YYYY-MM-DD of `instant` on the wall calendar of `timeZone`. */
export function localDate(instant: Date, timeZone = BILLING_TIME_ZONE): string {
  const { year, month, day } = wallClockOf(instant, timeZone);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** YYYY-MM of `instant` on the wall calendar of `timeZone` (the key of a billing month). */
export function localMonth(instant: Date, timeZone = BILLING_TIME_ZONE): string {
  return localDate(instant, timeZone).slice(0, 7);
}

/** The 1st of the month containing `instant`, 00:00 local. */
export function startOfMonth(instant: Date, timeZone = BILLING_TIME_ZONE): Date {
  const { year, month } = wallClockOf(instant, timeZone);
  return localMidnight(year, month, 1, timeZone);
}

/** The 1st of the month after the one containing `instant`, 00:00 local. */
export function startOfNextMonth(instant: Date, timeZone = BILLING_TIME_ZONE): Date {
  const { year, month } = wallClockOf(instant, timeZone);
  return localMidnight(year, month + 1, 1, timeZone);
}

/** 00:00 local on `isoDate` (YYYY-MM-DD). */
export function startOfLocalDate(isoDate: string, timeZone = BILLING_TIME_ZONE): Date {
  const [year, month, day] = isoDate.split('-').map(Number) as [number, number, number];
  return localMidnight(year, month, day, timeZone);
}

/** `isoDate` moved by `days` calendar days. */
export function addDaysToDate(isoDate: string, days: number): string {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** Calendar days from `fromDate` to `toDate` (YYYY-MM-DD; positive when `toDate` is later). */
export function daysBetweenDates(fromDate: string, toDate: string): number {
  return Math.round((Date.parse(`${toDate}T00:00:00Z`) - Date.parse(`${fromDate}T00:00:00Z`)) / ONE_DAY_MS);
}

/** "mai 2026" / "May 2026": a billing month as people say it. */
export function monthLabel(month: string, locale: 'fr' | 'en'): string {
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  // Mid-month at noon UTC: the same month in every zone.
  return new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(Date.UTC(year, monthNumber - 1, 15, 12)),
  );
}

/** "1 juin 2026" / "1 June 2026". */
export function dayLabel(isoDate: string, locale: 'fr' | 'en'): string {
  return new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(`${isoDate}T12:00:00Z`),
  );
}

/** "15/04/2026": dates as printed on Cameroonian documents. */
export function shortDate(isoDate: string): string {
  const [year, month, day] = isoDate.split('-');
  return `${day}/${month}/${year}`;
}

export interface BillingPeriod {
  /** First instant of the period (00:00 local on `startDate`, or the end of the previous period). */
  start: Date;
  /** First instant after the period: the 1st of a month, 00:00 local. */
  end: Date;
  /** First day, YYYY-MM-DD local. */
  startDate: string;
  /** Last day (inclusive), YYYY-MM-DD local: what the invoice prints. */
  endDate: string;
  /** Days of the period and of the calendar month it falls in (equal for a whole month). */
  days: number;
  daysInMonth: number;
}

/**
 * The period a subscription renews into once `currentPeriodEnd` has passed: from where the last
 * one ended to the next 1st of the month. Months the subscription was left unbilled in full
 * (the job did not run, or the tenant was suspended) are not billed after the fact: the period
 * never starts before the 1st of the month `now` is in. A period that starts mid-month (the
 * first renewal of a tenant created mid-month, or a manual run) is shorter than the month and
 * billed pro rata; every later one is a whole calendar month.
 */
export function renewalPeriod(currentPeriodEnd: Date, now: Date, timeZone = BILLING_TIME_ZONE): BillingPeriod {
  const monthStart = startOfMonth(now, timeZone);
  const start = currentPeriodEnd > monthStart ? currentPeriodEnd : monthStart;
  return periodFrom(start, timeZone);
}

/** The period from `start` to the next 1st of the month. */
export function periodFrom(start: Date, timeZone = BILLING_TIME_ZONE): BillingPeriod {
  const end = startOfNextMonth(start, timeZone);
  const startDate = localDate(start, timeZone);
  const endDate = addDaysToDate(localDate(end, timeZone), -1);
  const firstOfMonth = `${startDate.slice(0, 8)}01`;
  return {
    start,
    end,
    startDate,
    endDate,
    days: daysBetweenDates(startDate, endDate) + 1,
    daysInMonth: daysBetweenDates(firstOfMonth, endDate) + 1,
  };
}

/** The period an invoice covers, from its printed dates. */
export function periodOfDates(startDate: string, endDate: string, timeZone = BILLING_TIME_ZONE): { start: Date; end: Date } {
  return { start: startOfLocalDate(startDate, timeZone), end: startOfLocalDate(addDaysToDate(endDate, 1), timeZone) };
}
