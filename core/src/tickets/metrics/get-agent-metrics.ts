import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { executeRows } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import type { TicketDeps } from '../ticket-deps.js';
import {
  csatAggregates,
  csatIn,
  figuresFrom,
  metricsPeriodFields,
  openedAggregates,
  openedIn,
  openNowAggregates,
  openNowOf,
  periodChecked,
  resolvedAggregates,
  resolvedIn,
  type TicketFigures,
  withoutParallelWorkers,
} from './ticket-figures.js';

const getAgentMetricsInput = periodChecked(z.object({ ...metricsPeriodFields, agentId: z.uuid().optional() }));

export interface AgentMetrics extends TicketFigures {
  agentId: string;
  name: string;
  role: 'admin' | 'agent';
  /** Disabled users appear only while they still have figures in the period. */
  disabled: boolean;
}

/**
 * The figures of each agent over [from, to) (definitions in ticket-figures.ts): every active
 * agent, plus any other user (admin, disabled agent) with a figure; by name. With `agentId`, that
 * one user only (NOT_FOUND when the tenant has no such user).
 */
export async function getAgentMetrics(deps: TicketDeps, options: z.input<typeof getAgentMetricsInput>): Promise<AgentMetrics[]> {
  const input = parseInput(getAgentMetricsInput, options);
  const { tenantId, from, to, agentId } = input;
  const now = deps.clock.now();
  const ofAgent = agentId ? sql` and t.assignee_id = ${agentId}` : sql``;
  const rows = await deps.db.withTenant(tenantId, async (tx) => {
    await withoutParallelWorkers(tx);
    return executeRows(
      tx,
      sql`with opened as (
            select t.assignee_id as agent_id, ${openedAggregates(now)}
            from tickets t where ${openedIn(tenantId, from, to)}${ofAgent} and t.assignee_id is not null
            group by t.assignee_id
          ), resolved as (
            select t.assignee_id as agent_id, ${resolvedAggregates}
            from tickets t where ${resolvedIn(tenantId, from, to)}${ofAgent} and t.assignee_id is not null
            group by t.assignee_id
          ), open_now as (
            select t.assignee_id as agent_id, ${openNowAggregates(now)}
            from tickets t where ${openNowOf(tenantId)}${ofAgent} and t.assignee_id is not null
            group by t.assignee_id
          ), csat as (
            select r.agent_id, ${csatAggregates}
            from csat_responses r where ${csatIn(tenantId, from, to)}${agentId ? sql` and r.agent_id = ${agentId}` : sql``} and r.agent_id is not null
            group by r.agent_id
          )
          select u.id as agent_id, u.name, u.role, u.disabled_at is not null as disabled,
            o.opened, o.first_responses, o.first_response_s, o.fr_counted, o.fr_met,
            d.resolved, d.resolution_s, d.res_counted, d.res_met,
            n.open_now, n.overdue_now, c.csat_count, c.csat_sum
          from users u
          left join opened o on o.agent_id = u.id
          left join resolved d on d.agent_id = u.id
          left join open_now n on n.agent_id = u.id
          left join csat c on c.agent_id = u.id
          where u.tenant_id = ${tenantId}
            and ${
              agentId
                ? sql`u.id = ${agentId}`
                : sql`((u.role = 'agent' and u.disabled_at is null)
                    or o.agent_id is not null or d.agent_id is not null or n.agent_id is not null or c.agent_id is not null)`
            }
          order by u.name, u.id`,
    );
  });
  if (agentId && rows.length === 0) throw new AppError('NOT_FOUND', 'agent not found');
  return rows.map((row) => ({
    agentId: String(row.agent_id),
    name: String(row.name),
    role: row.role as AgentMetrics['role'],
    disabled: Boolean(row.disabled),
    ...figuresFrom(row),
  }));
}
