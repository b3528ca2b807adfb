import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { contactIdentities, contacts, conversations, type RawStatement, type TenantContext, type Tx } from '@relais/db';
import type { ChannelCapabilities } from '../shared/ports/channel-sender.js';
import { lockKey } from '../shared/transaction-lock.js';
import type { OfferedCategory, OfferedPackage } from './conversation-state.js';

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

/** Creates the conversation of a contact on a channel account if it does not exist yet (locking it is lockConversationAndReceive's job). */
export async function ensureConversationOf(tx: Tx, tenantId: string, channelAccountId: string, contactId: string): Promise<void> {
  await tx.insert(conversations).values({ tenantId, channelAccountId, contactId }).onConflictDoNothing({
    target: [conversations.tenantId, conversations.channelAccountId, conversations.contactId],
  });
}

/** A tenant transaction with its hand-written statement runner (the turn's hot path uses both). */
export interface TurnDb {
  tx: Tx;
  query: TenantContext['query'];
  /** Given when the turn's final write ends the transaction: it then goes out with its COMMIT. */
  queryAndCommit?: TenantContext['queryAndCommit'];
}

/** What a turn needs of its conversation (read with the row lock held). */
export interface LockedConversation {
  id: string;
  channelAccountId: string;
  contactId: string;
  state: unknown;
  mode: 'bot' | 'agent' | 'closed';
  locale: 'fr' | 'en' | null;
  expiresAt: Date | null;
  version: number;
  /** The ticket an agent handles the conversation under (hand-off, agent reply); null otherwise. */
  ticketId: string | null;
}

export interface TenantProfile {
  name: string;
  defaultLocale: 'fr' | 'en';
}

/** Who the turn is about: the locked conversation, its contact's language and the tenant's name and language. */
export interface TurnSubjects {
  conversation: LockedConversation;
  contact: { id: string; locale: 'fr' | 'en' | null };
  tenant: TenantProfile;
}

const CONVERSATION_COLUMNS = `c.id, c.channel_account_id as "channelAccountId", c.contact_id as "contactId", c.state, c.mode, c.locale,
  c.expires_at as "expiresAt", c.version, c.ticket_id as "ticketId"`;

interface SubjectsRow extends LockedConversation {
  contactLocale: 'fr' | 'en' | null;
  tenantName: string | null;
  tenantDefaultLocale: 'fr' | 'en' | null;
}

const SUBJECTS_COLUMNS = `ct.locale as "contactLocale", t.name as "tenantName", t.default_locale as "tenantDefaultLocale"`;

function subjectsOf(row: SubjectsRow): TurnSubjects {
  const { contactLocale, tenantName, tenantDefaultLocale, ...conversation } = row;
  return {
    conversation: { ...conversation, expiresAt: conversation.expiresAt === null ? null : new Date(conversation.expiresAt), version: Number(conversation.version) },
    contact: { id: conversation.contactId, locale: contactLocale },
    // The tenants row is always there under RLS; the fallback only keeps the type honest.
    tenant: { name: tenantName ?? 'WiFi', defaultLocale: tenantDefaultLocale ?? 'fr' },
  };
}

/**
 * The hot path of an inbound message from a known contact, in one round trip: the identity on
 * the account's channel kind, its conversation locked FOR UPDATE, then the inbound row inserted
 * (deduplicated on the provider's id: no row back = already handled), with the contact's and the
 * tenant's language. No row at all = unknown identity, no conversation yet or no such account:
 * the caller takes the slow path (findOrCreateContact, ensureConversationOf) and runs this again.
 * The contact and tenant columns come from the statement's snapshot, taken before any wait for
 * the lock; `unchanged` is false when the conversation changed meanwhile (another turn committed,
 * perhaps with a new language): then the caller reads them again (CONTACT_AND_TENANT).
 */
const LOCK_AND_RECEIVE: RawStatement = {
  name: 'conversations.lock_and_receive',
  text: `with account as (
    select kind from channel_accounts where tenant_id = $1 and id = $2
  ), conversation as (
    select ${CONVERSATION_COLUMNS}, c.xmin as row_version
    from account a
    join contact_identities i on i.tenant_id = $1 and i.channel_kind = a.kind and i.external_id = $3
    join conversations c on c.tenant_id = $1 and c.channel_account_id = $2 and c.contact_id = i.contact_id
    for update of c
  ), inbound as (
    insert into conversation_messages (tenant_id, conversation_id, channel_account_id, direction, provider_message_id, body, status, created_at)
    select $1, id, $2, 'inbound', $4, $5::jsonb, 'received', $6::timestamptz from conversation
    on conflict (tenant_id, channel_account_id, direction, provider_message_id) do nothing
    returning id
  )
  select c.id, c."channelAccountId", c."contactId", c.state, c.mode, c.locale, c."expiresAt", c.version, c."ticketId", ${SUBJECTS_COLUMNS},
    (select id from inbound) as "inboundId",
    c.row_version = (select s.xmin from conversations s where s.tenant_id = $1 and s.id = c.id) as "unchanged"
  from conversation c
  join contacts ct on ct.tenant_id = $1 and ct.id = c."contactId"
  left join tenants t on t.id = $1`,
};

/**
 * Locks the conversation of `externalId` on the account and stores the inbound message, in one
 * statement. Undefined when the identity or its conversation does not exist yet; `inboundId`
 * undefined when the message was already stored (a duplicate).
 */
export async function lockConversationAndReceive(
  db: TurnDb,
  options: { tenantId: string; channelAccountId: string; externalId: string; providerMessageId: string; body: unknown; receivedAt: Date },
): Promise<(TurnSubjects & { inboundId?: string }) | undefined> {
  const [row] = await db.query<SubjectsRow & { inboundId: string | null; unchanged: boolean }>(LOCK_AND_RECEIVE, [
    options.tenantId,
    options.channelAccountId,
    options.externalId,
    options.providerMessageId,
    JSON.stringify(options.body),
    options.receivedAt.toISOString(),
  ]);
  if (!row) return undefined;
  const { inboundId, unchanged, ...subjects } = row;
  if (!unchanged) {
    const [fresh] = await db.query<Pick<SubjectsRow, 'contactLocale' | 'tenantName' | 'tenantDefaultLocale'>>(CONTACT_AND_TENANT, [options.tenantId, subjects.contactId]);
    Object.assign(subjects, fresh);
  }
  return { ...subjectsOf(subjects), inboundId: inboundId ?? undefined };
}

/** The contact's and the tenant's language, read again once the conversation's lock is held. */
const CONTACT_AND_TENANT: RawStatement = {
  name: 'conversations.contact_and_tenant',
  text: `select ${SUBJECTS_COLUMNS} from contacts ct left join tenants t on t.id = $1 where ct.tenant_id = $1 and ct.id = $2`,
};

/**
 * An event's turn: the conversation locked by id, with what the turn needs and whether the event
 * was applied. Those reads use the statement's snapshot, taken before any wait for the lock; if
 * the row changed meanwhile (its xmin differs from the snapshot's: another turn committed while
 * this one waited), `unchanged` is false and the caller reads them again after the lock.
 */
const LOCK_BY_ID: RawStatement = {
  name: 'conversations.lock_by_id',
  text: `with locked as (
    select ${CONVERSATION_COLUMNS}, c.xmin as row_version from conversations c where c.tenant_id = $1 and c.id = $2 for update
  )
  select l.id, l."channelAccountId", l."contactId", l.state, l.mode, l.locale, l."expiresAt", l.version, l."ticketId", ${SUBJECTS_COLUMNS},
    exists (select 1 from conversation_messages m where m.tenant_id = $1 and m.id = $3) as "applied",
    l.row_version = (select s.xmin from conversations s where s.tenant_id = $1 and s.id = $2) as "unchanged"
  from locked l
  join contacts ct on ct.tenant_id = $1 and ct.id = l."contactId"
  left join tenants t on t.id = $1`,
};

/** The same reads once the lock is held: a statement of its own, so its snapshot sees what the previous holder committed. */
const SUBJECTS_BY_ID: RawStatement = {
  name: 'conversations.subjects_by_id',
  text: `select ${CONVERSATION_COLUMNS}, ${SUBJECTS_COLUMNS},
    exists (select 1 from conversation_messages m where m.tenant_id = $1 and m.id = $3) as "applied"
  from conversations c
  join contacts ct on ct.tenant_id = $1 and ct.id = c.contact_id
  left join tenants t on t.id = $1
  where c.tenant_id = $1 and c.id = $2`,
};

/**
 * Locks a conversation by id and reads what a turn needs, plus whether the message `firstMessageId`
 * exists (an event already applied): one round trip unless another turn committed while this one
 * waited for the lock. Undefined when the conversation does not exist.
 */
export async function lockConversationById(
  db: TurnDb,
  options: { tenantId: string; conversationId: string; firstMessageId: string },
): Promise<(TurnSubjects & { applied: boolean }) | undefined> {
  const params = [options.tenantId, options.conversationId, options.firstMessageId];
  const [locked] = await db.query<SubjectsRow & { applied: boolean; unchanged: boolean }>(LOCK_BY_ID, params);
  if (!locked) return undefined;
  const { unchanged, ...row } = locked;
  const { applied, ...subjects } = unchanged ? row : (await db.query<SubjectsRow & { applied: boolean }>(SUBJECTS_BY_ID, params))[0]!;
  return { ...subjectsOf(subjects), applied };
}

/**
 * The catalogue a turn may offer, in one round trip: active packages a customer can buy now (with
 * a voucher in stock, or made on demand), cheapest first; support categories (those that sell a
 * package are bought through "buy WiFi"). Read only by turns that show or match one of them.
 */
const CATALOGUE: RawStatement = {
  name: 'conversations.catalogue',
  text: `select
    (select coalesce(json_agg(json_build_object('id', p.id, 'nameFr', p.name_fr, 'nameEn', p.name_en, 'priceXaf', p.price_xaf,
        'validityMinutes', p.validity_minutes) order by p.price_xaf, p.name_fr), '[]'::json)
      from wifi_packages p
      where p.tenant_id = $1 and p.active and p.price_xaf > 0
        and (p.generate_on_demand or exists (
          select 1 from wifi_vouchers v where v.tenant_id = p.tenant_id and v.package_id = p.id and v.status = 'available'))) as packages,
    (select coalesce(json_agg(json_build_object('id', c.id, 'nameFr', c.name_fr, 'nameEn', c.name_en, 'priceXaf', c.price_xaf)
        order by c.position, c.name_fr), '[]'::json)
      from categories c
      where c.tenant_id = $1 and c.active and c.wifi_package_id is null) as categories`,
};

interface CatalogueItem {
  id: string;
  nameFr: string;
  nameEn: string;
  priceXaf: number | null;
  validityMinutes?: number;
}

export async function offeredCatalogue(db: TurnDb, tenantId: string): Promise<{ packages: OfferedPackage[]; categories: OfferedCategory[] }> {
  const [row] = await db.query<{ packages: CatalogueItem[] | string; categories: CatalogueItem[] | string }>(CATALOGUE, [tenantId]);
  // json (not jsonb) columns: both drivers parse them, but stay safe if one hands back text.
  const parse = (value: CatalogueItem[] | string | undefined): CatalogueItem[] => (typeof value === 'string' ? (JSON.parse(value) as CatalogueItem[]) : (value ?? []));
  return {
    packages: parse(row?.packages).map((item) => ({
      id: item.id,
      name: { fr: item.nameFr, en: item.nameEn },
      priceXaf: Number(item.priceXaf),
      validityMinutes: Number(item.validityMinutes),
    })),
    categories: parse(row?.categories).map((item) => ({ id: item.id, name: { fr: item.nameFr, en: item.nameEn }, priceXaf: item.priceXaf })),
  };
}
