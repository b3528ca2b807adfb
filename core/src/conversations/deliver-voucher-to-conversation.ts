import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { mikrotikRouters, tickets, wifiPackageRouters, wifiPackages, wifiVouchers, type Database } from '@relais/db';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';
import type { FileStore } from '../shared/ports/file-store.js';
import { hotspotLoginUrl } from '../wifi/vouchers/voucher-login.js';
import { renderVoucherQrPng } from '../wifi/vouchers/render-voucher-qr-png.js';
import { applyConversationEvent } from './apply-conversation-event.js';

const deliverVoucherInput = z.object({
  tenantId: z.uuid(),
  ticketId: z.uuid(),
  voucherId: z.uuid(),
  eventKey: z.string().min(1),
});

/** Where a voucher's QR image is kept: one per voucher, served only to its conversation. */
export const voucherQrFileKey = (tenantId: string, voucherId: string) => `conversations/${tenantId}/vouchers/${voucherId}.png`;

/**
 * The `wifi.voucher_ready` consumer: the voucher code, its validity and a QR image (the hotspot
 * login URL when the router has a DNS name) in the conversation the ticket was opened in. The
 * code is read now, not carried by the outbox. The PNG is stored before the message refers to
 * it; rendering it twice on a redelivery writes the same bytes.
 */
export async function deliverVoucherToConversation(
  deps: { db: Database; clock: Clock; fileStore: FileStore },
  options: z.input<typeof deliverVoucherInput>,
): Promise<void> {
  const input = parseInput(deliverVoucherInput, options);
  const { tenantId } = input;
  const found = await deps.db.withTenant(tenantId, async (tx) => {
    const [row] = await tx
      .select({
        conversationId: tickets.conversationId,
        username: wifiVouchers.username,
        password: wifiVouchers.password,
        routerId: wifiVouchers.routerId,
        packageId: wifiPackages.id,
        nameFr: wifiPackages.nameFr,
        nameEn: wifiPackages.nameEn,
        validityMinutes: wifiPackages.validityMinutes,
      })
      .from(wifiVouchers)
      .innerJoin(tickets, and(eq(tickets.tenantId, wifiVouchers.tenantId), eq(tickets.id, wifiVouchers.ticketId)))
      .innerJoin(wifiPackages, and(eq(wifiPackages.tenantId, wifiVouchers.tenantId), eq(wifiPackages.id, wifiVouchers.packageId)))
      .where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.id, input.voucherId), eq(wifiVouchers.ticketId, input.ticketId)));
    if (!row?.conversationId) return undefined;
    // The voucher's router, else the package's first: its hotspot DNS name makes the login URL.
    const [router] = row.routerId
      ? await tx.select({ dnsName: mikrotikRouters.dnsName }).from(mikrotikRouters).where(and(eq(mikrotikRouters.tenantId, tenantId), eq(mikrotikRouters.id, row.routerId)))
      : await tx
          .select({ dnsName: mikrotikRouters.dnsName })
          .from(wifiPackageRouters)
          .innerJoin(mikrotikRouters, and(eq(mikrotikRouters.tenantId, wifiPackageRouters.tenantId), eq(mikrotikRouters.id, wifiPackageRouters.routerId)))
          .where(and(eq(wifiPackageRouters.tenantId, tenantId), eq(wifiPackageRouters.packageId, row.packageId)))
          .orderBy(asc(mikrotikRouters.name))
          .limit(1);
    return { ...row, conversationId: row.conversationId, dnsName: router?.dnsName ?? null };
  });
  if (!found) return;

  const credentials = { username: found.username, password: found.password };
  const fileKey = voucherQrFileKey(tenantId, input.voucherId);
  await deps.fileStore.put(fileKey, await renderVoucherQrPng({ ...credentials, dnsName: found.dnsName }), 'image/png');
  await applyConversationEvent(deps, {
    tenantId,
    conversationId: found.conversationId,
    eventKey: input.eventKey,
    input: {
      kind: 'voucher_ready',
      ticketId: input.ticketId,
      code: found.username,
      password: found.password,
      packageName: { fr: found.nameFr, en: found.nameEn },
      validityMinutes: found.validityMinutes,
      loginUrl: found.dnsName ? hotspotLoginUrl(found.dnsName, credentials) : undefined,
      image: { fileKey, mimeType: 'image/png' },
    },
  });
}
