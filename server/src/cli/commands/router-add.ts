import { parseArgs } from 'node:util';
import { addRouter, findTenantBySlug, testRouterConnection } from '@relais/core';
import type { Config } from '../../config.js';
import { withCliContext } from '../cli-context.js';
import { UsageError, type CliOutput } from '../output.js';
import { printConnectionTest } from './router-test.js';

export const routerAddUsage =
  'relais router:add --tenant SLUG --name NAME --host HOST [--port 8728] --user USER (--password PASSWORD | --password-stdin) [--dns-name NAME] [--hotspot-server NAME] [--tls] [--no-test] [--json]';

/** Registers a router (password encrypted at rest) and, unless --no-test, tests the connection at once. */
export async function routerAddCommand(args: string[], config: Config, output: CliOutput, stdin: NodeJS.ReadableStream = process.stdin): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      name: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
      'dns-name': { type: 'string' },
      'hotspot-server': { type: 'string' },
      tls: { type: 'boolean', default: false },
      'no-test': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.tenant) throw new UsageError('--tenant is required');
  if (values.password !== undefined && values['password-stdin']) throw new UsageError('give --password or --password-stdin, not both');
  // --password-stdin keeps the password out of the process list and shell history.
  const password = values['password-stdin'] ? (await readAll(stdin)).replace(/\r?\n$/, '') : values.password;
  if (password === undefined) throw new UsageError('--password or --password-stdin is required');
  await withCliContext(config, async (context) => {
    const tenant = await findTenantBySlug(context, values.tenant!);
    const router = await addRouter(context, {
      tenantId: tenant.id,
      name: values.name ?? '',
      host: values.host ?? '',
      port: values.port,
      tls: values.tls,
      username: values.user ?? '',
      password,
      dnsName: values['dns-name'],
      hotspotServer: values['hotspot-server'],
    });
    const test = values['no-test'] ? undefined : await testRouterConnection(context, { tenantId: tenant.id, routerId: router.id });
    if (values.json) {
      output.out(JSON.stringify({ router, test }));
      return;
    }
    output.out(`Router "${router.name}" added (${router.host}:${router.port}${router.tls ? ', TLS' : ''}), id ${router.id}`);
    if (test) printConnectionTest(test, tenant.defaultLocale, output);
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}
