import { and, eq } from 'drizzle-orm';
import { csatResponses, type Tx } from '@relais/db';
import { cleanComment } from './record-csat-response.js';

/**
 * The survey's optional comment, after the rating, in the caller's transaction: it fills the
 * ticket's answer (a blank one changes nothing). Returns false when the ticket has no answer.
 */
export async function recordCsatComment(tx: Tx, options: { tenantId: string; ticketId: string; comment: string }): Promise<boolean> {
  const comment = cleanComment(options.comment);
  if (!comment) return false;
  const updated = await tx
    .update(csatResponses)
    .set({ comment })
    .where(and(eq(csatResponses.tenantId, options.tenantId), eq(csatResponses.ticketId, options.ticketId)))
    .returning({ id: csatResponses.id });
  return updated.length > 0;
}
