import { and, eq, inArray, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { notifications, type Database } from '@relais/db';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';

const MAX_IDS = 500;

const markNotificationsReadInput = z.union([
  z.object({ tenantId: z.uuid(), userId: z.uuid(), ids: z.array(z.uuid()).min(1).max(MAX_IDS) }),
  z.object({ tenantId: z.uuid(), userId: z.uuid(), all: z.literal(true) }),
]);

/**
 * Marks the user's notifications read: the given ids, or all of them. Only the user's own unread
 * rows change (another user's ids are ignored, a first read time is kept). Returns how many changed.
 */
export async function markNotificationsRead(deps: { db: Database; clock: Clock }, options: z.input<typeof markNotificationsReadInput>): Promise<{ marked: number }> {
  const input = parseInput(markNotificationsReadInput, options);
  const { tenantId, userId } = input;
  const changed = await deps.db.withTenant(tenantId, (tx) =>
    tx
      .update(notifications)
      .set({ readAt: deps.clock.now() })
      .where(
        and(
          eq(notifications.tenantId, tenantId),
          eq(notifications.userId, userId),
          isNull(notifications.readAt),
          'ids' in input ? inArray(notifications.id, input.ids) : undefined,
        ),
      )
      .returning({ id: notifications.id }),
  );
  return { marked: changed.length };
}
