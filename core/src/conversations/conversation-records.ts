import { createHash } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import { categories, contactIdentities, contacts, conversations, executeRows, tenants, type Tx } from '@relais/db';
import type { ChannelCapabilities } from '../shared/ports/channel-sender.js';
import type { OfferedCategory, OfferedPackage } from './conversation-state.js';

export type ConversationRow = typeof conversations.$inferSelect;
export type ContactRow = typeof contacts.$inferSelect;

/** How a conversation is rendered before its channel's adapter ever said: the safest common subset. */
export const FALLBACK_CAPABILITIES: ChannelCapabilities = {
  buttons: false,
  maxButtons: 0,
  images: false,
  maxTextLength: 1000,
  plainTextOnly: false,
  replyInSession: false,
};

/** A uuid that is always the same for the same key: redelivered events write the same rows. */
export function uuidFromKey(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  // Shaped as a version-8 (custom) uuid so that uuid columns and validators accept it.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Serialises, until the transaction ends, work on one key (first contact of one identity...). */
export async function lockKey(tx: Tx, key: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
}

/**
 * The contact behind a channel identity, created on first contact. A phone number given by the
 * channel merges identities: the WhatsApp and SMS identities of +2376... are one contact.
 */
export async function findOrCreateContact(
  tx: Tx,
  tenantId: string,
  channelKind: (typeof contactIdentities.$inferSelect)['channelKind'],
  sender: { externalId: string; phoneE164?: string; name?: string },
): Promise<ContactRow> {
  const identityOf = async () =>
    (
      await tx
        .select({ contact: contacts })
        .from(contactIdentities)
        .innerJoin(contacts, and(eq(contacts.tenantId, contactIdentities.tenantId), eq(contacts.id, contactIdentities.contactId)))
        .where(and(eq(contactIdentities.tenantId, tenantId), eq(contactIdentities.channelKind, channelKind), eq(contactIdentities.externalId, sender.externalId)))
    )[0]?.contact;
  const known = await identityOf();
  if (known) return known;
  // First contact: two messages of a new customer arriving together must make one contact.
  await lockKey(tx, `contact-identity:${tenantId}:${channelKind}:${sender.externalId}`);
  const raced = await identityOf();
  if (raced) return raced;
  let contact: ContactRow | undefined;
  if (sender.phoneE164) {
    await lockKey(tx, `contact-phone:${tenantId}:${sender.phoneE164}`);
    [contact] = await tx.select().from(contacts).where(and(eq(contacts.tenantId, tenantId), eq(contacts.phoneE164, sender.phoneE164)));
  }
  contact ??= (await tx.insert(contacts).values({ tenantId, name: sender.name ?? null, phoneE164: sender.phoneE164 ?? null }).returning())[0]!;
  await tx.insert(contactIdentities).values({ tenantId, contactId: contact.id, channelKind, externalId: sender.externalId, displayName: sender.name ?? null });
  return contact;
}

/** The conversation of a contact on a channel account, created if new, locked until the transaction ends. */
export async function lockConversationOf(tx: Tx, tenantId: string, channelAccountId: string, contactId: string): Promise<ConversationRow> {
  await tx.insert(conversations).values({ tenantId, channelAccountId, contactId }).onConflictDoNothing({
    target: [conversations.tenantId, conversations.channelAccountId, conversations.contactId],
  });
  const [row] = await tx
    .select()
    .from(conversations)
    .where(and(eq(conversations.tenantId, tenantId), eq(conversations.channelAccountId, channelAccountId), eq(conversations.contactId, contactId)))
    .for('update');
  return row!;
}

export async function lockConversationById(tx: Tx, tenantId: string, conversationId: string): Promise<ConversationRow | undefined> {
  const [row] = await tx.select().from(conversations).where(and(eq(conversations.tenantId, tenantId), eq(conversations.id, conversationId))).for('update');
  return row;
}

export async function tenantProfile(tx: Tx, tenantId: string): Promise<{ name: string; defaultLocale: 'fr' | 'en' }> {
  const [tenant] = await tx.select({ name: tenants.name, defaultLocale: tenants.defaultLocale }).from(tenants).where(eq(tenants.id, tenantId));
  return tenant ?? { name: 'WiFi', defaultLocale: 'fr' };
}

/** Active packages a customer can buy now: with a voucher in stock, or made on demand. Cheapest first. */
export async function offeredPackages(tx: Tx, tenantId: string): Promise<OfferedPackage[]> {
  const rows = await executeRows(
    tx,
    sql`select p.id, p.name_fr, p.name_en, p.price_xaf, p.validity_minutes from wifi_packages p
        where p.tenant_id = ${tenantId} and p.active and p.price_xaf > 0
          and (p.generate_on_demand or exists (
            select 1 from wifi_vouchers v where v.tenant_id = p.tenant_id and v.package_id = p.id and v.status = 'available'))
        order by p.price_xaf, p.name_fr`,
  );
  return rows.map((row) => ({
    id: row.id as string,
    name: { fr: row.name_fr as string, en: row.name_en as string },
    priceXaf: Number(row.price_xaf),
    validityMinutes: Number(row.validity_minutes),
  }));
}

/** Support categories (those that sell a package are bought through "buy WiFi"). */
export async function offeredCategories(tx: Tx, tenantId: string): Promise<OfferedCategory[]> {
  const rows = await tx
    .select({ id: categories.id, nameFr: categories.nameFr, nameEn: categories.nameEn, priceXaf: categories.priceXaf })
    .from(categories)
    .where(and(eq(categories.tenantId, tenantId), eq(categories.active, true), sql`${categories.wifiPackageId} is null`))
    .orderBy(asc(categories.position), asc(categories.nameFr));
  return rows.map((row) => ({ id: row.id, name: { fr: row.nameFr, en: row.nameEn }, priceXaf: row.priceXaf }));
}
