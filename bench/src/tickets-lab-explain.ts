// TEMPORARY lab script (not to be committed).
import { getAgentMetrics, getHelpdeskMetrics, listTicketQueue, systemClock } from '@relais/core';
import { openDatabase } from '@relais/db';
import { explainReads } from './tickets-sql-trace.js';

const [tenantId, adminId, agentId] = process.argv.slice(2);
const db = await openDatabase({ driver: 'postgres', url: 'postgres://relais_app@127.0.0.1:5432/relais_tickets_lab', poolSize: 2 });
const deps = { db, clock: systemClock };
const period = { from: new Date(Date.now() - 30 * 86400000), to: new Date() };
const which = process.env.Q ?? 'all';
const queries: Record<string, () => Promise<unknown>> = {
  agents: () => getAgentMetrics(deps, { tenantId: tenantId!, ...period }),
  helpdesk: () => getHelpdeskMetrics(deps, { tenantId: tenantId!, ...period, bucket: 'day' }),
  unassigned: () => listTicketQueue(deps, { tenantId: tenantId!, userId: adminId!, view: 'unassigned', limit: 50 }),
  mine: () => listTicketQueue(deps, { tenantId: tenantId!, userId: agentId!, view: 'mine', limit: 50 }),
  all: () => listTicketQueue(deps, { tenantId: tenantId!, userId: adminId!, view: 'all_open', limit: 50 }),
};
for (const [name, work] of Object.entries(queries)) {
  if (which !== 'all' && which !== name) continue;
  for (let i = 0; i < 3; i += 1) await work();
  const times: number[] = [];
  for (let i = 0; i < 15; i += 1) { const t = performance.now(); await work(); times.push(performance.now() - t); }
  times.sort((a, b) => a - b);
  console.log(`==== ${name}: min ${times[0]!.toFixed(1)} median ${times[7]!.toFixed(1)} max ${times[14]!.toFixed(1)} ms`);
  if (process.env.EXPLAIN) console.log(await explainReads(db, tenantId!, work));
}
await db.close();
