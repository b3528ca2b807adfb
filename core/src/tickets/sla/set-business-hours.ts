import { z } from 'zod';
import { helpdeskSettings } from '@relais/db';
import { parseInput } from '../../shared/parse-input.js';
import type { TicketDeps } from '../ticket-deps.js';
import { holidaysSchema, loadBusinessCalendar, weeklyHoursSchema, type BusinessCalendar } from './business-calendar.js';

const setBusinessHoursInput = z.object({
  tenantId: z.uuid(),
  /** { mon: [["08:00","12:00"],["13:00","18:00"]], ..., sun: [] }: in order, not overlapping; a missing day is closed. */
  weeklyHours: weeklyHoursSchema,
  /** Whole days off, ISO dates in the tenant's timezone. */
  holidays: holidaysSchema.default([]),
});

/**
 * Saves the hours SLA clocks run in (the tenant's timezone applies). Other helpdesk settings
 * keep their values, or their defaults when the row is new. Due times already computed stay
 * until the ticket's next recomputation. Returns the calendar now in force.
 */
export async function setBusinessHours(deps: TicketDeps, options: z.input<typeof setBusinessHoursInput>): Promise<BusinessCalendar> {
  const input = parseInput(setBusinessHoursInput, options);
  const now = deps.clock.now();
  return deps.db.withTenant(input.tenantId, async (tx) => {
    await tx
      .insert(helpdeskSettings)
      .values({ tenantId: input.tenantId, weeklyHours: input.weeklyHours, holidays: input.holidays, updatedAt: now })
      .onConflictDoUpdate({ target: helpdeskSettings.tenantId, set: { weeklyHours: input.weeklyHours, holidays: input.holidays, updatedAt: now } });
    return loadBusinessCalendar(tx, input.tenantId);
  });
}
