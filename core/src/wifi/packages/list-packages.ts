import type { Database } from '@relais/db';
import { z } from 'zod';
import { parseInput } from '../../shared/parse-input.js';
import { loadPackages, type WifiPackage } from './wifi-package.js';

const listPackagesInput = z.object({ tenantId: z.uuid(), activeOnly: z.boolean().default(false) });

/** A tenant's packages, cheapest first, with their routers and stock by status. */
export async function listPackages(deps: { db: Database }, options: z.input<typeof listPackagesInput>): Promise<WifiPackage[]> {
  const input = parseInput(listPackagesInput, options);
  const packages = await deps.db.withTenant(input.tenantId, (tx) => loadPackages(tx, input.tenantId));
  return input.activeOnly ? packages.filter((item) => item.active) : packages;
}
