import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { notificationPreferences, users, type Database } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import { NOTIFICATION_KINDS, type NotificationKind } from './notify-users.js';

const getNotificationPreferencesInput = z.object({ tenantId: z.uuid(), userId: z.uuid() });

export interface NotificationPreference {
  kind: NotificationKind;
  inApp: boolean;
  email: boolean;
}

/** Every notification kind with what applies to the user: their choice, or on/on by default. */
export async function getNotificationPreferences(deps: { db: Database }, options: z.input<typeof getNotificationPreferencesInput>): Promise<NotificationPreference[]> {
  const { tenantId, userId } = parseInput(getNotificationPreferencesInput, options);
  const stored = await deps.db.withTenant(tenantId, async (tx) => {
    const [user] = await tx.select({ id: users.id }).from(users).where(and(eq(users.tenantId, tenantId), eq(users.id, userId)));
    if (!user) throw new AppError('NOT_FOUND', 'no such user');
    return tx
      .select({ kind: notificationPreferences.kind, inApp: notificationPreferences.inApp, email: notificationPreferences.email })
      .from(notificationPreferences)
      .where(and(eq(notificationPreferences.tenantId, tenantId), eq(notificationPreferences.userId, userId)));
  });
  const byKind = new Map(stored.map((row) => [row.kind, row]));
  return NOTIFICATION_KINDS.map((kind) => ({ kind, inApp: byKind.get(kind)?.inApp ?? true, email: byKind.get(kind)?.email ?? true }));
}
