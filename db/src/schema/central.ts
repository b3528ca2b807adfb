/**
 * Central (platform) tables: reached through the platform context (withPlatform), never from a
 * tenant context. Row-level security, forced like on tenant tables, opens them only when the
 * transaction is in the platform context, plus a few read-only views of a tenant's own rows.
 * A tenant_id here is a reference, not ownership.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { at, createdAt, id, platformOnly, readableByAll, tenantReadsOwnRows, updatedAt } from './columns.js';

export const BILLING_MODES = ['subscription', 'commission'] as const;
export const TENANT_STATUSES = ['active', 'grace', 'suspended', 'closed'] as const;
export const LOCALES = ['fr', 'en'] as const;

export const plans = pgTable(
  'plans',
  {
    id: text('id').primaryKey(),
    nameFr: text('name_fr').notNull(),
    nameEn: text('name_en').notNull(),
    monthlyFeeXaf: integer('monthly_fee_xaf').notNull(),
    /** null = unlimited */
    ticketsPerMonth: integer('tickets_per_month'),
    /** null = unlimited */
    maxAgents: integer('max_agents'),
    apiAccess: boolean('api_access').notNull().default(false),
    whiteLabel: boolean('white_label').notNull().default(false),
    /** Platform share of each customer payment, in basis points (1000 = 10%). */
    commissionRateBps: integer('commission_rate_bps').notNull().default(0),
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
  },
  (t) => [
    platformOnly(),
    readableByAll(),
    check('plans_fee_non_negative', sql`${t.monthlyFeeXaf} >= 0`),
    check('plans_commission_range', sql`${t.commissionRateBps} between 0 and 10000`),
  ],
);

export const tenants = pgTable(
  'tenants',
  {
    id: id().primaryKey(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    email: text('email').notNull(),
    billingMode: text('billing_mode', { enum: BILLING_MODES }).notNull(),
    planId: text('plan_id').references(() => plans.id),
    commissionRateBps: integer('commission_rate_bps').notNull().default(1000),
    status: text('status', { enum: TENANT_STATUSES }).notNull().default('active'),
    defaultLocale: text('default_locale', { enum: LOCALES }).notNull().default('fr'),
    timezone: text('timezone').notNull().default('Africa/Douala'),
    /** The reseller's own Mobile Money number (E.164), pushed for subscription renewals. */
    billingPhone: text('billing_phone'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    platformOnly(),
    tenantReadsOwnRows('id'),
    uniqueIndex('tenants_slug_key').on(t.slug),
    uniqueIndex('tenants_email_key').on(sql`lower(${t.email})`),
    check('tenants_slug_format', sql`${t.slug} ~ '^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$'`),
    check('tenants_commission_range', sql`${t.commissionRateBps} between 0 and 10000`),
  ],
);

export const platformAdmins = pgTable(
  'platform_admins',
  {
    id: id().primaryKey(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    passwordHash: text('password_hash').notNull(),
    totpSecretEnc: text('totp_secret_enc'),
    createdAt: createdAt(),
  },
  (t) => [
    platformOnly(),
    uniqueIndex('platform_admins_email_key').on(sql`lower(${t.email})`),
  ],
);

export const subscriptions = pgTable(
  'subscriptions',
  {
    id: id().primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    planId: text('plan_id').notNull().references(() => plans.id),
    status: text('status', { enum: ['active', 'past_due', 'grace', 'suspended', 'canceled'] })
      .notNull()
      .default('active'),
    currentPeriodStart: at('current_period_start').notNull(),
    currentPeriodEnd: at('current_period_end').notNull(),
    graceUntil: at('grace_until'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    platformOnly(),
    tenantReadsOwnRows('tenant_id'),index('subscriptions_tenant_idx').on(t.tenantId)],
);

/**
 * A gateway's credentials: the platform's CamPay app (id 'platform', from the environment) or a
 * reseller's own app, stored here sealed under APP_KEY with the tenant id as associated data.
 */
export const gatewayApps = pgTable('gateway_apps', {
  id: text('id').primaryKey(),
  tenantId: uuid('tenant_id').references(() => tenants.id),
  provider: text('provider', { enum: ['campay'] }).notNull().default('campay'),
  baseUrl: text('base_url').notNull(),
  credentialsEnc: text('credentials_enc').notNull(),
  webhookKeyEnc: text('webhook_key_enc').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, () => [platformOnly()]);

export const PAYMENT_STATUSES = ['pending', 'successful', 'failed', 'expired'] as const;

/**
 * Every gateway transaction (collection or payout), and the index from our external reference
 * and the gateway's reference to the tenant that owns it: webhooks arrive without a tenant.
 */
export const payments = pgTable(
  'payments',
  {
    id: id().primaryKey(),
    tenantId: uuid('tenant_id').references(() => tenants.id),
    kind: text('kind', { enum: ['customer_payment', 'subscription', 'payout', 'refund'] }).notNull(),
    gateway: text('gateway').notNull().default('campay'),
    gatewayAppId: text('gateway_app_id').notNull().default('platform'),
    externalReference: text('external_reference').notNull(),
    gatewayReference: text('gateway_reference'),
    /** The tenant's payment_attempts row, for customer payments. */
    attemptId: uuid('attempt_id'),
    invoiceId: uuid('invoice_id'),
    /** Payer (collections) or recipient (payouts, refunds), E.164. */
    phone: text('phone').notNull(),
    amountXaf: bigint('amount_xaf', { mode: 'number' }).notNull(),
    currency: text('currency').notNull().default('XAF'),
    operator: text('operator'),
    ussdCode: text('ussd_code'),
    status: text('status', { enum: PAYMENT_STATUSES }).notNull(),
    failureReason: text('failure_reason'),
    /** When the gateway says PENDING past this, the payment expires (a late success is still honoured). */
    expiresAt: at('expires_at').notNull(),
    /** The reconciler's next status poll; backs off exponentially. */
    nextCheckAt: at('next_check_at').notNull().defaultNow(),
    checkCount: integer('check_count').notNull().default(0),
    completedAt: at('completed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    platformOnly(),
    uniqueIndex('payments_external_reference_key').on(t.externalReference),
    uniqueIndex('payments_gateway_reference_key').on(t.gatewayAppId, t.gatewayReference),
    // Pending payments only: the reconciler and the payout sweep look for nothing else, and settled
    // payments (nearly all of them, for ever) then cost this index nothing.
    index('payments_reconcile_idx').on(t.nextCheckAt).where(sql`${t.status} = 'pending'`),
    check('payments_amount_positive', sql`${t.amountXaf} > 0`),
  ],
);

/** CamPay callbacks, stored before they are acknowledged; one row per (app, reference, status). */
export const paymentWebhookEvents = pgTable(
  'payment_webhook_events',
  {
    id: id().primaryKey(),
    gatewayAppId: text('gateway_app_id').notNull(),
    eventKey: text('event_key').notNull(),
    gatewayReference: text('gateway_reference').notNull(),
    reportedStatus: text('reported_status').notNull(),
    payload: jsonb('payload').notNull(),
    receivedAt: at('received_at').notNull().defaultNow(),
    processedAt: at('processed_at'),
    outcome: text('outcome'),
  },
  (t) => [
    platformOnly(),
    uniqueIndex('payment_webhook_events_key').on(t.eventKey),
    // Settlement marks a reference's events processed inside its locked transaction.
    index('payment_webhook_events_reference_idx').on(t.gatewayAppId, t.gatewayReference),
  ],
);

/** Platform-wide gap-free counters (invoice numbers). */
export const platformCounters = pgTable(
  'platform_counters',
  {
    name: text('name').primaryKey(),
    value: bigint('value', { mode: 'number' }).notNull().default(0),
  },
  () => [platformOnly()],
);

export const LEDGER_ACCOUNTS = ['platform_revenue', 'tenant_wallet', 'gateway_clearing', 'payouts'] as const;

/**
 * The ledger: append-only double-entry lines (debit positive, credit negative); the lines of
 * one journal entry sum to zero. The runtime role may insert and read, never update or delete.
 */
export const paymentSplits = pgTable(
  'payment_splits',
  {
    id: id().primaryKey(),
    journalId: uuid('journal_id').notNull(),
    paymentId: uuid('payment_id').references(() => payments.id),
    account: text('account', { enum: LEDGER_ACCOUNTS }).notNull(),
    /** Owner of a tenant_wallet line; null for platform accounts. */
    tenantId: uuid('tenant_id').references(() => tenants.id),
    amountXaf: bigint('amount_xaf', { mode: 'number' }).notNull(),
    description: text('description').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    platformOnly(),
    index('payment_splits_journal_idx').on(t.journalId),
    index('payment_splits_payment_idx').on(t.paymentId),
    index('payment_splits_account_idx').on(t.account, t.tenantId),
    check('payment_splits_wallet_has_tenant', sql`(${t.account} = 'tenant_wallet') = (${t.tenantId} is not null)`),
  ],
);

export const invoices = pgTable(
  'invoices',
  {
    id: id().primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    number: text('number').notNull(),
    kind: text('kind', { enum: ['subscription', 'commission_statement'] }).notNull(),
    periodStart: date('period_start').notNull(),
    periodEnd: date('period_end').notNull(),
    amountXaf: bigint('amount_xaf', { mode: 'number' }).notNull(),
    status: text('status', { enum: ['open', 'paid', 'void'] }).notNull().default('open'),
    /** Seller, buyer and lines as printed: an invoice never changes after issue. */
    document: jsonb('document').notNull().default({}),
    pdfKey: text('pdf_key'),
    issuedAt: createdAt(),
    paidAt: at('paid_at'),
  },
  (t) => [
    platformOnly(),
    tenantReadsOwnRows('tenant_id'),
    uniqueIndex('invoices_number_key').on(t.number),
    uniqueIndex('invoices_period_key').on(t.tenantId, t.kind, t.periodStart),
  ],
);

export const platformRevenueAnalytics = pgTable(
  'platform_revenue_analytics',
  {
    day: date('day').notNull(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    grossXaf: bigint('gross_xaf', { mode: 'number' }).notNull().default(0),
    platformFeeXaf: bigint('platform_fee_xaf', { mode: 'number' }).notNull().default(0),
    paymentsCount: integer('payments_count').notNull().default(0),
  },
  (t) => [
    platformOnly(),
    primaryKey({ columns: [t.day, t.tenantId] }),
  ],
);

export const tenantStatusHistory = pgTable(
  'tenant_status_history',
  {
    id: id().primaryKey(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    fromStatus: text('from_status', { enum: TENANT_STATUSES }),
    toStatus: text('to_status', { enum: TENANT_STATUSES }).notNull(),
    reason: text('reason').notNull(),
    details: jsonb('details'),
    createdAt: createdAt(),
  },
  (t) => [
    platformOnly(),
    index('tenant_status_history_tenant_idx').on(t.tenantId, t.createdAt),
  ],
);

/**
 * Which tenant a channel account belongs to: provider webhooks (/webhooks/telegram/:channelId...)
 * arrive with the account id only, and tenant rows open only once the tenant is known.
 */
export const channelAccountRoutes = pgTable(
  'channel_account_routes',
  {
    channelAccountId: uuid('channel_account_id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    kind: text('kind').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  () => [platformOnly()],
);

/**
 * Which process holds a channel's long-lived connection (a WhatsApp number's Baileys socket):
 * exactly one owner at a time, renewed while alive, taken over when it lapses.
 */
export const channelLeases = pgTable(
  'channel_leases',
  {
    channelAccountId: uuid('channel_account_id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    owner: text('owner').notNull(),
    leaseUntil: at('lease_until').notNull(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  () => [platformOnly()],
);
