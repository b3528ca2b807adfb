import { describe, expect, it } from 'vitest';
import {
  localDate,
  localMonth,
  periodOfDates,
  renewalPeriod,
  startOfMonth,
  startOfNextMonth,
} from '../src/billing/subscriptions/billing-calendar.js';

/** Douala is UTC+1 all year: local midnight on the 1st is 23:00 UTC the day before. */
describe('billing calendar (Africa/Douala)', () => {
  it('finds the 1st of the month at 00:00 Douala, not UTC', () => {
    // 23:30 UTC on 30 April is already 00:30 on 1 May in Douala.
    const justAfterMidnight = new Date('2026-04-30T23:30:00Z');
    expect(localDate(justAfterMidnight)).toBe('2026-05-01');
    expect(localMonth(justAfterMidnight)).toBe('2026-05');
    expect(startOfMonth(justAfterMidnight).toISOString()).toBe('2026-04-30T23:00:00.000Z');
    expect(startOfNextMonth(justAfterMidnight).toISOString()).toBe('2026-05-31T23:00:00.000Z');
    // 22:59 UTC on 30 April is still April in Douala.
    expect(localMonth(new Date('2026-04-30T22:59:59Z'))).toBe('2026-04');
  });

  it('rolls over the year in December', () => {
    const lateDecember = new Date('2026-12-31T12:00:00Z');
    expect(startOfNextMonth(lateDecember).toISOString()).toBe('2026-12-31T23:00:00.000Z');
    expect(localDate(startOfNextMonth(lateDecember))).toBe('2027-01-01');
  });

  it('renews a period that ended on the 1st into the whole next calendar month', () => {
    const mayFirst = new Date('2026-04-30T23:00:00Z');
    const period = renewalPeriod(mayFirst, mayFirst);
    expect(period).toMatchObject({ startDate: '2026-05-01', endDate: '2026-05-31', days: 31, daysInMonth: 31 });
    expect(period.end.toISOString()).toBe('2026-05-31T23:00:00.000Z');
    // February 2028: a leap year.
    expect(renewalPeriod(new Date('2028-01-31T23:00:00Z'), new Date('2028-02-01T08:00:00Z'))).toMatchObject({ startDate: '2028-02-01', endDate: '2028-02-29', days: 29 });
  });

  it('renews a period that ended mid-month up to the next 1st (billed pro rata by the caller)', () => {
    const ended = new Date('2026-04-15T09:00:00Z');
    const period = renewalPeriod(ended, new Date('2026-04-20T09:00:00Z'));
    expect(period).toMatchObject({ startDate: '2026-04-15', endDate: '2026-04-30', days: 16, daysInMonth: 30 });
    expect(period.start).toEqual(ended);
  });

  it('never bills whole months that already went by: a late run starts at the current month', () => {
    const period = renewalPeriod(new Date('2026-01-31T23:00:00Z'), new Date('2026-04-10T10:00:00Z'));
    expect(period).toMatchObject({ startDate: '2026-04-01', endDate: '2026-04-30', days: 30, daysInMonth: 30 });
  });

  it('turns printed invoice dates back into the period instants', () => {
    const { start, end } = periodOfDates('2026-05-01', '2026-05-31');
    expect(start.toISOString()).toBe('2026-04-30T23:00:00.000Z');
    expect(end.toISOString()).toBe('2026-05-31T23:00:00.000Z');
  });
});
