import { and, count, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { notifications, type Database } from '@relais/db';
import { parseInput } from '../shared/parse-input.js';
import { shownInApp } from './notification-payload.js';

const countUnreadNotificationsInput = z.object({ tenantId: z.uuid(), userId: z.uuid() });

/** The badge: how many of the user's in-app notifications are unread. */
export async function countUnreadNotifications(deps: { db: Database }, options: z.input<typeof countUnreadNotificationsInput>): Promise<number> {
  const { tenantId, userId } = parseInput(countUnreadNotificationsInput, options);
  const [row] = await deps.db.withTenant(tenantId, (tx) =>
    tx
      .select({ unread: count() })
      .from(notifications)
      .where(and(eq(notifications.tenantId, tenantId), eq(notifications.userId, userId), isNull(notifications.readAt), shownInApp)),
  );
  return row?.unread ?? 0;
}
