import type { Database } from '@relais/db';
import type { Clock } from '../shared/ports/clock.js';
import { getContactWifiUsage } from '../wifi/monitoring/get-voucher-usage.js';
import type { ConversationInput } from './conversation-input.js';
import { listContactTickets } from './list-contact-tickets.js';

/** Reads what the customer asked to see ("my WiFi", "my tickets") as an input for the engine. */
export async function lookupForConversation(
  deps: { db: Database; clock: Clock },
  options: { tenantId: string; contactId: string; what: 'wifi_usage' | 'tickets' },
): Promise<ConversationInput> {
  if (options.what === 'tickets') return { kind: 'tickets', tickets: await listContactTickets(deps, { tenantId: options.tenantId, contactId: options.contactId }) };
  const usages = await getContactWifiUsage(deps, { tenantId: options.tenantId, contactId: options.contactId, limit: 3 });
  return {
    kind: 'wifi_usage',
    usages: usages.map((usage) => ({
      code: usage.code,
      packageName: { fr: usage.package.nameFr, en: usage.package.nameEn },
      status: usage.status,
      timeLeftSeconds: usage.activatedAt ? usage.timeLeftSeconds : null,
      dataUsedBytes: usage.dataUsedBytes,
      dataLeftBytes: usage.dataLeftBytes,
      onlineNow: usage.onlineNow.length > 0,
    })),
  };
}
