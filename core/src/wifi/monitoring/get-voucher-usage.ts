import { and, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import { mikrotikActiveSessions, mikrotikRouters, tickets, wifiPackages, wifiSessions, wifiVouchers, type Database, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import type { Clock } from '../../shared/ports/clock.js';

/** Disconnections shown to the customer ("Mon WiFi") and in the web app. */
const RECENT_DISCONNECTIONS = 5;

export interface VoucherUsage {
  voucherId: string;
  code: string;
  status: (typeof wifiVouchers.$inferSelect)['status'];
  package: { id: string; nameFr: string; nameEn: string };
  activatedAt: Date | null;
  expiresAt: Date | null;
  /** Whichever runs out first: validity since activation, or the time limit. null = unlimited (or not started). */
  timeLeftSeconds: number | null;
  uptimeUsedSeconds: number;
  timeLimitSeconds: number | null;
  dataUsedBytes: number;
  dataLimitBytes: number | null;
  dataLeftBytes: number | null;
  onlineNow: { routerName: string; address: string | null; macAddress: string | null; uptimeSeconds: number; lastSeenAt: Date }[];
  recentDisconnections: { routerName: string; endedAt: Date; reason: string | null; uptimeSeconds: number; bytes: number; macAddress: string | null }[];
}

/**
 * Time left, data used, whether it is online now and its last disconnections, for one voucher
 * (by id or code) — from what the 5-minute sync recorded, so at most one sync old.
 */
export async function getVoucherUsage(deps: { db: Database; clock: Clock }, options: { tenantId: string; voucherId?: string; code?: string }): Promise<VoucherUsage> {
  const { tenantId } = options;
  if (!options.voucherId && !options.code) throw new AppError('VALIDATION_FAILED', 'a voucher id or code is required');
  return deps.db.withTenant(tenantId, async (tx) => {
    const [usage] = await usageOf(tx, tenantId, deps.clock.now(), options.voucherId ? eq(wifiVouchers.id, options.voucherId) : eq(wifiVouchers.username, options.code!));
    if (!usage) throw new AppError('NOT_FOUND', 'no such voucher');
    return usage;
  });
}

/** The vouchers a contact bought (through its tickets), newest first, with their usage. */
export async function getContactWifiUsage(deps: { db: Database; clock: Clock }, options: { tenantId: string; contactId: string; limit?: number }): Promise<VoucherUsage[]> {
  const { tenantId } = options;
  return deps.db.withTenant(tenantId, async (tx) => {
    const owned = await tx
      .select({ id: wifiVouchers.id })
      .from(wifiVouchers)
      .innerJoin(tickets, and(eq(tickets.tenantId, wifiVouchers.tenantId), eq(tickets.id, wifiVouchers.ticketId)))
      .where(and(eq(wifiVouchers.tenantId, tenantId), eq(tickets.contactId, options.contactId), isNotNull(wifiVouchers.soldAt)))
      .orderBy(desc(wifiVouchers.soldAt))
      .limit(options.limit ?? 5);
    if (owned.length === 0) return [];
    const ids = owned.map((row) => row.id);
    const usages = await usageOf(tx, tenantId, deps.clock.now(), inArray(wifiVouchers.id, ids));
    return ids.map((id) => usages.find((usage) => usage.voucherId === id)!).filter(Boolean);
  });
}

async function usageOf(tx: Tx, tenantId: string, now: Date, which: ReturnType<typeof eq>): Promise<VoucherUsage[]> {
  const vouchers = await tx
    .select({
      id: wifiVouchers.id,
      code: wifiVouchers.username,
      status: wifiVouchers.status,
      activatedAt: wifiVouchers.activatedAt,
      expiresAt: wifiVouchers.expiresAt,
      timeLimitSeconds: sql<number | null>`coalesce(${wifiVouchers.timeLimitSeconds}, ${wifiPackages.timeLimitSeconds})`,
      dataLimitBytes: sql<string | number | null>`coalesce(${wifiVouchers.dataLimitBytes}, ${wifiPackages.dataLimitBytes})`,
      packageId: wifiPackages.id,
      nameFr: wifiPackages.nameFr,
      nameEn: wifiPackages.nameEn,
    })
    .from(wifiVouchers)
    .innerJoin(wifiPackages, and(eq(wifiPackages.tenantId, wifiVouchers.tenantId), eq(wifiPackages.id, wifiVouchers.packageId)))
    .where(and(eq(wifiVouchers.tenantId, tenantId), which));
  if (vouchers.length === 0) return [];
  const codes = vouchers.map((voucher) => voucher.code);

  const online = await tx
    .select({
      username: mikrotikActiveSessions.username,
      routerName: mikrotikRouters.name,
      address: mikrotikActiveSessions.address,
      macAddress: mikrotikActiveSessions.macAddress,
      uptimeSeconds: mikrotikActiveSessions.uptimeSeconds,
      bytesIn: mikrotikActiveSessions.bytesIn,
      bytesOut: mikrotikActiveSessions.bytesOut,
      lastSeenAt: mikrotikActiveSessions.lastSeenAt,
    })
    .from(mikrotikActiveSessions)
    .innerJoin(mikrotikRouters, and(eq(mikrotikRouters.tenantId, mikrotikActiveSessions.tenantId), eq(mikrotikRouters.id, mikrotikActiveSessions.routerId)))
    .where(and(eq(mikrotikActiveSessions.tenantId, tenantId), inArray(mikrotikActiveSessions.username, codes)));
  const totals = await tx
    .select({
      username: wifiSessions.username,
      uptimeSeconds: sql<string>`coalesce(sum(${wifiSessions.uptimeSeconds}), 0)`,
      bytes: sql<string>`coalesce(sum(${wifiSessions.bytesIn} + ${wifiSessions.bytesOut}), 0)`,
    })
    .from(wifiSessions)
    .where(and(eq(wifiSessions.tenantId, tenantId), inArray(wifiSessions.username, codes)))
    .groupBy(wifiSessions.username);
  const recent = await tx
    .select({
      username: wifiSessions.username,
      routerName: mikrotikRouters.name,
      endedAt: wifiSessions.endedAt,
      reason: wifiSessions.endReason,
      uptimeSeconds: wifiSessions.uptimeSeconds,
      bytes: sql<string>`${wifiSessions.bytesIn} + ${wifiSessions.bytesOut}`,
      macAddress: wifiSessions.macAddress,
      rank: sql<number>`row_number() over (partition by ${wifiSessions.username} order by ${wifiSessions.endedAt} desc)`.as('rank'),
    })
    .from(wifiSessions)
    .innerJoin(mikrotikRouters, and(eq(mikrotikRouters.tenantId, wifiSessions.tenantId), eq(mikrotikRouters.id, wifiSessions.routerId)))
    .where(and(eq(wifiSessions.tenantId, tenantId), inArray(wifiSessions.username, codes), isNotNull(wifiSessions.endedAt)));

  return vouchers.map((voucher) => {
    const mine = online.filter((session) => session.username === voucher.code);
    const closed = totals.find((total) => total.username === voucher.code);
    const uptimeUsedSeconds = Number(closed?.uptimeSeconds ?? 0) + mine.reduce((sum, session) => sum + session.uptimeSeconds, 0);
    const dataUsedBytes = Number(closed?.bytes ?? 0) + mine.reduce((sum, session) => sum + session.bytesIn + session.bytesOut, 0);
    const dataLimitBytes = voucher.dataLimitBytes === null ? null : Number(voucher.dataLimitBytes);
    const timeLimitSeconds = voucher.timeLimitSeconds === null ? null : Number(voucher.timeLimitSeconds);
    const untilExpiry = voucher.expiresAt ? Math.max(0, Math.floor((voucher.expiresAt.getTime() - now.getTime()) / 1000)) : null;
    const ofLimit = timeLimitSeconds === null ? null : Math.max(0, timeLimitSeconds - uptimeUsedSeconds);
    const timeLeftSeconds = voucher.status === 'expired' ? 0 : untilExpiry === null ? ofLimit : ofLimit === null ? untilExpiry : Math.min(untilExpiry, ofLimit);
    return {
      voucherId: voucher.id,
      code: voucher.code,
      status: voucher.status,
      package: { id: voucher.packageId, nameFr: voucher.nameFr, nameEn: voucher.nameEn },
      activatedAt: voucher.activatedAt,
      expiresAt: voucher.expiresAt,
      timeLeftSeconds,
      uptimeUsedSeconds,
      timeLimitSeconds,
      dataUsedBytes,
      dataLimitBytes,
      dataLeftBytes: dataLimitBytes === null ? null : Math.max(0, dataLimitBytes - dataUsedBytes),
      onlineNow: mine.map(({ routerName, address, macAddress, uptimeSeconds, lastSeenAt }) => ({ routerName, address, macAddress, uptimeSeconds, lastSeenAt })),
      recentDisconnections: recent
        .filter((session) => session.username === voucher.code && Number(session.rank) <= RECENT_DISCONNECTIONS)
        .sort((a, b) => b.endedAt!.getTime() - a.endedAt!.getTime())
        .map((session) => ({ routerName: session.routerName, endedAt: session.endedAt!, reason: session.reason, uptimeSeconds: session.uptimeSeconds, bytes: Number(session.bytes), macAddress: session.macAddress })),
    };
  });
}
