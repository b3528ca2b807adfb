import { parseArgs } from 'node:util';
import { listTenants } from '@relais/core';
import { openDatabase } from '@relais/db';
import type { Config } from '../../config.js';
import { printTable, type CliOutput } from '../output.js';

export const tenantListUsage = 'relais tenant:list [--json]';

export async function tenantListCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({ args, strict: true, options: { json: { type: 'boolean', default: false } } });
  const db = await openDatabase(config.database);
  try {
    const tenants = await listTenants({ db });
    if (values.json) {
      output.out(JSON.stringify(tenants));
      return;
    }
    if (tenants.length === 0) {
      output.out('No tenants yet. Create one with: relais tenant:create --name NAME --email EMAIL');
      return;
    }
    const rows = tenants.map((t) => [t.id, t.slug, t.name, t.planId ?? '-', t.billingMode, t.status, t.createdAt.toISOString().slice(0, 10)]);
    const header = ['ID', 'SLUG', 'NAME', 'PLAN', 'MODE', 'STATUS', 'CREATED'];
    printTable(output, header, rows);
  } finally {
    await db.close();
  }
}
