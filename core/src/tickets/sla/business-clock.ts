import { IANAZone } from 'luxon';
import { AppError } from '../../shared/app-error.js';
import { BUSINESS_WEEKDAYS, minutesAfterMidnight, type BusinessCalendar, type BusinessWeekday } from './business-calendar.js';

/**
 * Business time, exact to the millisecond. An instant is business time when the tenant's wall
 * clock shows a time inside one of that weekday's ranges [start, end) and the local date is not
 * a holiday. On a daylight-saving day this follows the wall clock: an hour skipped in spring is
 * not worked, an hour repeated in autumn is worked twice (both match a range).
 *
 * Conventions the SLA relies on (checked by the property tests):
 * - `addBusinessMinutes(t, m)` is the EARLIEST instant u >= t such that m business minutes lie
 *   in [t, u). So for m > 0 the result is inside business hours or exactly at the end of a
 *   range (Friday 17:30 + 30 min = Friday 18:00, not the next opening), adding 0 returns t
 *   itself, and add(add(t, a), b) = add(t, a + b).
 * - `businessMinutesBetween(from, to)` is the business time in [from, to), in minutes
 *   (fractional when the span has seconds), 0 when `to` is not after `from`; it round-trips:
 *   between(t, add(t, m)) = m.
 * - A calendar without any business hours cannot reach a due time: adding to it throws
 *   VALIDATION_FAILED instead of looping (the calendar schema already refuses such a week).
 *
 * Cost: whole closed days cost a lookup, open days are computed once per calendar and cached,
 * and whole weeks are skipped at once when no holiday or clock change falls in them.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** Wider than any UTC offset (-12 h .. +14 h): [W - margin, W + day + margin] holds every instant of local day W. */
const OFFSET_MARGIN_MS = 15 * 3_600_000;
/** Days and calendars kept compiled (bounded memory: at most about 256 × 512 small arrays). */
const DAY_CACHE_SIZE = 512;
const CALENDAR_CACHE_SIZE = 256;

/** [start, end) in epoch milliseconds. */
type Interval = readonly [number, number];

interface CompiledCalendar {
  zone: IANAZone;
  /** Indexed by JS weekday (0 = Sunday): merged [start, end) minute ranges after local midnight. */
  ranges: (readonly [number, number])[][];
  /** Business milliseconds in a week without holidays or clock changes. */
  weekMs: number;
  /** Holidays as their local date's midnight read as UTC ("wall midnight"), sorted. */
  holidays: number[];
  holidaySet: Set<number>;
  /** Business intervals of each local day, by wall midnight. */
  days: Map<number, Interval[]>;
}

const compiledByObject = new WeakMap<BusinessCalendar, CompiledCalendar>();
const compiledByKey = new Map<string, CompiledCalendar>();

/** JS weekday (0 = Sunday) of each BUSINESS_WEEKDAYS entry. */
const JS_WEEKDAY: Record<BusinessWeekday, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

/** Calendars are values: one is never changed after it was first used (it is cached by identity). */
function compile(calendar: BusinessCalendar): CompiledCalendar {
  const known = compiledByObject.get(calendar);
  if (known) return known;
  // Calendars are loaded afresh for each ticket: the key lets them share one compiled form (and its day cache).
  const key = JSON.stringify([calendar.timezone, calendar.weekly, calendar.holidays]);
  let compiled = compiledByKey.get(key);
  if (compiled) {
    compiledByKey.delete(key); // least recently used goes first when full
  } else {
    compiled = compileAnew(calendar);
    if (compiledByKey.size >= CALENDAR_CACHE_SIZE) compiledByKey.delete(compiledByKey.keys().next().value!);
  }
  compiledByKey.set(key, compiled);
  compiledByObject.set(calendar, compiled);
  return compiled;
}

function compileAnew(calendar: BusinessCalendar): CompiledCalendar {
  const zone = IANAZone.create(calendar.timezone);
  if (!zone.isValid) throw new AppError('VALIDATION_FAILED', `timezone: "${calendar.timezone}" is not a known IANA timezone`);
  const ranges: (readonly [number, number])[][] = Array.from({ length: 7 }, () => []);
  let weekMinutes = 0;
  for (const day of BUSINESS_WEEKDAYS) {
    const merged = mergeRanges((calendar.weekly[day] ?? []).map(([start, end]) => [minutesAfterMidnight(start), minutesAfterMidnight(end)] as const));
    ranges[JS_WEEKDAY[day]] = merged;
    for (const [start, end] of merged) weekMinutes += end - start;
  }
  const holidays = [...new Set(calendar.holidays.map((date) => Date.parse(`${date}T00:00:00Z`)))].sort((a, b) => a - b);
  return { zone, ranges, weekMs: weekMinutes * MINUTE_MS, holidays, holidaySet: new Set(holidays), days: new Map() };
}

/** Sorted, with touching or overlapping ranges joined (so that "at a range end" means a real closing). */
function mergeRanges(ranges: (readonly [number, number])[]): (readonly [number, number])[] {
  const sorted = ranges.filter(([start, end]) => end > start).sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

function offsetMs(calendar: CompiledCalendar, instant: number): number {
  return calendar.zone.offset(instant) * MINUTE_MS;
}

/** The local date of `instant`, as its midnight read as UTC. */
function wallMidnightOf(calendar: CompiledCalendar, instant: number): number {
  const wall = instant + offsetMs(calendar, instant);
  return wall - (((wall % DAY_MS) + DAY_MS) % DAY_MS);
}

/** The business intervals of local day `wallMidnight`, sorted and disjoint. */
function dayIntervals(calendar: CompiledCalendar, wallMidnight: number): Interval[] {
  const cached = calendar.days.get(wallMidnight);
  if (cached) return cached;
  const ranges = calendar.ranges[new Date(wallMidnight).getUTCDay()]!;
  let intervals: Interval[] = [];
  if (ranges.length > 0 && !calendar.holidaySet.has(wallMidnight)) {
    const before = offsetMs(calendar, wallMidnight - OFFSET_MARGIN_MS);
    const after = offsetMs(calendar, wallMidnight + DAY_MS + OFFSET_MARGIN_MS);
    if (before === after) {
      intervals = ranges.map(([start, end]) => [wallMidnight + start * MINUTE_MS - before, wallMidnight + end * MINUTE_MS - before] as const);
    } else {
      // The clocks change around this day: instants before the change read the wall clock with
      // the old offset, instants after it with the new one.
      const change = firstInstantWithOffset(calendar, wallMidnight - OFFSET_MARGIN_MS, wallMidnight + DAY_MS + OFFSET_MARGIN_MS, before);
      for (const [start, end] of ranges) {
        const early: Interval = [wallMidnight + start * MINUTE_MS - before, Math.min(wallMidnight + end * MINUTE_MS - before, change)];
        const late: Interval = [Math.max(wallMidnight + start * MINUTE_MS - after, change), wallMidnight + end * MINUTE_MS - after];
        for (const piece of [early, late]) if (piece[1] > piece[0]) intervals.push(piece);
      }
      intervals.sort((a, b) => a[0] - b[0]);
    }
  }
  if (calendar.days.size >= DAY_CACHE_SIZE) calendar.days.clear();
  calendar.days.set(wallMidnight, intervals);
  return intervals;
}

/** Binary search for the clock change in (low, high]: the first instant whose offset is not `offsetBefore`. */
function firstInstantWithOffset(calendar: CompiledCalendar, low: number, high: number, offsetBefore: number): number {
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (offsetMs(calendar, middle) === offsetBefore) low = middle;
    else high = middle;
  }
  return high;
}

/**
 * When the local week starting on day `wallMidnight` can be taken whole — no holiday, no clock
 * change, and `cursor` not past its first instant — its constant offset; otherwise undefined.
 */
function wholeWeekOffset(calendar: CompiledCalendar, wallMidnight: number, cursor: number): number | undefined {
  const offset = offsetMs(calendar, wallMidnight - OFFSET_MARGIN_MS);
  if (offset !== offsetMs(calendar, wallMidnight + WEEK_MS + OFFSET_MARGIN_MS)) return undefined;
  if (cursor > wallMidnight - offset) return undefined;
  const next = firstAtOrAfter(calendar.holidays, wallMidnight);
  if (next !== undefined && next < wallMidnight + WEEK_MS) return undefined;
  return offset;
}

function firstAtOrAfter(sorted: number[], value: number): number | undefined {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return sorted[low];
}

/** True when the calendar has business hours at all (otherwise nothing can ever be due). */
export function hasBusinessHours(calendar: BusinessCalendar): boolean {
  return compile(calendar).weekMs > 0;
}

/** The earliest instant by which `minutes` business minutes have passed since `start` (see the conventions above). */
export function addBusinessMinutes(start: Date, minutes: number, calendar: BusinessCalendar): Date {
  if (!Number.isFinite(minutes) || minutes < 0) throw new RangeError(`business minutes must be a finite number >= 0, got ${minutes}`);
  const compiled = compile(calendar);
  let remaining = Math.round(minutes * MINUTE_MS);
  let cursor = start.getTime();
  if (remaining === 0) return new Date(cursor);
  if (compiled.weekMs === 0) throw new AppError('VALIDATION_FAILED', 'the business calendar has no business hours: no due time can ever be reached');
  // From the day before: on a zone whose clocks go back over midnight, that day can still be running.
  let day = wallMidnightOf(compiled, cursor) - DAY_MS;
  // Terminates: the week has business hours and holidays are finitely many.
  for (;;) {
    if (remaining > compiled.weekMs) {
      const offset = wholeWeekOffset(compiled, day, cursor);
      if (offset !== undefined) {
        remaining -= compiled.weekMs;
        day += WEEK_MS;
        cursor = day - offset;
        continue;
      }
    }
    for (const [open, close] of dayIntervals(compiled, day)) {
      const from = Math.max(open, cursor);
      if (from >= close) continue;
      if (remaining <= close - from) return new Date(from + remaining);
      remaining -= close - from;
      cursor = close;
    }
    day += DAY_MS;
  }
}

/** Business minutes in [from, to): 0 when `to` is not after `from`. */
export function businessMinutesBetween(from: Date, to: Date, calendar: BusinessCalendar): number {
  const end = to.getTime();
  let cursor = from.getTime();
  if (end <= cursor) return 0;
  const compiled = compile(calendar);
  if (compiled.weekMs === 0) return 0;
  let total = 0;
  let day = wallMidnightOf(compiled, cursor) - DAY_MS;
  const lastDay = wallMidnightOf(compiled, end) + DAY_MS;
  while (day <= lastDay) {
    const offset = end - cursor > WEEK_MS ? wholeWeekOffset(compiled, day, cursor) : undefined;
    if (offset !== undefined && day + WEEK_MS - offset <= end) {
      total += compiled.weekMs;
      day += WEEK_MS;
      cursor = day - offset;
      continue;
    }
    for (const [open, close] of dayIntervals(compiled, day)) {
      const start = Math.max(open, cursor);
      const stop = Math.min(close, end);
      if (stop <= start) continue;
      total += stop - start;
      cursor = stop;
    }
    day += DAY_MS;
  }
  return total / MINUTE_MS;
}
