import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { attachments, type Database } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import type { FileStore } from '../../shared/ports/file-store.js';
import { loadActingUser } from '../ticket-actor.js';

const readAttachmentInput = z.object({ tenantId: z.uuid(), userId: z.uuid(), attachmentId: z.uuid() });

/**
 * A ticket attachment for one of the tenant's users. Another tenant's attachment is NOT_FOUND
 * (row-level security hides the row, and the storage key is never taken from the caller).
 */
export async function readTicketAttachment(
  deps: { db: Database; fileStore: FileStore },
  options: z.input<typeof readAttachmentInput>,
): Promise<{ bytes: Buffer; contentType: string; fileName: string }> {
  const input = parseInput(readAttachmentInput, options);
  const row = await deps.db.withTenant(input.tenantId, async (tx) => {
    await loadActingUser(tx, input.tenantId, input.userId);
    const [attachment] = await tx
      .select({ storageKey: attachments.storageKey, contentType: attachments.contentType, fileName: attachments.fileName })
      .from(attachments)
      .where(and(eq(attachments.tenantId, input.tenantId), eq(attachments.id, input.attachmentId)));
    return attachment;
  });
  if (!row) throw new AppError('NOT_FOUND', 'attachment not found');
  const file = await deps.fileStore.get(row.storageKey);
  if (!file) throw new AppError('NOT_FOUND', 'attachment file is missing from storage');
  return { bytes: file.bytes, contentType: row.contentType, fileName: row.fileName };
}
