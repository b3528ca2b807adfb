import { parseArgs } from 'node:util';
import { createTenant, systemClock } from '@relais/core';
import { openDatabase } from '@relais/db';
import type { Config } from '../../config.js';
import type { CliOutput } from '../output.js';

export const tenantCreateUsage =
  'relais tenant:create --name NAME --email EMAIL [--slug SLUG] [--mode subscription|commission] [--plan starter|business|enterprise] [--locale fr|en] [--json]';

export async function tenantCreateCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      name: { type: 'string' },
      email: { type: 'string' },
      slug: { type: 'string' },
      mode: { type: 'string' },
      plan: { type: 'string' },
      locale: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  // Flags are validated by the use case's zod schema, so the CLI and the web app agree.
  const db = await openDatabase(config.database);
  try {
    const created = await createTenant({ db, clock: systemClock }, {
      name: values.name ?? '',
      email: values.email ?? '',
      slug: values.slug,
      mode: values.mode as 'subscription' | 'commission' | undefined,
      plan: values.plan as 'starter' | 'business' | 'enterprise' | undefined,
      locale: values.locale as 'fr' | 'en' | undefined,
    });
    if (values.json) {
      output.out(JSON.stringify(created));
      return;
    }
    const { tenant, admin } = created;
    output.out('Tenant created');
    output.out(`  id:    ${tenant.id}`);
    output.out(`  slug:  ${tenant.slug}`);
    output.out(`  name:  ${tenant.name}`);
    output.out(`  plan:  ${tenant.planId} (${tenant.billingMode})`);
    output.out(`  admin: ${admin.email}`);
    output.out(`  one-time password: ${admin.oneTimePassword}`);
    output.err('The password is shown only once; the admin must change it at first sign-in.');
  } finally {
    await db.close();
  }
}
