import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  addBusinessMinutes,
  AppError,
  BUSINESS_WEEKDAYS,
  businessCalendarSchema,
  businessMinutesBetween,
  DEFAULT_WEEKLY_HOURS,
  minutesAfterMidnight,
  weeklyHoursSchema,
  type BusinessCalendar,
  type WeeklyHours,
} from '@relais/core';

const MINUTE_MS = 60_000;

const WEEKDAYS_8_TO_18: WeeklyHours = { mon: [['08:00', '18:00']], tue: [['08:00', '18:00']], wed: [['08:00', '18:00']], thu: [['08:00', '18:00']], fri: [['08:00', '18:00']], sat: [], sun: [] };
const ALWAYS_OPEN: WeeklyHours = Object.fromEntries(BUSINESS_WEEKDAYS.map((day) => [day, [['00:00', '24:00']]])) as WeeklyHours;

const calendar = (weekly: WeeklyHours, options: { timezone?: string; holidays?: string[] } = {}): BusinessCalendar => ({
  timezone: options.timezone ?? 'Africa/Douala',
  weekly,
  holidays: options.holidays ?? [],
});

/** A wall-clock time in a zone, as an instant. */
const local = (iso: string, zone = 'Africa/Douala') => DateTime.fromISO(iso, { zone }).toJSDate();

describe('business clock examples', () => {
  const douala = calendar(DEFAULT_WEEKLY_HOURS);
  const weekdaysOnly = calendar(WEEKDAYS_8_TO_18);

  it('carries Friday 17:30 + 60 min over to Monday 08:30 when Saturday is closed, to Saturday 08:30 with the default week', () => {
    const friday = local('2026-05-15T17:30');
    expect(addBusinessMinutes(friday, 60, weekdaysOnly)).toEqual(local('2026-05-18T08:30'));
    expect(addBusinessMinutes(friday, 60, douala)).toEqual(local('2026-05-16T08:30'));
    // Douala is UTC+1 all year: 08:30 there is 07:30 UTC.
    expect(addBusinessMinutes(friday, 60, douala).toISOString()).toBe('2026-05-16T07:30:00.000Z');
    expect(businessMinutesBetween(friday, local('2026-05-18T08:30'), weekdaysOnly)).toBe(60);
  });

  it('ends exactly at the closing time rather than at the next opening', () => {
    expect(addBusinessMinutes(local('2026-05-15T17:30'), 30, weekdaysOnly)).toEqual(local('2026-05-15T18:00'));
  });

  it('starts counting at the next opening when started outside hours, and adding nothing returns the start', () => {
    expect(addBusinessMinutes(local('2026-05-17T10:00'), 1, douala)).toEqual(local('2026-05-18T08:01'));
    expect(addBusinessMinutes(local('2026-05-18T03:00'), 0, douala)).toEqual(local('2026-05-18T03:00'));
    expect(addBusinessMinutes(local('2026-05-18T19:00'), 15, douala)).toEqual(local('2026-05-19T08:15'));
  });

  it('skips a holiday (20 May, National Day) as a whole day', () => {
    const holiday = calendar(DEFAULT_WEEKLY_HOURS, { holidays: ['2026-05-20'] });
    expect(addBusinessMinutes(local('2026-05-19T17:00'), 120, holiday)).toEqual(local('2026-05-21T09:00'));
    expect(businessMinutesBetween(local('2026-05-19T17:00'), local('2026-05-21T09:00'), holiday)).toBe(120);
    expect(businessMinutesBetween(local('2026-05-20T00:00'), local('2026-05-21T00:00'), holiday)).toBe(0);
  });

  it('uses each range of a split day and skips the lunch break', () => {
    const split = calendar({ ...WEEKDAYS_8_TO_18, mon: [['08:00', '12:00'], ['14:00', '18:00']] });
    expect(addBusinessMinutes(local('2026-05-18T11:30'), 30, split)).toEqual(local('2026-05-18T12:00'));
    expect(addBusinessMinutes(local('2026-05-18T11:30'), 60, split)).toEqual(local('2026-05-18T14:30'));
    expect(addBusinessMinutes(local('2026-05-18T12:30'), 10, split)).toEqual(local('2026-05-18T14:10'));
    expect(businessMinutesBetween(local('2026-05-18T07:00'), local('2026-05-18T20:00'), split)).toBe(480);
  });

  it('joins ranges that touch, and counts a range ending at 24:00 up to midnight', () => {
    const touching = calendar({ ...WEEKDAYS_8_TO_18, mon: [['08:00', '12:00'], ['12:00', '24:00']], tue: [['00:00', '02:00']] });
    expect(addBusinessMinutes(local('2026-05-18T11:00'), 120, touching)).toEqual(local('2026-05-18T13:00'));
    expect(addBusinessMinutes(local('2026-05-18T23:00'), 60, touching)).toEqual(local('2026-05-19T00:00'));
    expect(addBusinessMinutes(local('2026-05-18T23:00'), 90, touching)).toEqual(local('2026-05-19T00:30'));
    expect(businessMinutesBetween(local('2026-05-18T00:00'), local('2026-05-19T12:00'), touching)).toBe(16 * 60 + 120);
  });

  it('keeps seconds: business time between two instants is exact to the millisecond', () => {
    expect(businessMinutesBetween(local('2026-05-18T07:59:30'), local('2026-05-18T08:00:45'), douala)).toBe(0.75);
    expect(addBusinessMinutes(local('2026-05-18T09:00:10.250'), 1.5, douala)).toEqual(local('2026-05-18T09:01:40.250'));
  });

  it('follows the wall clock across daylight saving in Europe/Paris', () => {
    const paris = calendar(WEEKDAYS_8_TO_18, { timezone: 'Europe/Paris' });
    // Friday before the spring change (UTC+1) to Monday after it (UTC+2).
    const friday = local('2026-03-27T17:30', 'Europe/Paris');
    expect(addBusinessMinutes(friday, 60, paris)).toEqual(local('2026-03-30T08:30', 'Europe/Paris'));
    expect(addBusinessMinutes(friday, 60, paris).toISOString()).toBe('2026-03-30T06:30:00.000Z');

    const always = calendar(ALWAYS_OPEN, { timezone: 'Europe/Paris' });
    // 29 March 2026 has 23 hours there, 25 October 2026 has 25.
    expect(businessMinutesBetween(local('2026-03-29T00:00', 'Europe/Paris'), local('2026-03-30T00:00', 'Europe/Paris'), always)).toBe(23 * 60);
    expect(businessMinutesBetween(local('2026-10-25T00:00', 'Europe/Paris'), local('2026-10-26T00:00', 'Europe/Paris'), always)).toBe(25 * 60);
    expect(addBusinessMinutes(local('2026-03-29T00:00', 'Europe/Paris'), 180, always)).toEqual(local('2026-03-29T04:00', 'Europe/Paris'));

    // A range over the skipped hour is worked for the wall-clock time that exists; over the repeated hour, twice.
    const sundayNight = calendar({ ...WEEKDAYS_8_TO_18, sun: [['01:00', '04:00']] }, { timezone: 'Europe/Paris' });
    expect(businessMinutesBetween(local('2026-03-29T00:00', 'Europe/Paris'), local('2026-03-29T12:00', 'Europe/Paris'), sundayNight)).toBe(120);
    expect(businessMinutesBetween(local('2026-10-25T00:00', 'Europe/Paris'), local('2026-10-25T12:00', 'Europe/Paris'), sundayNight)).toBe(240);
  });

  it('skips whole weeks for long targets and still lands on the minute', () => {
    // 55 business hours a week in Douala: 10 weeks and 90 minutes from Monday 08:00.
    const start = local('2026-06-01T08:00');
    expect(addBusinessMinutes(start, 10 * 55 * 60 + 90, douala)).toEqual(local('2026-08-10T09:30'));
    // The same with a holiday in the 4th week (Wednesday 24 June): one day later.
    const withHoliday = calendar(DEFAULT_WEEKLY_HOURS, { holidays: ['2026-06-24'] });
    expect(addBusinessMinutes(start, 10 * 55 * 60 + 90, withHoliday)).toEqual(local('2026-08-11T09:30'));
    expect(businessMinutesBetween(start, local('2026-08-11T09:30'), withHoliday)).toBe(10 * 55 * 60 + 90);
  });

  it('refuses a calendar with no business hours instead of looping, and counts no time in it', () => {
    const closed = calendar({ mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] });
    let error: unknown;
    try {
      addBusinessMinutes(local('2026-05-18T08:00'), 60, closed);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('VALIDATION_FAILED');
    expect(businessMinutesBetween(local('2026-05-18T08:00'), local('2026-06-18T08:00'), closed)).toBe(0);
    expect(addBusinessMinutes(local('2026-05-18T08:00'), 0, closed)).toEqual(local('2026-05-18T08:00'));
    expect(() => addBusinessMinutes(local('2026-05-18T08:00'), -1, DEFAULT_CALENDAR)).toThrow(RangeError);
  });
});

const DEFAULT_CALENDAR = calendar(DEFAULT_WEEKLY_HOURS);

describe('business calendar validation', () => {
  const issues = (weekly: unknown) => {
    const parsed = weeklyHoursSchema.safeParse(weekly);
    return parsed.success ? [] : parsed.error.issues.map((issue) => issue.message);
  };

  it('accepts several sorted ranges a day, 24:00 as an end, and missing days as closed', () => {
    const parsed = weeklyHoursSchema.parse({ mon: [['08:00', '12:00'], ['13:00', '24:00']], sat: [['00:00', '06:00']] });
    expect(parsed).toEqual({ mon: [['08:00', '12:00'], ['13:00', '24:00']], tue: [], wed: [], thu: [], fri: [], sat: [['00:00', '06:00']], sun: [] });
  });

  it.each([
    [{ mon: [['13:00', '18:00'], ['08:00', '12:00']] }, 'ranges must be in order and must not overlap'],
    [{ mon: [['08:00', '12:00'], ['11:00', '18:00']] }, 'ranges must be in order and must not overlap'],
    [{ mon: [['12:00', '12:00']] }, 'a range must end after it starts'],
    [{ mon: [['18:00', '08:00']] }, 'a range must end after it starts'],
    [{ mon: [['24:00', '24:00']] }, 'a time is HH:MM, from 00:00 to 23:59'],
    [{ mon: [['8:00', '12:00']] }, 'a time is HH:MM, from 00:00 to 23:59'],
    [{ mon: [['08:00', '24:30']] }, 'an end time is HH:MM, from 00:01 to 24:00'],
    [{ mon: [] }, 'the week needs business hours on at least one day'],
  ])('refuses %j', (weekly, message) => {
    expect(issues(weekly)).toContain(message);
  });

  it('refuses unknown days, bad holidays and unknown timezones; sorts holidays once each', () => {
    expect(weeklyHoursSchema.safeParse({ monday: [['08:00', '12:00']], tue: [['08:00', '12:00']] }).success).toBe(false);
    expect(businessCalendarSchema.safeParse({ timezone: 'Africa/Douala', weekly: DEFAULT_WEEKLY_HOURS, holidays: ['2026-02-30'] }).success).toBe(false);
    expect(businessCalendarSchema.safeParse({ timezone: 'Africa/Yaounde-ville', weekly: DEFAULT_WEEKLY_HOURS, holidays: [] }).success).toBe(false);
    const parsed = businessCalendarSchema.parse({ timezone: 'Africa/Douala', weekly: DEFAULT_WEEKLY_HOURS, holidays: ['2026-12-25', '2026-05-20', '2026-12-25'] });
    expect(parsed.holidays).toEqual(['2026-05-20', '2026-12-25']);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties. The oracle reads the definition directly — an instant is business time when the
// zone's wall clock is inside a range of its weekday and the date is not a holiday — so it
// shares nothing with the implementation (which works on whole days and weeks).

const ZONES = ['Africa/Douala', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'UTC'];
const WINDOW_START = Date.parse('2026-01-01T00:00:00Z');
const WINDOW_END = Date.parse('2027-12-31T00:00:00Z');

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** 0 to 3 ranges a day on a 15-minute grid (so that some fall in the hours clocks skip or repeat). */
const dayRangesArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 96 }), { minLength: 0, maxLength: 6 })
  .map((points) => {
    const sorted = [...points].sort((a, b) => a - b);
    const ranges: [string, string][] = [];
    for (let i = 0; i + 1 < sorted.length; i += 2) ranges.push([hhmm(sorted[i]! * 15), hhmm(sorted[i + 1]! * 15)]);
    return ranges;
  });

const weeklyArb = fc
  .record(Object.fromEntries(BUSINESS_WEEKDAYS.map((day) => [day, dayRangesArb])) as Record<(typeof BUSINESS_WEEKDAYS)[number], typeof dayRangesArb>)
  .filter((weekly) => BUSINESS_WEEKDAYS.some((day) => weekly[day].length > 0)) as fc.Arbitrary<WeeklyHours>;

const holidaysArb = fc
  .uniqueArray(fc.integer({ min: 0, max: (WINDOW_END - WINDOW_START) / 86_400_000 }), { maxLength: 25 })
  .map((days) => days.map((day) => new Date(WINDOW_START + day * 86_400_000).toISOString().slice(0, 10)).sort());

const calendarArb: fc.Arbitrary<BusinessCalendar> = fc.record({ timezone: fc.constantFrom(...ZONES), weekly: weeklyArb, holidays: holidaysArb });

/** Clock changes in 2026 (Europe, United States, Lord Howe's half hour): where wall-clock bugs hide. */
const CLOCK_CHANGES = ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z', '2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z'].map(Date.parse);
const nearClockChangeArb = fc
  .tuple(fc.constantFrom(...CLOCK_CHANGES), fc.integer({ min: -2 * 1_440, max: 1_440 }))
  .map(([change, minutes]) => new Date(change + minutes * MINUTE_MS));

const minuteAlignedArb = fc.oneof(
  fc.integer({ min: WINDOW_START / MINUTE_MS, max: (WINDOW_END - 60 * 86_400_000) / MINUTE_MS }).map((minute) => new Date(minute * MINUTE_MS)),
  nearClockChangeArb,
);
/** Instants in the window, often on a whole minute or near a clock change, sometimes with seconds and milliseconds. */
const instantArb = fc.oneof(minuteAlignedArb, fc.integer({ min: WINDOW_START, max: WINDOW_END - 60 * 86_400_000 }).map((ms) => new Date(ms)));

/** Targets from a minute to about two months of a full-time week (long ones go through whole-week skips). */
const minutesArb = fc.oneof(fc.integer({ min: 1, max: 3_000 }), fc.integer({ min: 1, max: 40_000 }));

function isBusinessTime(instant: number, cal: BusinessCalendar): boolean {
  const wall = DateTime.fromMillis(instant, { zone: cal.timezone });
  if (cal.holidays.includes(wall.toISODate()!)) return false;
  const minute = wall.hour * 60 + wall.minute + (wall.second * 1000 + wall.millisecond) / MINUTE_MS;
  return cal.weekly[BUSINESS_WEEKDAYS[wall.weekday - 1]!].some(([start, end]) => minute >= minutesAfterMidnight(start) && minute < minutesAfterMidnight(end));
}

/** Brute force, minute by minute (exact for minute-aligned starts: ranges and clock changes are on whole minutes). */
function oracleAdd(start: Date, minutes: number, cal: BusinessCalendar): Date {
  let at = start.getTime();
  for (let counted = 0; counted < minutes; at += MINUTE_MS) if (isBusinessTime(at, cal)) counted += 1;
  return new Date(at);
}

function weeklyMinutes(cal: BusinessCalendar): number {
  return BUSINESS_WEEKDAYS.reduce((sum, day) => sum + cal.weekly[day].reduce((daySum, [start, end]) => daySum + minutesAfterMidnight(end) - minutesAfterMidnight(start), 0), 0);
}

function oracleBetween(from: Date, to: Date, cal: BusinessCalendar): number {
  let minutes = 0;
  for (let at = from.getTime(); at < to.getTime(); at += MINUTE_MS) if (isBusinessTime(at, cal)) minutes += 1;
  return minutes;
}

describe('business clock properties', () => {
  it('round-trips: the business minutes between a start and start + m are m', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, minutesArb, (cal, start, minutes) => {
        expect(businessMinutesBetween(start, addBusinessMinutes(start, minutes, cal), cal)).toBe(minutes);
      }),
      { numRuns: 300 },
    );
  });

  it('lands just after a business minute: inside business hours or exactly at a range end, never in a holiday or closed day', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, minutesArb, (cal, start, minutes) => {
        const due = addBusinessMinutes(start, minutes, cal).getTime();
        // The last millisecond counted is business time: `due` is in a range or exactly at its end
        // (and is the earliest instant with that many minutes behind it).
        expect(isBusinessTime(due - 1, cal)).toBe(true);
        const wall = DateTime.fromMillis(due - 1, { zone: cal.timezone });
        expect(cal.holidays).not.toContain(wall.toISODate());
        expect(cal.weekly[BUSINESS_WEEKDAYS[wall.weekday - 1]!].length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with minute-by-minute counting, across weekends, holidays, split days and clock changes', () => {
    fc.assert(
      // Up to a week's worth of business minutes: the oracle walks every minute of the way.
      fc.property(calendarArb, minuteAlignedArb, fc.double({ min: 0, max: 1, noNaN: true }), (cal, start, share) => {
        const minutes = Math.floor(share * weeklyMinutes(cal));
        expect(addBusinessMinutes(start, minutes, cal)).toEqual(oracleAdd(start, minutes, cal));
      }),
      { numRuns: 60 },
    );
    fc.assert(
      fc.property(calendarArb, minuteAlignedArb, fc.integer({ min: 0, max: 2 * 1_440 }), (cal, from, span) => {
        const to = new Date(from.getTime() + span * MINUTE_MS);
        expect(businessMinutesBetween(from, to, cal)).toBe(oracleBetween(from, to, cal));
      }),
      { numRuns: 60 },
    );
  });

  it('is monotonic: more minutes never end earlier, and each business minute takes at least a minute', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, minutesArb, minutesArb, (cal, start, a, b) => {
        const [fewer, more] = a <= b ? [a, b] : [b, a];
        const early = addBusinessMinutes(start, fewer, cal).getTime();
        const late = addBusinessMinutes(start, more, cal).getTime();
        expect(late - early).toBeGreaterThanOrEqual((more - fewer) * MINUTE_MS);
      }),
      { numRuns: 300 },
    );
  });

  it('is additive: adding a then b is adding a + b (a result at a range end continues from there)', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 20_000 }), (cal, start, a, b) => {
        expect(addBusinessMinutes(addBusinessMinutes(start, a, cal), b, cal)).toEqual(addBusinessMinutes(start, a + b, cal));
      }),
      { numRuns: 300 },
    );
  });

  it('splits: business time over [a, c) is the sum over [a, b) and [b, c); adding it back never passes c', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, fc.array(fc.integer({ min: 0, max: 30 * 86_400_000 }), { minLength: 2, maxLength: 2 }), (cal, a, [first, second]) => {
        const b = new Date(a.getTime() + first!);
        const c = new Date(b.getTime() + second!);
        const whole = businessMinutesBetween(a, c, cal);
        expect(businessMinutesBetween(a, b, cal) + businessMinutesBetween(b, c, cal)).toBeCloseTo(whole, 9);
        expect(addBusinessMinutes(a, whole, cal).getTime()).toBeLessThanOrEqual(c.getTime());
        expect(businessMinutesBetween(c, a, cal)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('a pause inside closed hours (a holiday, a closed night) costs no business time and moves no due time', () => {
    fc.assert(
      fc.property(
        calendarArb,
        fc.integer({ min: 10, max: 600 }),
        fc.integer({ min: 0, max: 86_400_000 }),
        fc.integer({ min: 0, max: 86_400_000 }),
        minutesArb,
        (generated, dayIndex, x, y, target) => {
          // That day becomes a holiday; the pause lies within it, on the tenant's clock.
          const day = DateTime.fromMillis(WINDOW_START, { zone: generated.timezone }).plus({ days: dayIndex }).startOf('day');
          const cal = { ...generated, holidays: [...generated.holidays, day.toISODate()!].sort() };
          const dayLength = day.plus({ days: 1 }).toMillis() - day.toMillis();
          const [pauseStart, pauseEnd] = [day.toMillis() + (x % dayLength), day.toMillis() + (y % dayLength)].sort((p, q) => p - q);
          const paused = businessMinutesBetween(new Date(pauseStart!), new Date(pauseEnd!), cal);
          expect(paused).toBe(0);
          const created = new Date(day.toMillis() - 3 * 86_400_000);
          expect(addBusinessMinutes(created, target + paused, cal)).toEqual(addBusinessMinutes(created, target, cal));
        },
      ),
      { numRuns: 200 },
    );
    // And a night between two working days of the default week.
    expect(businessMinutesBetween(local('2026-05-18T18:00'), local('2026-05-19T08:00'), DEFAULT_CALENDAR)).toBe(0);
    expect(businessMinutesBetween(local('2026-05-16T13:00'), local('2026-05-18T08:00'), DEFAULT_CALENDAR)).toBe(0);
  });

  it('a pause inside business hours pushes the due time back by exactly the business minutes paused', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, minutesArb, fc.integer({ min: 0, max: 10 * 86_400_000 }), fc.integer({ min: 0, max: 5 * 86_400_000 }), (cal, created, target, intoTicket, pauseLength) => {
        const pauseStart = new Date(created.getTime() + intoTicket);
        const pauseEnd = new Date(pauseStart.getTime() + pauseLength);
        const paused = Math.round(businessMinutesBetween(pauseStart, pauseEnd, cal));
        const before = addBusinessMinutes(created, target, cal);
        const after = addBusinessMinutes(created, target + paused, cal);
        expect(businessMinutesBetween(before, after, cal)).toBe(paused);
      }),
      { numRuns: 200 },
    );
  });
});
