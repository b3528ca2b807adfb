import { and, eq, inArray, isNull } from 'drizzle-orm';
import { notificationPreferences, notifications, users, type Tx } from '@relais/db';
import type { BilingualText } from '../shared/bilingual-text.js';
import { writeToOutbox } from '../shared/outbox.js';

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
  const { tenantId } = options;
  const recipients = await tx
    .select({ id: users.id, inApp: notificationPreferences.inApp, email: notificationPreferences.email })
    .from(users)
    .leftJoin(
      notificationPreferences,
      and(eq(notificationPreferences.tenantId, users.tenantId), eq(notificationPreferences.userId, users.id), eq(notificationPreferences.kind, options.kind)),
    )
    .where(and(eq(users.tenantId, tenantId), inArray(users.id, ids), isNull(users.disabledAt)));
  const created: string[] = [];
  for (const recipient of recipients) {
    const inApp = recipient.inApp ?? true;
    const email = recipient.email ?? true;
    if (!inApp && !email) continue;
    const [row] = await tx
      .insert(notifications)
      .values({
        tenantId,
        userId: recipient.id,
        kind: options.kind,
        payload: { ...options.content, inApp },
        // A notification wanted by email only is kept for the email job, already "read" in the app.
        readAt: inApp ? null : options.at,
        createdAt: options.at,
      })
      .returning({ id: notifications.id });
    created.push(row!.id);
    if (email) await writeToOutbox(tx, tenantId, { topic: NOTIFICATION_EMAIL_TOPIC, dedupeKey: `notification-email:${row!.id}`, payload: { notificationId: row!.id } });
  }
  return created;
}
