import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { mikrotikRouters, wifiPackages, wifiVouchers, type Database } from '@relais/db';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.js';
import { writeToOutbox } from '../../shared/outbox.js';
import { parseInput } from '../../shared/parse-input.js';
import { VOUCHER_ALPHABET_NAMES, VOUCHER_CODE_LENGTH, VOUCHER_PREFIX_PATTERN, voucherCodeSpace } from './voucher-codes.js';
import { insertVouchersWithFreshCodes, routerForNewVouchers } from './voucher-insert.js';

export const MAX_VOUCHERS_PER_BATCH = 10_000;

export const generateVouchersInput = z.object({
  tenantId: z.uuid(),
  packageId: z.uuid(),
  count: z.number().int('must be a whole number').min(1, 'must be at least 1').max(MAX_VOUCHERS_PER_BATCH, `at most ${MAX_VOUCHERS_PER_BATCH} per batch`),
  length: z
    .number()
    .int('must be a whole number')
    .min(VOUCHER_CODE_LENGTH.min, `must be at least ${VOUCHER_CODE_LENGTH.min}`)
    .max(VOUCHER_CODE_LENGTH.max, `at most ${VOUCHER_CODE_LENGTH.max}`)
    .default(VOUCHER_CODE_LENGTH.default),
  prefix: z.string().regex(VOUCHER_PREFIX_PATTERN, 'must be up to 6 letters or digits').default(''),
  alphabet: z.enum(VOUCHER_ALPHABET_NAMES, `must be one of ${VOUCHER_ALPHABET_NAMES.join(', ')}`).default('lower'),
  /** false: password = user name (MikHmon's "vc" vouchers); true: a separate random password ("up"). */
  separatePassword: z.boolean().default(false),
  /** Needed only when the package is sold on several routers. */
  routerId: z.uuid().optional(),
  comment: z.string().trim().max(100).optional(),
});
export type GenerateVouchersInput = z.input<typeof generateVouchersInput>;

export interface GeneratedVouchers {
  packageId: string;
  count: number;
  /** The router the vouchers are for; they still have to be pushed to it (pushVouchersToRouter). */
  router: { id: string; name: string } | null;
  vouchers: { id: string; username: string; password: string }[];
}

/**
 * Creates a batch of available vouchers for a package with crypto-random codes. The database is
 * the truth: when the package is on a router, the vouchers are stored with that router and
 * `pushed_to_router_at` empty, and a `wifi.router_push_required` message asks for the push; the
 * push records each hotspot user as it is created, so a crash between the two loses nothing.
 */
export async function generateVouchers(deps: { db: Database }, options: GenerateVouchersInput): Promise<GeneratedVouchers> {
  const input = parseInput(generateVouchersInput, options);
  const { tenantId, packageId } = input;
  return deps.db.withTenant(tenantId, async (tx) => {
    const [pkg] = await tx
      .select({ id: wifiPackages.id })
      .from(wifiPackages)
      .where(and(eq(wifiPackages.tenantId, tenantId), eq(wifiPackages.id, packageId)));
    if (!pkg) throw new AppError('NOT_FOUND', `no package ${packageId}`);

    // Refuse batches that would fill more than half of the code space: past that, collisions make
    // drawing slow and codes easy to guess.
    const space = voucherCodeSpace(input.alphabet, input.length);
    const [taken] = await tx
      .select({ count: sql<number>`count(*)::int` })
      .from(wifiVouchers)
      .where(
        and(
          eq(wifiVouchers.tenantId, tenantId),
          sql`length(${wifiVouchers.username}) = ${input.prefix.length + input.length}`,
          sql`starts_with(${wifiVouchers.username}, ${input.prefix})`,
        ),
      );
    const takenCount = Number(taken!.count);
    if (takenCount + input.count > space / 2) {
      throw new AppError(
        'VALIDATION_FAILED',
        `length: ${input.length} ${input.alphabet} characters${input.prefix ? ` after "${input.prefix}"` : ''} make only ${space} codes` +
          `${takenCount > 0 ? ` (${takenCount} already used)` : ''}, too few for ${input.count} more; use a longer code, a larger alphabet or another prefix`,
      );
    }

    const routerId = await routerForNewVouchers(tx, tenantId, packageId, input.routerId);
    const vouchers = await insertVouchersWithFreshCodes(
      tx,
      { alphabet: input.alphabet, length: input.length, prefix: input.prefix, separatePassword: input.separatePassword },
      input.count,
      { tenantId, packageId, routerId, status: 'available', source: 'generated', comment: input.comment ?? null },
    );
    let router: GeneratedVouchers['router'] = null;
    if (routerId) {
      const [row] = await tx
        .select({ id: mikrotikRouters.id, name: mikrotikRouters.name })
        .from(mikrotikRouters)
        .where(and(eq(mikrotikRouters.tenantId, tenantId), eq(mikrotikRouters.id, routerId)));
      router = row!;
      await writeToOutbox(tx, tenantId, {
        topic: 'wifi.router_push_required',
        dedupeKey: `wifi-router-push:${routerId}:${randomUUID()}`,
        payload: { routerId, packageId, reason: 'generated', count: vouchers.length },
      });
    }
    return { packageId, count: vouchers.length, router, vouchers };
  });
}
