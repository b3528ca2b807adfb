import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { mikrotikRouters, wifiPackages, wifiVouchers, type Database } from '@relais/db';
import { z } from 'zod';
import { AppError, isAppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import { openRouterSession } from '../../routers/open-router-session.js';
import type { RouterClient, RouterSession } from '../../shared/ports/router-client.js';
import type { SecretBox } from '../../shared/secret-box.js';

/** Hotspot users added between two writes of what was pushed. */
const PUSH_CHUNK = 100;

const pushInput = z.object({
  tenantId: z.uuid(),
  routerId: z.uuid(),
  /** Only these vouchers (still waiting for the push); all of the router's waiting ones when omitted. */
  voucherIds: z.array(z.uuid()).max(10_000).optional(),
});

export interface PushReport {
  /** Hotspot users created by this push. */
  added: number;
  /** Already on the router (a push interrupted after the add): recorded, not added again. */
  alreadyThere: number;
  /** Refused by the router (unknown profile...): left waiting, retried by the next push. */
  failed: { voucherId: string; username: string; reason: string }[];
}

/**
 * Creates on the router the hotspot users of vouchers stored for it but not yet pushed, and
 * records each one's RouterOS id and push time. The database is the truth and every step is
 * repeatable: vouchers are read from it, added, then marked chunk by chunk; after a crash the
 * next push meets users it already added ("already have user with this name"), checks that the
 * user is there and records it as pushed.
 */
export async function pushVouchersToRouter(
  deps: { db: Database; routerClient: RouterClient; secrets: SecretBox },
  options: z.input<typeof pushInput>,
): Promise<PushReport> {
  const { tenantId, routerId, voucherIds } = parseInput(pushInput, options);
  const { router, waiting } = await deps.db.withTenant(tenantId, async (tx) => {
    const [router] = await tx.select().from(mikrotikRouters).where(and(eq(mikrotikRouters.tenantId, tenantId), eq(mikrotikRouters.id, routerId)));
    if (!router) throw new AppError('NOT_FOUND', `no router ${routerId}`);
    const waiting = await tx
      .select({
        id: wifiVouchers.id,
        username: wifiVouchers.username,
        password: wifiVouchers.password,
        comment: wifiVouchers.comment,
        profile: wifiVouchers.profile,
        timeLimitSeconds: wifiVouchers.timeLimitSeconds,
        dataLimitBytes: wifiVouchers.dataLimitBytes,
        packageProfile: wifiPackages.mikrotikProfile,
        packageTimeLimitSeconds: wifiPackages.timeLimitSeconds,
        packageDataLimitBytes: wifiPackages.dataLimitBytes,
      })
      .from(wifiVouchers)
      .innerJoin(wifiPackages, and(eq(wifiPackages.tenantId, wifiVouchers.tenantId), eq(wifiPackages.id, wifiVouchers.packageId)))
      .where(
        and(
          eq(wifiVouchers.tenantId, tenantId),
          eq(wifiVouchers.routerId, routerId),
          isNull(wifiVouchers.pushedToRouterAt),
          // Expired or disabled vouchers must not become usable hotspot users.
          inArray(wifiVouchers.status, ['available', 'sold']),
          voucherIds ? inArray(wifiVouchers.id, voucherIds) : undefined,
        ),
      )
      // Sold vouchers first: a customer who paid is waiting for them.
      .orderBy(sql`${wifiVouchers.status} = 'sold' desc`, asc(wifiVouchers.createdAt), asc(wifiVouchers.id));
    return { router, waiting };
  });
  const report: PushReport = { added: 0, alreadyThere: 0, failed: [] };
  if (waiting.length === 0) return report;

  const session = await openRouterSession(deps, router);
  try {
    for (let offset = 0; offset < waiting.length; offset += PUSH_CHUNK) {
      const pushed: { voucherId: string; routerUserId: string }[] = [];
      try {
        for (const voucher of waiting.slice(offset, offset + PUSH_CHUNK)) {
          const added = await addOrFindHotspotUser(session, {
            name: voucher.username,
            password: voucher.password,
            profile: voucher.profile ?? voucher.packageProfile,
            server: router.hotspotServer ?? undefined,
            limitUptimeSeconds: voucher.timeLimitSeconds ?? voucher.packageTimeLimitSeconds ?? undefined,
            limitBytesTotal: voucher.dataLimitBytes ?? voucher.packageDataLimitBytes ?? undefined,
            comment: voucher.comment ?? undefined,
          });
          if ('refused' in added) {
            report.failed.push({ voucherId: voucher.id, username: voucher.username, reason: added.refused });
            continue;
          }
          pushed.push({ voucherId: voucher.id, routerUserId: added.id });
          if (added.alreadyThere) report.alreadyThere += 1;
          else report.added += 1;
        }
      } finally {
        // Record what reached the router even when a later add fails.
        await recordPushed(deps.db, tenantId, pushed);
      }
    }
  } finally {
    await session.close().catch(() => {});
  }
  return report;
}

/**
 * Adds the user; a duplicate is looked up and counted as there. Any other refusal of this one
 * user (unknown profile...) is returned, so one bad package does not hold back the router's other
 * vouchers; connection and login failures end the push (thrown).
 */
async function addOrFindHotspotUser(
  session: RouterSession,
  user: Parameters<RouterSession['addHotspotUser']>[0],
): Promise<{ id: string; alreadyThere: boolean } | { refused: string }> {
  try {
    return { ...(await session.addHotspotUser(user)), alreadyThere: false };
  } catch (error) {
    if (!isAppError(error) || error.code !== 'ROUTER_COMMAND_FAILED') throw error;
    if (error.details?.reason !== 'duplicate_user') return { refused: typeof error.details?.reason === 'string' ? error.details.reason : error.message };
    const [existing] = await session.listHotspotUsers({ names: [user.name] });
    if (!existing) throw error;
    return { id: existing.id, alreadyThere: true };
  }
}

async function recordPushed(db: Database, tenantId: string, pushed: { voucherId: string; routerUserId: string }[]): Promise<void> {
  if (pushed.length === 0) return;
  await db.withTenant(tenantId, async (tx) => {
    for (const { voucherId, routerUserId } of pushed) {
      await tx
        .update(wifiVouchers)
        .set({ routerUserId, pushedToRouterAt: sql`now()` })
        .where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.id, voucherId)));
    }
  });
}
