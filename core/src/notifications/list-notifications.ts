import { and, desc, eq, isNull, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { notifications, type Database } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import { readNotificationPayload, shownInApp, type NotificationText } from './notification-payload.js';

export const MAX_NOTIFICATIONS_PAGE = 100;

const listNotificationsInput = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  unreadOnly: z.boolean().default(false),
  limit: z.number().int().min(1).max(MAX_NOTIFICATIONS_PAGE).default(30),
  /** The id of the last notification of the previous page: the list continues after it. */
  before: z.uuid().optional(),
});

export interface NotificationView extends NotificationText {
  id: string;
  kind: string;
  readAt: Date | null;
  createdAt: Date;
}

export interface NotificationPage {
  notifications: NotificationView[];
  /** Pass as `before` for the next page; null on the last page. */
  nextBefore: string | null;
}

/**
 * A user's own in-app notifications, newest first, a page at a time (keyset on created_at, id:
 * stable while new ones arrive). `before` must be one of the user's notifications (NOT_FOUND
 * otherwise, as for another user's).
 */
export async function listNotifications(deps: { db: Database }, options: z.input<typeof listNotificationsInput>): Promise<NotificationPage> {
  const input = parseInput(listNotificationsInput, options);
  const { tenantId, userId } = input;
  const own = and(eq(notifications.tenantId, tenantId), eq(notifications.userId, userId));
  return deps.db.withTenant(tenantId, async (tx) => {
    let after: SQL | undefined;
    if (input.before) {
      const [cursor] = await tx.select({ id: notifications.id }).from(notifications).where(and(own, eq(notifications.id, input.before)));
      if (!cursor) throw new AppError('NOT_FOUND', 'no such notification');
      // Compared in SQL: created_at has microseconds, a JS Date only milliseconds.
      after = sql`(${notifications.createdAt}, ${notifications.id}) < (select c.created_at, c.id from notifications c where c.tenant_id = ${tenantId} and c.id = ${cursor.id})`;
    }
    const rows = await tx
      .select({ id: notifications.id, kind: notifications.kind, payload: notifications.payload, readAt: notifications.readAt, createdAt: notifications.createdAt })
      .from(notifications)
      .where(and(own, shownInApp, input.unreadOnly ? isNull(notifications.readAt) : undefined, after))
      .orderBy(desc(notifications.createdAt), desc(notifications.id))
      .limit(input.limit + 1);
    const page = rows.slice(0, input.limit).map(({ payload, ...row }) => ({ ...row, ...readNotificationPayload(row.kind, payload) }));
    return { notifications: page, nextBefore: rows.length > input.limit ? page[page.length - 1]!.id : null };
  });
}
