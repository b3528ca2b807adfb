import { parseArgs } from 'node:util';
import { findTenantBySlug, syncRouters, type RouterSyncResult } from '@relais/core';
import type { Config } from '../../config.js';
import { withCliContext } from '../cli-context.js';
import { printTable, type CliOutput } from '../output.js';

export const mikrotikSyncAllUsage = 'relais mikrotik:sync-all [--tenant SLUG] [--due-only] [--concurrency 8] [--json]';

/**
 * Syncs routers now — all of them (even those backing off after failures) unless --due-only,
 * which does what the 5-minute job does. Exits 1 when any router failed.
 */
export async function mikrotikSyncAllCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { tenant: { type: 'string' }, 'due-only': { type: 'boolean', default: false }, concurrency: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)) throw new Error('--concurrency is a whole number from 1 to 64');
  await withCliContext(config, async (context) => {
    const tenantId = values.tenant ? (await findTenantBySlug(context, values.tenant)).id : undefined;
    let done = 0;
    const results = await syncRouters(context, {
      tenantId,
      force: !values['due-only'],
      concurrency,
      onResult: (result) => output.err(`[${++done}] ${result.routerName}: ${result.status}${result.error ? ` (${result.error.code})` : ''}`),
    });
    if (values.json) output.out(JSON.stringify(results));
    else printResults(results, output);
    const failed = results.filter((result) => result.status === 'failed').length;
    if (failed > 0) throw new Error(`${failed} of ${results.length} router(s) failed to sync; they back off and retry on their own`);
  });
}

function printResults(results: RouterSyncResult[], output: CliOutput): void {
  if (results.length === 0) {
    output.out('No router to sync.');
    return;
  }
  printTable(
    output,
    ['ROUTER', 'STATUS', 'SESSIONS', 'CLOSED', 'ACTIVATED', 'EXPIRED', 'ERROR'],
    results.map((r) => [r.routerName, r.status, String(r.sessionsSeen), String(r.sessionsClosed), String(r.vouchersActivated), String(r.vouchersExpired), r.error ? `${r.error.code}: ${r.error.message}` : '']),
  );
}
