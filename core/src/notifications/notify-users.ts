import { sql, type SQL } from 'drizzle-orm';
import { executeRows, type Tx } from '@relais/db';
import type { BilingualText } from '../shared/bilingual-text.js';

/** Kinds a user can be notified of (and set preferences for). */
export const NOTIFICATION_KINDS = ['ticket.assigned', 'ticket.sla_warning', 'ticket.sla_breached', 'ticket.customer_replied', 'ticket.mentioned', 'automation.notify'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** Outbox topic asking for the email copy of one notification. */
export const NOTIFICATION_EMAIL_TOPIC = 'notification.email';

export interface NotificationContent {
  title: BilingualText;
  body: BilingualText;
  ticketId?: string;
  ticketNumber?: number;
}

/**
 * Notifies users of the tenant in the caller's transaction, as each one's preferences for `kind`
 * say (no row = in-app and email both on): a `notifications` row when in-app is on, and an
 * outbox message `notification.email` { notificationId } when email is on (the email job reads
 * the row and sends it in the user's language). Disabled users and duplicates are skipped.
 * Returns the notification ids created.
 */
export async function notifyUsers(
  tx: Tx,
  options: { tenantId: string; userIds: string[]; kind: NotificationKind; content: NotificationContent; at: Date },
): Promise<string[]> {
  const ids = [...new Set(options.userIds)];
  if (ids.length === 0) return [];
  const rows = (await executeRows(
    tx,
    sql`with ${notificationCtes({ ...options, userIds: sql`select unnest(${`{${ids.join(',')}}`}::uuid[])` })} select id from notification_rows`,
  )) as { id: string }[];
  return rows.map((row) => row.id);
}

/**
 * The CTE items of `notifyUsers` for a statement that does more (ticket opening, under the
 * tenant's lock, notifies its assignee in the same statement): recipients with their
 * preferences, `notification_rows` (id, user_id) inserted, and the email requests. `userIds` is a
 * query of user ids, which may read the statement's other CTE items.
 */
export function notificationCtes(options: { tenantId: string; userIds: SQL; kind: NotificationKind; content: NotificationContent; at: Date }): SQL {
  const at = options.at.toISOString();
  return sql`notification_recipients as (
      select u.id, coalesce(p.in_app, true) as in_app, coalesce(p.email, true) as email
      from users u
      left join notification_preferences p on p.tenant_id = u.tenant_id and p.user_id = u.id and p.kind = ${options.kind}::text
      where u.tenant_id = ${options.tenantId}::uuid and u.id in (${options.userIds}) and u.disabled_at is null
    ),
    notification_rows as (
      insert into notifications (tenant_id, user_id, kind, payload, read_at, created_at)
      select ${options.tenantId}::uuid, r.id, ${options.kind}::text, ${JSON.stringify(options.content)}::jsonb || jsonb_build_object('inApp', r.in_app),
        -- A notification wanted by email only is kept for the email job, already "read" in the app.
        case when r.in_app then null else ${at}::timestamptz end, ${at}::timestamptz
      from notification_recipients r
      where r.in_app or r.email
      returning id, user_id
    ),
    notification_emails as (
      insert into outbox (tenant_id, topic, dedupe_key, payload)
      select ${options.tenantId}::uuid, ${NOTIFICATION_EMAIL_TOPIC}::text, 'notification-email:' || n.id, jsonb_build_object('notificationId', n.id)
      from notification_rows n join notification_recipients r on r.id = n.user_id
      where r.email
      on conflict do nothing
    )`;
}
