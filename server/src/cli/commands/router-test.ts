import { parseArgs } from 'node:util';
import { findRouterByName, findTenantBySlug, testRouterConnection, type RouterConnectionTest } from '@relais/core';
import type { Config } from '../../config.js';
import { withCliContext } from '../cli-context.js';
import { UsageError, type CliOutput } from '../output.js';

export const routerTestUsage = 'relais router:test --tenant SLUG --router NAME [--locale fr|en] [--json]';

/** Tests a stored router's connection; exits 1 when it fails, with what to check. */
export async function routerTestCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { tenant: { type: 'string' }, router: { type: 'string' }, locale: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (!values.tenant || !values.router) throw new UsageError('--tenant and --router are required');
  if (values.locale && values.locale !== 'fr' && values.locale !== 'en') throw new UsageError('--locale is fr or en');
  await withCliContext(config, async (context) => {
    const tenant = await findTenantBySlug(context, values.tenant!);
    const router = await findRouterByName(context, { tenantId: tenant.id, name: values.router! });
    const test = await testRouterConnection(context, { tenantId: tenant.id, routerId: router.id });
    if (values.json) output.out(JSON.stringify(test));
    else printConnectionTest(test, (values.locale as 'fr' | 'en' | undefined) ?? tenant.defaultLocale, output);
    if (!test.ok) throw new ConnectionTestFailed(test.code);
  });
}

/** Exit 1 without repeating the reason already printed. */
class ConnectionTestFailed extends Error {
  constructor(code: string) {
    super(`connection test failed (${code})`);
  }
}

export function printConnectionTest(test: RouterConnectionTest, locale: 'fr' | 'en', output: CliOutput): void {
  if (!test.ok) {
    output.err(locale === 'fr' ? `Échec de la connexion (${test.code}) : ${test.problem.fr}` : `Connection failed (${test.code}): ${test.problem.en}`);
    return;
  }
  output.out(`${locale === 'fr' ? 'Connexion réussie :' : 'Connected:'} ${test.identity}, RouterOS ${test.version}`);
  const servers = test.hotspotServers.map((server) => (server.dnsName ? `${server.name} (${server.dnsName})` : server.name));
  output.out(`  ${locale === 'fr' ? 'Serveurs hotspot :' : 'Hotspot servers:'} ${servers.join(', ') || '-'}`);
  output.out(`  ${locale === 'fr' ? 'Profils :' : 'Profiles:'} ${test.profiles.map((profile) => profile.name).join(', ') || '-'}`);
  for (const warning of test.warnings) output.err(`  ! ${warning[locale]}`);
}
