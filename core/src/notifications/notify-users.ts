import { sql } from 'drizzle-orm';
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
  // One statement (it runs inside ticket creation, under the tenant's ticket lock): recipients
  // with their preferences, their notifications, and the email requests.
  const rows = (await executeRows(
    tx,
    sql`with recipients as (
          select u.id, coalesce(p.in_app, true) as in_app, coalesce(p.email, true) as email
          from users u
          left join notification_preferences p on p.tenant_id = u.tenant_id and p.user_id = u.id and p.kind = ${options.kind}
          where u.tenant_id = ${options.tenantId} and u.id = any(${`{${ids.join(',')}}`}::uuid[]) and u.disabled_at is null
        ),
        inserted as (
          insert into notifications (tenant_id, user_id, kind, payload, read_at, created_at)
          select ${options.tenantId}, r.id, ${options.kind}, ${JSON.stringify(options.content)}::jsonb || jsonb_build_object('inApp', r.in_app),
            -- A notification wanted by email only is kept for the email job, already "read" in the app.
            case when r.in_app then null else ${options.at.toISOString()}::timestamptz end, ${options.at.toISOString()}::timestamptz
          from recipients r
          where r.in_app or r.email
          returning id, user_id
        ),
        emails as (
          insert into outbox (tenant_id, topic, dedupe_key, payload)
          select ${options.tenantId}, ${NOTIFICATION_EMAIL_TOPIC}, 'notification-email:' || i.id, jsonb_build_object('notificationId', i.id)
          from inserted i join recipients r on r.id = i.user_id
          where r.email
          on conflict do nothing
        )
        select id from inserted`,
  )) as { id: string }[];
  return rows.map((row) => row.id);
}
