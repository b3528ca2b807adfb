import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { notifications } from '@relais/db';
import type { BilingualText } from '../shared/bilingual-text.js';

const bilingualText = z.object({ fr: z.string(), en: z.string() });

/**
 * What `notifications.payload` holds: notifyUsers writes {title, body, ticketId?, ticketNumber?,
 * inApp}; older kinds (plan limits) write `message` instead of `body`. Read leniently: a row
 * that does not fit is still shown, with its kind as title, rather than breaking the list.
 */
const storedPayload = z.object({
  title: bilingualText.optional().catch(undefined),
  body: bilingualText.optional().catch(undefined),
  message: bilingualText.optional().catch(undefined),
  ticketId: z.string().optional().catch(undefined),
  ticketNumber: z.number().int().optional().catch(undefined),
  inApp: z.boolean().optional().catch(undefined),
});

export interface NotificationText {
  title: BilingualText;
  body: BilingualText;
  ticketId?: string;
  ticketNumber?: number;
}

export function readNotificationPayload(kind: string, payload: unknown): NotificationText {
  const parsed = storedPayload.safeParse(payload ?? {});
  const stored = parsed.success ? parsed.data : {};
  return {
    title: stored.title ?? { fr: kind, en: kind },
    body: stored.body ?? stored.message ?? { fr: '', en: '' },
    ...(stored.ticketId !== undefined ? { ticketId: stored.ticketId } : {}),
    ...(stored.ticketNumber !== undefined ? { ticketNumber: stored.ticketNumber } : {}),
  };
}

/** Rows notifyUsers kept for the email job only (in-app off for that kind) are not shown in the app. */
export const shownInApp = sql`coalesce((${notifications.payload} ->> 'inApp')::boolean, true)`;
