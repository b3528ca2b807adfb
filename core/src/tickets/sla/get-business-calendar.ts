import { z } from 'zod';
import type { Database } from '@relais/db';
import { parseInput } from '../../shared/parse-input.js';
import { loadBusinessCalendar, type BusinessCalendar } from './business-calendar.js';

const getBusinessCalendarInput = z.object({ tenantId: z.uuid() });

/** The tenant's business hours, holidays and timezone (the defaults until saved). */
export async function getBusinessCalendar(deps: { db: Database }, options: z.input<typeof getBusinessCalendarInput>): Promise<BusinessCalendar> {
  const input = parseInput(getBusinessCalendarInput, options);
  return deps.db.withTenant(input.tenantId, (tx) => loadBusinessCalendar(tx, input.tenantId));
}
