import { executeStatement, type RawStatement, type Tx } from '@relais/db';
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
const NOTIFY_USERS: RawStatement = {
  name: 'notifications.notify_users',
  text: `with notification_input as (
      select * from jsonb_to_recordset($2::jsonb) as n(user_id uuid, payload jsonb, created_at timestamptz)
    ), ${notificationCtes('$1::uuid', '$3::text')} select id from notification_rows`,
};

export async function notifyUsers(
  tx: Tx,
  options: { tenantId: string; userIds: string[]; kind: NotificationKind; content: NotificationContent; at: Date },
): Promise<string[]> {
  const ids = [...new Set(options.userIds)];
  if (ids.length === 0) return [];
  const at = options.at.toISOString();
  const input = ids.map((userId) => ({ user_id: userId, payload: options.content, created_at: at }));
  const rows = await executeStatement<{ id: string }>(tx, NOTIFY_USERS, [options.tenantId, JSON.stringify(input), options.kind]);
  return rows.map((row) => row.id);
}

/**
 * The CTE items of `notifyUsers`, as SQL text, for a statement that does more (ticket opening
 * notifies the assignees of the tickets it inserts in the same statement): they read an earlier
 * item `notification_input` (user_id, payload, created_at), one row per notification (a user
 * may get several); `tenant` and `kind` are SQL expressions. Recipients with their preferences
 * for the kind (disabled users skipped), `notification_rows` (id, user_id) inserted, and the
 * email requests.
 */
export function notificationCtes(tenant: string, kind: string): string {
  return `notification_recipients as (
      select i.user_id, i.payload, i.created_at, coalesce(p.in_app, true) as in_app, coalesce(p.email, true) as email
      from notification_input i
      join users u on u.tenant_id = ${tenant} and u.id = i.user_id and u.disabled_at is null
      left join notification_preferences p on p.tenant_id = u.tenant_id and p.user_id = u.id and p.kind = ${kind}
    ),
    notification_rows as (
      insert into notifications (tenant_id, user_id, kind, payload, read_at, created_at)
      select ${tenant}, r.user_id, ${kind}, r.payload || jsonb_build_object('inApp', r.in_app),
        -- A notification wanted by email only is kept for the email job, already "read" in the app.
        case when r.in_app then null else r.created_at end, r.created_at
      from notification_recipients r
      where r.in_app or r.email
      returning id, user_id
    ),
    notification_emails as (
      insert into outbox (tenant_id, topic, dedupe_key, payload)
      select ${tenant}, '${NOTIFICATION_EMAIL_TOPIC}', 'notification-email:' || n.id, jsonb_build_object('notificationId', n.id)
      from notification_rows n
      where n.user_id in (select user_id from notification_recipients where email)
      on conflict do nothing
    )`;
}
