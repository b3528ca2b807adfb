import { parseArgs } from 'node:util';
import { findPackageByName, findTenantBySlug, generateVouchers, pushVouchersToRouter, routerProblemText, VOUCHER_ALPHABET_NAMES, type PushReport, type VoucherAlphabet } from '@relais/core';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { withCliContext } from '../cli-context.js';
import { parseFlags, UsageError, type CliOutput } from '../output.js';

export const voucherGenerateUsage =
  'relais voucher:generate --tenant SLUG --package NAME --count N [--length 8] [--prefix X] [--alphabet digits|lower|upper|mixed] [--separate-password] [--router NAME] [--no-push] [--json]';

const wholeNumber = (flag: string) => z.string().regex(/^\d+$/, `--${flag} must be a whole number`).transform(Number);
const flagsSchema = z.object({
  tenant: z.string({ error: '--tenant is required' }),
  package: z.string({ error: '--package is required' }),
  count: wholeNumber('count'),
  length: wholeNumber('length').optional(),
  alphabet: z.enum(VOUCHER_ALPHABET_NAMES, `--alphabet must be one of ${VOUCHER_ALPHABET_NAMES.join(', ')}`).optional(),
});

/**
 * Generates a batch of vouchers and, when the package is on a router, pushes them to it as
 * hotspot users (unless --no-push: the worker's push job does it later). A failed push leaves the
 * vouchers stored and waiting for the next push.
 */
export async function voucherGenerateCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      package: { type: 'string' },
      count: { type: 'string' },
      length: { type: 'string' },
      prefix: { type: 'string' },
      alphabet: { type: 'string' },
      'separate-password': { type: 'boolean', default: false },
      router: { type: 'string' },
      'no-push': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const parsed = parseFlags(flagsSchema, values);
  await withCliContext(config, async (context) => {
    const tenant = await findTenantBySlug(context, parsed.tenant);
    const pkg = await findPackageByName(context, { tenantId: tenant.id, name: parsed.package });
    let routerId: string | undefined;
    if (values.router) {
      routerId = pkg.routers.find((router) => router.name.toLowerCase() === values.router!.toLowerCase())?.id;
      if (!routerId) throw new UsageError(`--router: package "${pkg.name.fr}" is not sold on a router named "${values.router}"`);
    }
    const generated = await generateVouchers(context, {
      tenantId: tenant.id,
      packageId: pkg.id,
      count: parsed.count,
      ...(parsed.length !== undefined ? { length: parsed.length } : {}),
      ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
      ...(parsed.alphabet ? { alphabet: parsed.alphabet as VoucherAlphabet } : {}),
      separatePassword: values['separate-password'],
      routerId,
    });
    let push: PushReport | { error: string } | undefined;
    if (generated.router && !values['no-push']) {
      try {
        push = await pushVouchersToRouter(context, { tenantId: tenant.id, routerId: generated.router.id, voucherIds: generated.vouchers.map((v) => v.id) });
      } catch (error) {
        push = { error: routerProblemText(error)[tenant.defaultLocale] };
      }
    }
    if (values.json) {
      output.out(JSON.stringify({ ...generated, push }));
      return;
    }
    const first = generated.vouchers[0]!;
    const last = generated.vouchers.at(-1)!;
    output.out(`Generated ${generated.count} vouchers for "${pkg.name.fr}"`);
    output.out(`  codes:    ${first.username}${generated.count > 1 ? ` ... ${last.username}` : ''} (${values['separate-password'] ? 'separate passwords' : 'password = code'})`);
    if (!generated.router) output.out('  router:   none (the package is on no router; add the users yourself or import them)');
    else if (!push) output.out(`  router:   ${generated.router.name}: not pushed yet (--no-push)`);
    else if ('error' in push) {
      output.out(`  router:   ${generated.router.name}: NOT pushed; the vouchers wait for the next push`);
      output.err(push.error);
    } else {
      output.out(`  router:   ${generated.router.name}: ${push.added} hotspot users added${push.alreadyThere ? `, ${push.alreadyThere} already there` : ''}`);
      if (push.failed.length > 0) {
        output.err(`${push.failed.length} vouchers were refused by the router (first: ${push.failed[0]!.username}, ${push.failed[0]!.reason}); they wait for the next push.`);
      }
    }
    output.out(`  print:    relais voucher:print --tenant ${tenant.slug} --package "${pkg.name.fr}" --out vouchers.pdf`);
  });
}
