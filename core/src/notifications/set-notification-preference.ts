import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { notificationPreferences, users, type Database } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import { NOTIFICATION_KINDS } from './notify-users.js';

const setNotificationPreferenceInput = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  kind: z.enum(NOTIFICATION_KINDS),
  inApp: z.boolean(),
  email: z.boolean(),
});

/** Sets whether the user gets `kind` in the app and by email (both off: not notified at all). */
export async function setNotificationPreference(deps: { db: Database }, options: z.input<typeof setNotificationPreferenceInput>): Promise<void> {
  const { tenantId, userId, kind, inApp, email } = parseInput(setNotificationPreferenceInput, options);
  await deps.db.withTenant(tenantId, async (tx) => {
    const [user] = await tx.select({ id: users.id }).from(users).where(and(eq(users.tenantId, tenantId), eq(users.id, userId)));
    if (!user) throw new AppError('NOT_FOUND', 'no such user');
    await tx
      .insert(notificationPreferences)
      .values({ tenantId, userId, kind, inApp, email })
      .onConflictDoUpdate({ target: [notificationPreferences.tenantId, notificationPreferences.userId, notificationPreferences.kind], set: { inApp, email } });
  });
}
