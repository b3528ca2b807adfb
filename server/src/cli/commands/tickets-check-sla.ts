import { parseArgs } from 'node:util';
import { checkTicketSla, findTenantBySlug } from '@relais/core';
import type { Config } from '../../config.js';
import { safeErrorMessage } from '../../logger.js';
import { withCliContext } from '../cli-context.js';
import type { CliOutput } from '../output.js';

export const ticketsCheckSlaUsage = 'relais tickets:check-sla [--tenant SLUG] [--json]';

/**
 * Runs the SLA check now (what the every-minute job does; safe to run again): records warnings
 * and breaches not yet recorded and notifies. Exits 1 when a ticket could not be processed.
 */
export async function ticketsCheckSlaCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({ args, strict: true, options: { tenant: { type: 'string' }, json: { type: 'boolean', default: false } } });
  await withCliContext(config, async (context) => {
    const tenantId = values.tenant ? (await findTenantBySlug(context, values.tenant)).id : undefined;
    const report = await checkTicketSla(
      { ...context, onError: (error, ticket) => output.err(`relais: SLA check of ticket ${ticket.ticketId} failed: ${safeErrorMessage(error)}`) },
      { tenantId },
    );
    if (values.json) output.out(JSON.stringify(report));
    else output.out(`Checked ${report.tenants} tenant(s) at ${report.checkedAt}: ${report.warnings} warning(s) and ${report.breaches} breach(es) recorded on ${report.tickets} ticket(s).`);
    if (report.failed > 0) throw new Error(`${report.failed} ticket(s) could not be checked; the next run retries them`);
  });
}
