/**
 * Tenant-owned tables. Each one: `tenant_id` first in its primary key and in every foreign key,
 * the tenant_isolation policy, and row-level security enabled and forced (checked by
 * db/test/schema-rules.test.ts, so a new table cannot forget).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { tenants, LOCALES } from './central.js';
import { at, createdAt, id, tenantIsolation, updatedAt } from './columns.js';

const tenantId = () => uuid('tenant_id').notNull();

/** The columns and constraints every tenant table starts with. */
function tenantKeys(t: { tenantId: any; id: any }) {
  return [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id] }),
    tenantIsolation(),
  ];
}

export const CHANNEL_KINDS = ['whatsapp', 'whatsapp_cloud', 'telegram', 'sms', 'ussd', 'webchat'] as const;
export const TICKET_STATUSES = ['open', 'pending', 'resolved', 'closed'] as const;
export const TICKET_PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;

export const users = pgTable(
  'users',
  {
    tenantId: tenantId(),
    id: id(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: text('role', { enum: ['admin', 'agent'] }).notNull(),
    passwordHash: text('password_hash').notNull(),
    mustChangePassword: boolean('must_change_password').notNull().default(true),
    locale: text('locale', { enum: LOCALES }).notNull().default('fr'),
    availability: text('availability', { enum: ['available', 'away', 'offline'] }).notNull().default('offline'),
    maxOpenTickets: integer('max_open_tickets').notNull().default(20),
    /** Open or pending tickets assigned to this user; kept by a trigger on tickets (migration 0014). */
    openTickets: integer('open_tickets').notNull().default(0),
    /** Round-robin: among equally loaded agents, the one assigned longest ago goes first. */
    lastAssignedAt: at('last_assigned_at'),
    totpSecretEnc: text('totp_secret_enc'),
    lastLoginAt: at('last_login_at'),
    disabledAt: at('disabled_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [...tenantKeys(t), uniqueIndex('users_email_key').on(t.tenantId, sql`lower(${t.email})`)],
);

/** Named gap-free counters per tenant (ticket numbers, invoice numbers...). */
export const tenantCounters = pgTable(
  'tenant_counters',
  {
    tenantId: tenantId(),
    name: text('name').notNull(),
    value: bigint('value', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.name] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id] }),
    tenantIsolation(),
  ],
);

export const contacts = pgTable(
  'contacts',
  {
    tenantId: tenantId(),
    id: id(),
    name: text('name'),
    phoneE164: text('phone_e164'),
    email: text('email'),
    locale: text('locale', { enum: LOCALES }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [...tenantKeys(t), uniqueIndex('contacts_phone_key').on(t.tenantId, t.phoneE164)],
);

export const channelAccounts = pgTable(
  'channel_accounts',
  {
    tenantId: tenantId(),
    id: id(),
    kind: text('kind', { enum: CHANNEL_KINDS }).notNull(),
    name: text('name').notNull(),
    /** Provider-side identity: phone number, bot username, short code. */
    externalId: text('external_id'),
    /** Non-secret settings. */
    settings: jsonb('settings').notNull().default({}),
    /** Tokens and keys, AES-256-GCM under APP_KEY with the tenant id as associated data. */
    secretsEnc: text('secrets_enc'),
    status: text('status', { enum: ['active', 'paused', 'error'] }).notNull().default('active'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [...tenantKeys(t)],
);

/** How a contact is known on one channel (WhatsApp JID, Telegram chat id, phone number...). */
export const contactIdentities = pgTable(
  'contact_identities',
  {
    tenantId: tenantId(),
    id: id(),
    contactId: uuid('contact_id').notNull(),
    channelKind: text('channel_kind', { enum: CHANNEL_KINDS }).notNull(),
    externalId: text('external_id').notNull(),
    displayName: text('display_name'),
    createdAt: createdAt(),
  },
  (t) => [
    ...tenantKeys(t),
    foreignKey({ columns: [t.tenantId, t.contactId], foreignColumns: [contacts.tenantId, contacts.id] }),
    uniqueIndex('contact_identities_external_key').on(t.tenantId, t.channelKind, t.externalId),
  ],
);

export const mikrotikRouters = pgTable(
  'mikrotik_routers',
  {
    tenantId: tenantId(),
    id: id(),
    name: text('name').notNull(),
    host: text('host').notNull(),
    port: integer('port').notNull().default(8728),
    useTls: boolean('use_tls').notNull().default(false),
    username: text('username').notNull(),
    passwordEnc: text('password_enc').notNull(),
    dnsName: text('dns_name'),
    hotspotServer: text('hotspot_server'),
    status: text('status', { enum: ['unknown', 'online', 'unreachable', 'auth_failed'] }).notNull().default('unknown'),
    routerOsVersion: text('router_os_version'),
    lastSyncAt: at('last_sync_at'),
    lastError: text('last_error'),
    /** Circuit breaker: failed syncs in a row, and when the next attempt is allowed. */
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    nextSyncAt: at('next_sync_at'),
    /** At most one sync per router: a sync holds this lease until it finishes or the lease lapses. */
    syncLeaseUntil: at('sync_lease_until'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [...tenantKeys(t)],
);

export const wifiPackages = pgTable(
  'wifi_packages',
  {
    tenantId: tenantId(),
    id: id(),
    nameFr: text('name_fr').notNull(),
    nameEn: text('name_en').notNull(),
    priceXaf: integer('price_xaf').notNull(),
    validityMinutes: integer('validity_minutes').notNull(),
    timeLimitSeconds: integer('time_limit_seconds'),
    dataLimitBytes: bigint('data_limit_bytes', { mode: 'number' }),
    mikrotikProfile: text('mikrotik_profile').notNull().default('default'),
    rateLimit: text('rate_limit'),
    lowStockThreshold: integer('low_stock_threshold').notNull().default(10),
    generateOnDemand: boolean('generate_on_demand').notNull().default(false),
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [...tenantKeys(t), check('wifi_packages_price_non_negative', sql`${t.priceXaf} >= 0`)],
);

/** The routers a package is sold on. */
export const wifiPackageRouters = pgTable(
  'wifi_package_routers',
  {
    tenantId: tenantId(),
    packageId: uuid('package_id').notNull(),
    routerId: uuid('router_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.packageId, t.routerId] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id] }),
    foreignKey({ columns: [t.tenantId, t.packageId], foreignColumns: [wifiPackages.tenantId, wifiPackages.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.routerId], foreignColumns: [mikrotikRouters.tenantId, mikrotikRouters.id] }).onDelete('cascade'),
    tenantIsolation(),
  ],
);

export const categories = pgTable(
  'categories',
  {
    tenantId: tenantId(),
    id: id(),
    nameFr: text('name_fr').notNull(),
    nameEn: text('name_en').notNull(),
    /** null = free support */
    priceXaf: integer('price_xaf'),
    /** When set, paying a ticket of this category buys this WiFi package. */
    wifiPackageId: uuid('wifi_package_id'),
    defaultPriority: text('default_priority', { enum: TICKET_PRIORITIES }).notNull().default('medium'),
    /** null = the tenant's default SLA policy. */
    slaPolicyId: uuid('sla_policy_id'),
    position: integer('position').notNull().default(0),
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
  },
  (t) => [
    ...tenantKeys(t),
    foreignKey({ columns: [t.tenantId, t.wifiPackageId], foreignColumns: [wifiPackages.tenantId, wifiPackages.id] }),
    foreignKey({ columns: [t.tenantId, t.slaPolicyId], foreignColumns: [slaPolicies.tenantId, slaPolicies.id] }),
  ],
);

export const conversations = pgTable(
  'conversations',
  {
    tenantId: tenantId(),
    id: id(),
    channelAccountId: uuid('channel_account_id').notNull(),
    contactId: uuid('contact_id').notNull(),
    /** Engine state (flow, step, collected values). */
    state: jsonb('state').notNull().default({}),
    mode: text('mode', { enum: ['bot', 'agent', 'closed'] }).notNull().default('bot'),
    /** The ticket an agent handles this conversation under (customer messages go to it while mode = agent). */
    ticketId: uuid('ticket_id'),
    locale: text('locale', { enum: LOCALES }),
    lastInboundAt: at('last_inbound_at'),
    expiresAt: at('expires_at'),
    version: integer('version').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    ...tenantKeys(t),
    foreignKey({ columns: [t.tenantId, t.channelAccountId], foreignColumns: [channelAccounts.tenantId, channelAccounts.id] }),
    foreignKey({ columns: [t.tenantId, t.contactId], foreignColumns: [contacts.tenantId, contacts.id] }),
    uniqueIndex('conversations_contact_key').on(t.tenantId, t.channelAccountId, t.contactId),
  ],
);

/**
 * A WhatsApp (Baileys) number's authentication state: the creds and the signal keys, each value
 * sealed with APP_KEY (tenant id as associated data). One row per (account, category, key id).
 */
export const whatsappAuthState = pgTable(
  'whatsapp_auth_state',
  {
    tenantId: tenantId(),
    id: id(),
    channelAccountId: uuid('channel_account_id').notNull(),
    /** 'creds', or a signal key type: pre-key, session, sender-key, app-state-sync-key, lid-mapping... */
    category: text('category').notNull(),
    keyId: text('key_id').notNull(),
    valueEnc: text('value_enc').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [
    ...tenantKeys(t),
    uniqueIndex('whatsapp_auth_state_key').on(t.tenantId, t.channelAccountId, t.category, t.keyId),
    foreignKey({ columns: [t.tenantId, t.channelAccountId], foreignColumns: [channelAccounts.tenantId, channelAccounts.id] }).onDelete('cascade'),
  ],
);

export const CONVERSATION_MESSAGE_STATUSES = ['received', 'pending', 'sending', 'sent', 'delivered', 'read', 'failed', 'dead'] as const;

/**
 * Every message of a conversation, both ways. Inbound rows are deduplicated by the provider's
 * message id; outbound rows are the delivery queue (status, attempts, next attempt) and what the
 * web chat polls (`seq` is the cursor).
 */
export const conversationMessages = pgTable(
  'conversation_messages',
  {
    tenantId: tenantId(),
    id: id(),
    /** Ordering and polling cursor, increasing across the table. */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    conversationId: uuid('conversation_id').notNull(),
    channelAccountId: uuid('channel_account_id').notNull(),
    direction: text('direction', { enum: ['inbound', 'outbound'] }).notNull(),
    /** Provider's id: inbound dedupe key; for outbound, the id the provider gave on sending. */
    providerMessageId: text('provider_message_id'),
    /** What was said, channel-neutral: text, choices, image reference, caption. */
    body: jsonb('body').notNull(),
    status: text('status', { enum: CONVERSATION_MESSAGE_STATUSES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: at('next_attempt_at'),
    lastError: text('last_error'),
    sentAt: at('sent_at'),
    deliveredAt: at('delivered_at'),
    createdAt: createdAt(),
  },
  (t) => [
    ...tenantKeys(t),
    index('conversation_messages_conversation_idx').on(t.tenantId, t.conversationId, t.seq),
    uniqueIndex('conversation_messages_provider_key').on(t.tenantId, t.channelAccountId, t.direction, t.providerMessageId),
    index('conversation_messages_delivery_idx').on(t.tenantId, t.status, t.nextAttemptAt),
    foreignKey({ columns: [t.tenantId, t.conversationId], foreignColumns: [conversations.tenantId, conversations.id] }),
    foreignKey({ columns: [t.tenantId, t.channelAccountId], foreignColumns: [channelAccounts.tenantId, channelAccounts.id] }),
  ],
);

export const tickets = pgTable(
  'tickets',
  {
    tenantId: tenantId(),
    id: id(),
    /** Per-tenant sequential number shown to people (#1042). */
    number: integer('number').notNull(),
    contactId: uuid('contact_id').notNull(),
    categoryId: uuid('category_id'),
    conversationId: uuid('conversation_id'),
    assigneeId: uuid('assignee_id'),
    teamId: uuid('team_id'),
    subject: text('subject').notNull(),
    status: text('status', { enum: TICKET_STATUSES }).notNull().default('open'),
    priority: text('priority', { enum: TICKET_PRIORITIES }).notNull().default('medium'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    /** SLA: due times and the 80 % warning times, in tenant business hours (null = no target). */
    firstResponseDueAt: at('first_response_due_at'),
    firstResponseWarnAt: at('first_response_warn_at'),
    resolutionDueAt: at('resolution_due_at'),
    resolutionWarnAt: at('resolution_warn_at'),
    /** Set while the ticket is pending: the SLA clocks stop, and restart shifted when it leaves pending. */
    slaPausedAt: at('sla_paused_at'),
    /** Business minutes spent pending so far: due times are the targets pushed back by this much. */
    slaPausedMinutes: integer('sla_paused_minutes').notNull().default(0),
    /** When the SLA warning / breach events were recorded (each at most once per due time). */
    firstResponseWarnedAt: at('first_response_warned_at'),
    firstResponseBreachedAt: at('first_response_breached_at'),
    resolutionWarnedAt: at('resolution_warned_at'),
    resolutionBreachedAt: at('resolution_breached_at'),
    firstRespondedAt: at('first_responded_at'),
    resolvedAt: at('resolved_at'),
    closedAt: at('closed_at'),
    reopenedAt: at('reopened_at'),
    lastMessageAt: at('last_message_at'),
    mergedIntoId: uuid('merged_into_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    ...tenantKeys(t),
    uniqueIndex('tickets_number_key').on(t.tenantId, t.number),
    index('tickets_queue_idx').on(t.tenantId, t.status, t.priority, t.createdAt),
    index('tickets_assignee_idx').on(t.tenantId, t.assigneeId, t.status),
    // Metrics read these by index only (drizzle has no INCLUDE: the extra columns are trailing keys).
    index('tickets_created_idx').on(t.tenantId, t.createdAt, t.assigneeId, t.mergedIntoId, t.firstRespondedAt, t.firstResponseDueAt, t.resolvedAt, t.slaPausedAt),
    index('tickets_resolved_idx')
      .on(t.tenantId, t.resolvedAt, t.createdAt, t.assigneeId, t.mergedIntoId, t.resolutionDueAt)
      .where(sql`${t.resolvedAt} is not null`),
    index('tickets_contact_idx').on(t.tenantId, t.contactId, t.createdAt),
    index('tickets_conversation_idx').on(t.tenantId, t.conversationId),
    foreignKey({ columns: [t.tenantId, t.teamId], foreignColumns: [teams.tenantId, teams.id] }),
    foreignKey({ columns: [t.tenantId, t.contactId], foreignColumns: [contacts.tenantId, contacts.id] }),
    foreignKey({ columns: [t.tenantId, t.categoryId], foreignColumns: [categories.tenantId, categories.id] }),
    foreignKey({ columns: [t.tenantId, t.conversationId], foreignColumns: [conversations.tenantId, conversations.id] }),
    foreignKey({ columns: [t.tenantId, t.assigneeId], foreignColumns: [users.tenantId, users.id] }),
    foreignKey({ columns: [t.tenantId, t.mergedIntoId], foreignColumns: [t.tenantId, t.id] }),
  ],
);

export const ticketMessages = pgTable(
  'ticket_messages',
  {
    tenantId: tenantId(),
    id: id(),
    ticketId: uuid('ticket_id').notNull(),
    authorKind: text('author_kind', { enum: ['customer', 'agent', 'bot', 'system'] }).notNull(),
    authorUserId: uuid('author_user_id'),
    body: text('body').notNull(),
    isPrivate: boolean('is_private').notNull().default(false),
    /** Users mentioned in a private note (they are notified). */
    mentionedUserIds: uuid('mentioned_user_ids').array().notNull().default(sql`'{}'::uuid[]`),
    providerMessageId: text('provider_message_id'),
    createdAt: createdAt(),
  },
  (t) => [
    ...tenantKeys(t),
    index('ticket_messages_ticket_idx').on(t.tenantId, t.ticketId, t.createdAt),
    foreignKey({ columns: [t.tenantId, t.ticketId], foreignColumns: [tickets.tenantId, tickets.id] }),
    foreignKey({ columns: [t.tenantId, t.authorUserId], foreignColumns: [users.tenantId, users.id] }),
  ],
);

export const attachments = pgTable(
  'attachments',
  {
    tenantId: tenantId(),
    id: id(),
    ticketId: uuid('ticket_id').notNull(),
    messageId: uuid('message_id'),
    sha256: text('sha256').notNull(),
    contentType: text('content_type').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    fileName: text('file_name').notNull(),
    storageKey: text('storage_key').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    ...tenantKeys(t),
    index('attachments_ticket_idx').on(t.tenantId, t.ticketId),
    foreignKey({ columns: [t.tenantId, t.ticketId], foreignColumns: [tickets.tenantId, tickets.id] }),
    foreignKey({ columns: [t.tenantId, t.messageId], foreignColumns: [ticketMessages.tenantId, ticketMessages.id] }),
  ],
);

export const PAYMENT_ATTEMPT_STATUSES = ['pending', 'successful', 'failed', 'expired'] as const;

export const paymentAttempts = pgTable(
  'payment_attempts',
  {
    tenantId: tenantId(),
    id: id(),
    ticketId: uuid('ticket_id').notNull(),
    attemptNumber: integer('attempt_number').notNull().default(1),
    amountXaf: integer('amount_xaf').notNull(),
    currency: text('currency').notNull().default('XAF'),
    /** Payer's number, E.164 (+2376XXXXXXXX); the gateway adapter converts it. */
    payerMsisdn: text('payer_msisdn').notNull(),
    operator: text('operator'),
    ussdCode: text('ussd_code'),
    externalReference: text('external_reference').notNull(),
    gatewayReference: text('gateway_reference'),
    status: text('status', { enum: PAYMENT_ATTEMPT_STATUSES }).notNull().default('pending'),
    failureReason: text('failure_reason'),
    expiresAt: at('expires_at').notNull(),
    completedAt: at('completed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    ...tenantKeys(t),
    uniqueIndex('payment_attempts_external_reference_key').on(t.tenantId, t.externalReference),
    uniqueIndex('payment_attempts_ticket_attempt_key').on(t.tenantId, t.ticketId, t.attemptNumber),
    // Pending attempts only. With every status in it, the planner once scanned all of a tenant's
    // successful attempts through it to ask whether one ticket was paid (the ticket key answers that).
    index('payment_attempts_pending_idx').on(t.tenantId, t.expiresAt).where(sql`${t.status} = 'pending'`),
    foreignKey({ columns: [t.tenantId, t.ticketId], foreignColumns: [tickets.tenantId, tickets.id] }),
    check('payment_attempts_amount_positive', sql`${t.amountXaf} > 0`),
    // A customer may try to pay one ticket at most three times.
    check('payment_attempts_at_most_three', sql`${t.attemptNumber} between 1 and 3`),
  ],
);

export const wifiImportLogs = pgTable(
  'wifi_import_logs',
  {
    tenantId: tenantId(),
    id: id(),
    packageId: uuid('package_id').notNull(),
    fileName: text('file_name').notNull(),
    fileSha256: text('file_sha256').notNull(),
    format: text('format').notNull(),
    mode: text('mode', { enum: ['all_or_nothing', 'valid_rows_only'] }).notNull(),
    dryRun: boolean('dry_run').notNull().default(false),
    status: text('status', { enum: ['running', 'completed', 'rejected', 'failed'] }).notNull(),
    importedCount: integer('imported_count').notNull().default(0),
    duplicateCount: integer('duplicate_count').notNull().default(0),
    alreadyUsedCount: integer('already_used_count').notNull().default(0),
    rejectedCount: integer('rejected_count').notNull().default(0),
    report: jsonb('report'),
    createdByUserId: uuid('created_by_user_id'),
    createdAt: createdAt(),
    finishedAt: at('finished_at'),
  },
  (t) => [
    ...tenantKeys(t),
    foreignKey({ columns: [t.tenantId, t.packageId], foreignColumns: [wifiPackages.tenantId, wifiPackages.id] }),
    foreignKey({ columns: [t.tenantId, t.createdByUserId], foreignColumns: [users.tenantId, users.id] }),
  ],
);

export const VOUCHER_STATUSES = ['available', 'sold', 'active', 'expired', 'disabled'] as const;

export const wifiVouchers = pgTable(
  'wifi_vouchers',
  {
    tenantId: tenantId(),
    id: id(),
    packageId: uuid('package_id').notNull(),
    routerId: uuid('router_id'),
    username: text('username').notNull(),
    password: text('password').notNull(),
    status: text('status', { enum: VOUCHER_STATUSES }).notNull().default('available'),
    source: text('source', { enum: ['import', 'generated', 'on_demand'] }).notNull(),
    importLogId: uuid('import_log_id'),
    /** The paid ticket this voucher was handed to (at most one voucher per ticket). */
    ticketId: uuid('ticket_id'),
    comment: text('comment'),
    /** Limits carried by the voucher itself (an imported row may differ from its package); null = the package's. */
    profile: text('profile'),
    timeLimitSeconds: integer('time_limit_seconds'),
    dataLimitBytes: bigint('data_limit_bytes', { mode: 'number' }),
    /** RouterOS `.id` of the hotspot user once it exists on the router. */
    routerUserId: text('router_user_id'),
    pushedToRouterAt: at('pushed_to_router_at'),
    soldAt: at('sold_at'),
    activatedAt: at('activated_at'),
    expiresAt: at('expires_at'),
    createdAt: createdAt(),
  },
  (t) => [
    ...tenantKeys(t),
    uniqueIndex('wifi_vouchers_username_key').on(t.tenantId, t.username),
    uniqueIndex('wifi_vouchers_ticket_key').on(t.tenantId, t.ticketId),
    index('wifi_vouchers_stock_idx').on(t.tenantId, t.packageId, t.status),
    // Claims take the oldest available voucher of a package: read in order, no sort of the stock.
    index('wifi_vouchers_claim_order_idx').on(t.tenantId, t.packageId, t.createdAt, t.id).where(sql`${t.status} = 'available'`),
    // The sync enforces our own expiry: active vouchers past expires_at.
    index('wifi_vouchers_expiry_idx').on(t.tenantId, t.status, t.expiresAt),
    foreignKey({ columns: [t.tenantId, t.packageId], foreignColumns: [wifiPackages.tenantId, wifiPackages.id] }),
    foreignKey({ columns: [t.tenantId, t.routerId], foreignColumns: [mikrotikRouters.tenantId, mikrotikRouters.id] }),
    foreignKey({ columns: [t.tenantId, t.importLogId], foreignColumns: [wifiImportLogs.tenantId, wifiImportLogs.id] }),
    foreignKey({ columns: [t.tenantId, t.ticketId], foreignColumns: [tickets.tenantId, tickets.id] }),
  ],
);

export const wifiSessions = pgTable(
  'wifi_sessions',
  {
    tenantId: tenantId(),
    id: id(),
    routerId: uuid('router_id').notNull(),
    /** RouterOS `.id` of the active entry this session was while it ran. */
    routerEntryId: text('router_entry_id'),
    voucherId: uuid('voucher_id'),
    username: text('username').notNull(),
    macAddress: text('mac_address'),
    ipAddress: text('ip_address'),
    startedAt: at('started_at').notNull(),
    endedAt: at('ended_at'),
    uptimeSeconds: integer('uptime_seconds').notNull().default(0),
    bytesIn: bigint('bytes_in', { mode: 'number' }).notNull().default(0),
    bytesOut: bigint('bytes_out', { mode: 'number' }).notNull().default(0),
    endReason: text('end_reason', { enum: ['logout', 'expired', 'kicked', 'disappeared'] }),
  },
  (t) => [
    ...tenantKeys(t),
    index('wifi_sessions_voucher_idx').on(t.tenantId, t.voucherId),
    foreignKey({ columns: [t.tenantId, t.routerId], foreignColumns: [mikrotikRouters.tenantId, mikrotikRouters.id] }),
    foreignKey({ columns: [t.tenantId, t.voucherId], foreignColumns: [wifiVouchers.tenantId, wifiVouchers.id] }),
  ],
);

export const mikrotikActiveSessions = pgTable(
  'mikrotik_active_sessions',
  {
    tenantId: tenantId(),
    id: id(),
    routerId: uuid('router_id').notNull(),
    /** RouterOS `.id` of the active entry (e.g. *1A). */
    routerEntryId: text('router_entry_id').notNull(),
    username: text('username').notNull(),
    address: text('address'),
    macAddress: text('mac_address'),
    uptimeSeconds: integer('uptime_seconds').notNull().default(0),
    sessionTimeLeftSeconds: integer('session_time_left_seconds'),
    bytesIn: bigint('bytes_in', { mode: 'number' }).notNull().default(0),
    bytesOut: bigint('bytes_out', { mode: 'number' }).notNull().default(0),
    firstSeenAt: at('first_seen_at').notNull(),
    lastSeenAt: at('last_seen_at').notNull(),
  },
  (t) => [
    ...tenantKeys(t),
    uniqueIndex('mikrotik_active_sessions_entry_key').on(t.tenantId, t.routerId, t.routerEntryId),
    foreignKey({ columns: [t.tenantId, t.routerId], foreignColumns: [mikrotikRouters.tenantId, mikrotikRouters.id] }),
  ],
);

export const mikrotikSyncLogs = pgTable(
  'mikrotik_sync_logs',
  {
    tenantId: tenantId(),
    id: id(),
    routerId: uuid('router_id').notNull(),
    status: text('status', { enum: ['running', 'succeeded', 'failed', 'skipped'] }).notNull(),
    sessionsSeen: integer('sessions_seen').notNull().default(0),
    sessionsClosed: integer('sessions_closed').notNull().default(0),
    vouchersActivated: integer('vouchers_activated').notNull().default(0),
    vouchersExpired: integer('vouchers_expired').notNull().default(0),
    error: text('error'),
    startedAt: at('started_at').notNull(),
    finishedAt: at('finished_at'),
  },
  (t) => [
    ...tenantKeys(t),
    index('mikrotik_sync_logs_router_idx').on(t.tenantId, t.routerId, t.startedAt),
    foreignKey({ columns: [t.tenantId, t.routerId], foreignColumns: [mikrotikRouters.tenantId, mikrotikRouters.id] }),
  ],
);

export const automations = pgTable(
  'automations',
  {
    tenantId: tenantId(),
    id: id(),
    name: text('name').notNull(),
    event: text('event').notNull(),
    match: text('match', { enum: ['all', 'any'] }).notNull().default('all'),
    conditions: jsonb('conditions').notNull().default([]),
    actions: jsonb('actions').notNull().default([]),
    /** HMAC key for its webhook actions, sealed under APP_KEY (tenant id as associated data). */
    webhookSecretEnc: text('webhook_secret_enc'),
    position: integer('position').notNull().default(0),
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [...tenantKeys(t)],
);

export const cannedResponses = pgTable(
  'canned_responses',
  {
    tenantId: tenantId(),
    id: id(),
    shortcut: text('shortcut').notNull(),
    title: text('title').notNull(),
    bodyFr: text('body_fr').notNull(),
    bodyEn: text('body_en').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [...tenantKeys(t), uniqueIndex('canned_responses_shortcut_key').on(t.tenantId, t.shortcut)],
);

export const notifications = pgTable(
  'notifications',
  {
    tenantId: tenantId(),
    id: id(),
    userId: uuid('user_id').notNull(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').notNull().default({}),
    readAt: at('read_at'),
    /** Set when the email copy was handed to the SMTP server. */
    emailedAt: at('emailed_at'),
    createdAt: createdAt(),
  },
  (t) => [
    ...tenantKeys(t),
    index('notifications_unread_idx').on(t.tenantId, t.userId, t.readAt),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }),
  ],
);

/** Webhooks and inbound messages, stored before they are acknowledged; deduplicated by provider id. */
export const inboxEvents = pgTable(
  'inbox_events',
  {
    tenantId: tenantId(),
    id: id(),
    source: text('source').notNull(),
    providerEventId: text('provider_event_id').notNull(),
    payload: jsonb('payload').notNull(),
    receivedAt: createdAt(),
    processedAt: at('processed_at'),
  },
  (t) => [...tenantKeys(t), uniqueIndex('inbox_events_provider_key').on(t.tenantId, t.source, t.providerEventId)],
);

/** Side effects leave through here, written in the same transaction as the change that caused them. */
export const outbox = pgTable(
  'outbox',
  {
    tenantId: tenantId(),
    id: id(),
    topic: text('topic').notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    payload: jsonb('payload').notNull(),
    status: text('status', { enum: ['pending', 'sent', 'failed', 'dead'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    availableAt: at('available_at').notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: createdAt(),
    sentAt: at('sent_at'),
  },
  (t) => [
    ...tenantKeys(t),
    uniqueIndex('outbox_dedupe_key').on(t.tenantId, t.dedupeKey),
    index('outbox_pending_idx').on(t.tenantId, t.status, t.availableAt),
  ],
);

/** Who did what; append-only for the runtime role. */
export const auditLog = pgTable(
  'audit_log',
  {
    tenantId: tenantId(),
    id: id(),
    actorKind: text('actor_kind', { enum: ['user', 'platform_admin', 'system', 'customer'] }).notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    data: jsonb('data'),
    createdAt: createdAt(),
  },
  (t) => [...tenantKeys(t), index('audit_log_created_idx').on(t.tenantId, t.createdAt)],
);

/**
 * The helpdesk's settings, one row per tenant (absent = defaults): business hours for SLA clocks
 * (weekly ranges per day, holidays; the timezone is the tenant's), the reopen window, assignment.
 */
export const helpdeskSettings = pgTable(
  'helpdesk_settings',
  {
    tenantId: tenantId(),
    /** { mon: [["08:00","12:00"],["13:00","18:00"]], ..., sun: [] } */
    weeklyHours: jsonb('weekly_hours').notNull(),
    /** ["2026-12-25", ...]: whole days without business hours. */
    holidays: jsonb('holidays').notNull().default([]),
    /** A customer reply within this many hours of resolution reopens the ticket; later, a new ticket. */
    reopenWindowHours: integer('reopen_window_hours').notNull().default(72),
    autoAssign: boolean('auto_assign').notNull().default(true),
    csatEnabled: boolean('csat_enabled').notNull().default(true),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId] }), foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id] }), tenantIsolation()],
);

/** First-response and resolution targets per priority, in business minutes. */
export const slaPolicies = pgTable(
  'sla_policies',
  {
    tenantId: tenantId(),
    id: id(),
    name: text('name').notNull(),
    /** { low: { firstResponseMinutes, resolutionMinutes }, medium: ..., high: ..., urgent: ... } */
    targets: jsonb('targets').notNull(),
    isDefault: boolean('is_default').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [...tenantKeys(t), uniqueIndex('sla_policies_one_default').on(t.tenantId).where(sql`${t.isDefault}`)],
);

export const teams = pgTable(
  'teams',
  {
    tenantId: tenantId(),
    id: id(),
    name: text('name').notNull(),
    createdAt: createdAt(),
  },
  (t) => [...tenantKeys(t), uniqueIndex('teams_name_key').on(t.tenantId, sql`lower(${t.name})`)],
);

export const teamMembers = pgTable(
  'team_members',
  {
    tenantId: tenantId(),
    teamId: uuid('team_id').notNull(),
    userId: uuid('user_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.teamId, t.userId] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id] }),
    foreignKey({ columns: [t.tenantId, t.teamId], foreignColumns: [teams.tenantId, teams.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete('cascade'),
    tenantIsolation(),
  ],
);

/** What happened to a ticket (created, assigned, status, SLA warning/breach...): the activity log automations react to. */
export const ticketEvents = pgTable(
  'ticket_events',
  {
    tenantId: tenantId(),
    id: id(),
    ticketId: uuid('ticket_id').notNull(),
    kind: text('kind').notNull(),
    actorKind: text('actor_kind', { enum: ['user', 'customer', 'system', 'automation'] }).notNull(),
    actorId: text('actor_id'),
    data: jsonb('data').notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    ...tenantKeys(t),
    index('ticket_events_ticket_idx').on(t.tenantId, t.ticketId, t.createdAt),
    index('ticket_events_kind_idx').on(t.tenantId, t.kind, t.createdAt),
    foreignKey({ columns: [t.tenantId, t.ticketId], foreignColumns: [tickets.tenantId, tickets.id] }),
  ],
);

export const csatResponses = pgTable(
  'csat_responses',
  {
    tenantId: tenantId(),
    id: id(),
    ticketId: uuid('ticket_id').notNull(),
    contactId: uuid('contact_id').notNull(),
    /** The ticket's assignee when it was resolved. */
    agentId: uuid('agent_id'),
    rating: integer('rating').notNull(),
    comment: text('comment'),
    createdAt: createdAt(),
  },
  (t) => [
    ...tenantKeys(t),
    uniqueIndex('csat_responses_ticket_key').on(t.tenantId, t.ticketId),
    index('csat_responses_agent_idx').on(t.tenantId, t.agentId, t.createdAt),
    index('csat_responses_created_idx').on(t.tenantId, t.createdAt, t.agentId, t.rating),
    foreignKey({ columns: [t.tenantId, t.ticketId], foreignColumns: [tickets.tenantId, tickets.id] }),
    foreignKey({ columns: [t.tenantId, t.contactId], foreignColumns: [contacts.tenantId, contacts.id] }),
    foreignKey({ columns: [t.tenantId, t.agentId], foreignColumns: [users.tenantId, users.id] }),
    check('csat_responses_rating_range', sql`${t.rating} between 1 and 5`),
  ],
);

/** One evaluation of one automation against one ticket event (idempotent per event). */
export const automationRuns = pgTable(
  'automation_runs',
  {
    tenantId: tenantId(),
    id: id(),
    automationId: uuid('automation_id').notNull(),
    ticketEventId: uuid('ticket_event_id').notNull(),
    ticketId: uuid('ticket_id').notNull(),
    status: text('status', { enum: ['applied', 'not_matched', 'skipped_loop', 'failed'] }).notNull(),
    /** What each action did. */
    results: jsonb('results').notNull().default([]),
    error: text('error'),
    createdAt: createdAt(),
  },
  (t) => [
    ...tenantKeys(t),
    uniqueIndex('automation_runs_event_key').on(t.tenantId, t.automationId, t.ticketEventId),
    index('automation_runs_automation_idx').on(t.tenantId, t.automationId, t.createdAt),
    foreignKey({ columns: [t.tenantId, t.automationId], foreignColumns: [automations.tenantId, automations.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.ticketEventId], foreignColumns: [ticketEvents.tenantId, ticketEvents.id] }),
  ],
);

/** Per user and notification kind: in-app and email on or off (absent = both on). */
export const notificationPreferences = pgTable(
  'notification_preferences',
  {
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    kind: text('kind').notNull(),
    inApp: boolean('in_app').notNull().default(true),
    email: boolean('email').notNull().default(true),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.userId, t.kind] }),
    foreignKey({ columns: [t.tenantId], foreignColumns: [tenants.id] }),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete('cascade'),
    tenantIsolation(),
  ],
);
