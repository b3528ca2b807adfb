import { and, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { notifications, users, type Database } from '@relais/db';
import { isAppError, type AppErrorCode } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';
import type { Mailer } from '../shared/ports/mailer.js';
import { readNotificationPayload } from './notification-payload.js';
import { renderNotificationEmail } from './render-notification-email.js';

const sendNotificationEmailInput = z.object({ tenantId: z.uuid(), notificationId: z.uuid() });

export type NotificationEmailOutcome =
  | { status: 'sent'; to: string }
  | { status: 'already_sent' }
  | { status: 'skipped'; reason: 'not_found' | 'user_disabled' | 'no_email' }
  /** The SMTP server refused it for good (5xx): retrying would be refused again. */
  | { status: 'rejected'; code: AppErrorCode };

/**
 * The `notification.email` consumer: sends the email copy of one notification to its user, in
 * the user's language, then records `emailed_at`. Safe to run again (the outbox delivers at least
 * once): an emailed notification is not sent twice. The one window left is a crash between the
 * SMTP server accepting the message and `emailed_at` being written: the redelivery sends a second
 * copy. Closing it would mean holding a transaction (and a row lock) open during the SMTP session;
 * a rare duplicate email is the cheaper failure. Disabled users and users without an address are
 * skipped. Unreachable server: the retryable AppError propagates (the outbox retries later).
 */
export async function sendNotificationEmail(
  deps: { db: Database; clock: Clock; mailer: Mailer },
  options: z.input<typeof sendNotificationEmailInput>,
): Promise<NotificationEmailOutcome> {
  const { tenantId, notificationId } = parseInput(sendNotificationEmailInput, options);
  const [row] = await deps.db.withTenant(tenantId, (tx) =>
    tx
      .select({
        kind: notifications.kind,
        payload: notifications.payload,
        emailedAt: notifications.emailedAt,
        email: users.email,
        name: users.name,
        locale: users.locale,
        disabledAt: users.disabledAt,
      })
      .from(notifications)
      .innerJoin(users, and(eq(users.tenantId, notifications.tenantId), eq(users.id, notifications.userId)))
      .where(and(eq(notifications.tenantId, tenantId), eq(notifications.id, notificationId))),
  );
  if (!row) return { status: 'skipped', reason: 'not_found' };
  if (row.emailedAt) return { status: 'already_sent' };
  if (row.disabledAt) return { status: 'skipped', reason: 'user_disabled' };
  const to = row.email.trim();
  if (to === '') return { status: 'skipped', reason: 'no_email' };

  const message = renderNotificationEmail({ to, locale: row.locale, recipientName: row.name, notification: readNotificationPayload(row.kind, row.payload) });
  try {
    await deps.mailer.send(message);
  } catch (error) {
    if (isAppError(error) && !error.retryable) return { status: 'rejected', code: error.code };
    throw error;
  }
  await deps.db.withTenant(tenantId, (tx) =>
    tx
      .update(notifications)
      .set({ emailedAt: deps.clock.now() })
      .where(and(eq(notifications.tenantId, tenantId), eq(notifications.id, notificationId), isNull(notifications.emailedAt))),
  );
  return { status: 'sent', to };
}
