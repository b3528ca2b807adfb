import { parseArgs } from 'node:util';
import { createPackage, findTenantBySlug, formatRouterOsDuration, formatXaf, parseByteCount, parseRouterOsDuration, type WifiPackage } from '@relais/core';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { withCliContext } from '../cli-context.js';
import { parseFlags, type CliOutput } from '../output.js';

export const packageCreateUsage =
  'relais package:create --tenant SLUG --name-fr NAME --name-en NAME --price XAF --validity 1d [--time-limit 3h] [--data-limit 1G] [--profile P] [--rate-limit 2M/5M] [--router NAME]... [--low-stock N] [--generate-on-demand] [--inactive] [--json]';

const duration = (flag: string) =>
  z.string().transform((text, ctx) => {
    const seconds = parseRouterOsDuration(text);
    if (seconds === undefined || seconds === 0) {
      ctx.addIssue({ code: 'custom', message: `--${flag} must be a RouterOS duration such as 30m, 3h, 1d or 1w2d` });
      return z.NEVER;
    }
    return seconds;
  });

const flagsSchema = z.object({
  tenant: z.string({ error: '--tenant is required' }).min(1, '--tenant is required'),
  'name-fr': z.string({ error: '--name-fr is required' }),
  'name-en': z.string({ error: '--name-en is required' }),
  price: z.string({ error: '--price is required' }).regex(/^\d+$/, '--price must be a whole number of XAF, e.g. 500').transform(Number),
  validity: duration('validity').refine((seconds) => seconds % 60 === 0, '--validity must be whole minutes'),
  'time-limit': duration('time-limit').optional(),
  'data-limit': z
    .string()
    .transform((text, ctx) => {
      const bytes = parseByteCount(text);
      if (bytes === undefined || bytes === 0) {
        ctx.addIssue({ code: 'custom', message: '--data-limit must be a size such as 500M or 1G (binary units)' });
        return z.NEVER;
      }
      return bytes;
    })
    .optional(),
  'low-stock': z.string().regex(/^\d+$/, '--low-stock must be a whole number').transform(Number).optional(),
});

/** Creates a WiFi package; flags are parsed here (durations, sizes), the rest is validated by the use case. */
export async function packageCreateCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      'name-fr': { type: 'string' },
      'name-en': { type: 'string' },
      price: { type: 'string' },
      validity: { type: 'string' },
      'time-limit': { type: 'string' },
      'data-limit': { type: 'string' },
      profile: { type: 'string' },
      'rate-limit': { type: 'string' },
      router: { type: 'string', multiple: true },
      'low-stock': { type: 'string' },
      'generate-on-demand': { type: 'boolean', default: false },
      inactive: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const parsed = parseFlags(flagsSchema, values);
  await withCliContext(config, async (context) => {
    const tenant = await findTenantBySlug(context, parsed.tenant);
    const created = await createPackage(context, {
      tenantId: tenant.id,
      nameFr: parsed['name-fr'],
      nameEn: parsed['name-en'],
      priceXaf: parsed.price,
      validityMinutes: parsed.validity / 60,
      timeLimitSeconds: parsed['time-limit'] ?? null,
      dataLimitBytes: parsed['data-limit'] ?? null,
      ...(values.profile !== undefined ? { mikrotikProfile: values.profile } : {}),
      rateLimit: values['rate-limit'] ?? null,
      routerNames: values.router ?? [],
      ...(parsed['low-stock'] !== undefined ? { lowStockThreshold: parsed['low-stock'] } : {}),
      generateOnDemand: values['generate-on-demand'],
      active: !values.inactive,
    });
    if (values.json) output.out(JSON.stringify(created));
    else printPackage(created, output);
  });
}

export function printPackage(created: WifiPackage, output: CliOutput): void {
  const limit = (value: number | null, format: (n: number) => string) => (value === null ? 'none' : format(value));
  output.out(`Package "${created.name.fr}" / "${created.name.en}" (${created.active ? 'active' : 'inactive'}), id ${created.id}`);
  output.out(`  price:         ${formatXaf(created.priceXaf, 'fr')}`);
  output.out(`  validity:      ${formatRouterOsDuration(created.validityMinutes * 60)}`);
  output.out(`  time limit:    ${limit(created.timeLimitSeconds, formatRouterOsDuration)}`);
  output.out(`  data limit:    ${limit(created.dataLimitBytes, (bytes) => `${bytes} bytes`)}`);
  output.out(`  profile:       ${created.mikrotikProfile}${created.rateLimit ? ` (rate limit ${created.rateLimit})` : ''}`);
  output.out(`  routers:       ${created.routers.map((router) => router.name).join(', ') || 'none'}`);
  output.out(`  low stock at:  ${created.lowStockThreshold}${created.generateOnDemand ? '; generates on demand when out of stock' : ''}`);
}
