import { parseArgs } from 'node:util';
import { createAgent, findTenantBySlug } from '@relais/core';
import type { Config } from '../../config.js';
import { withCliContext } from '../cli-context.js';
import { UsageError, type CliOutput } from '../output.js';

export const agentCreateUsage = 'relais agent:create --tenant SLUG --email EMAIL --name NAME [--role agent|admin] [--locale fr|en] [--max-open-tickets N] [--json]';

export async function agentCreateCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      locale: { type: 'string' },
      'max-open-tickets': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.tenant) throw new UsageError('--tenant is required');
  await withCliContext(config, async (context) => {
    const tenant = await findTenantBySlug(context, values.tenant!);
    // Flags are validated by the use case's zod schema (the web app will call the same one).
    const created = await createAgent(context, {
      tenantId: tenant.id,
      email: values.email ?? '',
      name: values.name ?? '',
      role: values.role as 'agent' | 'admin' | undefined,
      locale: values.locale as 'fr' | 'en' | undefined,
      maxOpenTickets: values['max-open-tickets'] === undefined ? undefined : Number(values['max-open-tickets']),
    });
    if (values.json) {
      output.out(JSON.stringify(created));
      return;
    }
    output.out('User created');
    output.out(`  id: ${created.userId}`);
    output.out(`  one-time password: ${created.oneTimePassword}`);
    output.err('The password is shown only once; it must be changed at first sign-in.');
  });
}
