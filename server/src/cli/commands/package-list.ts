import { parseArgs } from 'node:util';
import { findTenantBySlug, formatRouterOsDuration, formatXaf, listPackages } from '@relais/core';
import type { Config } from '../../config.js';
import { withCliContext } from '../cli-context.js';
import { printTable, UsageError, type CliOutput } from '../output.js';

export const packageListUsage = 'relais package:list --tenant SLUG [--json]';

export async function packageListCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({ args, strict: true, options: { tenant: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (!values.tenant) throw new UsageError('--tenant is required');
  await withCliContext(config, async (context) => {
    const tenant = await findTenantBySlug(context, values.tenant!);
    const packages = await listPackages(context, { tenantId: tenant.id });
    if (values.json) {
      output.out(JSON.stringify(packages));
      return;
    }
    if (packages.length === 0) {
      output.out('No package yet (relais package:create).');
      return;
    }
    printTable(
      output,
      ['NAME (FR)', 'NAME (EN)', 'PRICE', 'VALIDITY', 'ROUTERS', 'AVAILABLE', 'SOLD', 'ACTIVE'],
      packages.map((item) => [
        item.name.fr,
        item.name.en,
        formatXaf(item.priceXaf, 'fr'),
        formatRouterOsDuration(item.validityMinutes * 60),
        item.routers.map((router) => router.name).join(', ') || '-',
        String(item.stock.available),
        String(item.stock.sold),
        item.active ? 'yes' : 'no',
      ]),
    );
  });
}
