import { and, asc, eq, gte, isNotNull, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { csatResponses, users } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import type { TicketDeps } from '../ticket-deps.js';

const getCsatSummaryInput = z.object({
  tenantId: z.uuid(),
  /** Answers given from `from` (included) to `to` (excluded). */
  from: z.coerce.date(),
  to: z.coerce.date(),
});

export type CsatRating = 1 | 2 | 3 | 4 | 5;

export interface CsatSummary {
  tenant: { average: number | null; count: number; distribution: Record<CsatRating, number> };
  agents: { agentId: string; name: string; average: number; count: number }[];
}

/**
 * Satisfaction over a period: the tenant's average rating (2 decimals; null without answers),
 * count and distribution 1..5, and each rated agent's average and count (answers with no agent
 * count for the tenant only), agents by name.
 */
export async function getCsatSummary(deps: Pick<TicketDeps, 'db'>, options: z.input<typeof getCsatSummaryInput>): Promise<CsatSummary> {
  const input = parseInput(getCsatSummaryInput, options);
  if (input.to <= input.from) throw new AppError('VALIDATION_FAILED', 'to: must be after from');
  const { tenantId } = input;
  const inPeriod = and(eq(csatResponses.tenantId, tenantId), gte(csatResponses.createdAt, input.from), lt(csatResponses.createdAt, input.to));
  return deps.db.withTenant(tenantId, async (tx) => {
    const byRating = await tx
      .select({ rating: csatResponses.rating, count: sql<number>`count(*)::int` })
      .from(csatResponses)
      .where(inPeriod)
      .groupBy(csatResponses.rating);
    const byAgent = await tx
      .select({ agentId: csatResponses.agentId, name: users.name, sum: sql<number>`sum(${csatResponses.rating})::int`, count: sql<number>`count(*)::int` })
      .from(csatResponses)
      .innerJoin(users, and(eq(users.tenantId, csatResponses.tenantId), eq(users.id, csatResponses.agentId)))
      .where(and(inPeriod, isNotNull(csatResponses.agentId)))
      .groupBy(csatResponses.agentId, users.name)
      .orderBy(asc(users.name));
    const distribution: Record<CsatRating, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
    for (const row of byRating) distribution[row.rating as CsatRating] = Number(row.count);
    const count = Object.values(distribution).reduce((total, n) => total + n, 0);
    const sum = Object.entries(distribution).reduce((total, [rating, n]) => total + Number(rating) * n, 0);
    return {
      tenant: { average: count === 0 ? null : roundTo2(sum / count), count, distribution },
      agents: byAgent.map((row) => ({ agentId: row.agentId!, name: row.name, average: roundTo2(Number(row.sum) / Number(row.count)), count: Number(row.count) })),
    };
  });
}

function roundTo2(value: number): number {
  return Math.round(value * 100) / 100;
}
