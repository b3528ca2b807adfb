import { attachments, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import type { FileStore } from '../../shared/ports/file-store.js';
import { attachmentStorageKey, checkAttachment } from './attachment-rules.js';

/** A file name safe to show and to put in a Content-Disposition header. */
function cleanFileName(name: string | undefined, contentType: string): string {
  const cleaned = (name ?? '').replace(/[^\p{L}\p{N}._ -]/gu, '_').trim().slice(0, 120);
  return cleaned.length > 0 ? cleaned : `file.${contentType.split('/')[1]}`;
}

/**
 * Stores a file (content-addressed, outside the transaction: a rolled-back attachment leaves at
 * most an unreferenced blob) and records it on a ticket in the caller's transaction. Refuses
 * empty, oversized and unrecognised files with ATTACHMENT_REJECTED (details.reason).
 */
export async function storeTicketAttachment(
  tx: Tx,
  fileStore: FileStore,
  options: { tenantId: string; ticketId: string; messageId?: string | null; bytes: Buffer; fileName?: string; now: Date },
): Promise<{ attachmentId: string; contentType: string }> {
  const check = checkAttachment(options.bytes);
  if (!check.ok) throw new AppError('ATTACHMENT_REJECTED', `attachment refused: ${check.reason}`, { details: { reason: check.reason } });
  const storageKey = attachmentStorageKey(options.tenantId, check.sha256);
  if (!(await fileStore.get(storageKey))) await fileStore.put(storageKey, options.bytes, check.contentType);
  const [row] = await tx
    .insert(attachments)
    .values({
      tenantId: options.tenantId,
      ticketId: options.ticketId,
      messageId: options.messageId ?? null,
      sha256: check.sha256,
      contentType: check.contentType,
      sizeBytes: options.bytes.length,
      fileName: cleanFileName(options.fileName, check.contentType),
      storageKey,
      createdAt: options.now,
    })
    .returning({ id: attachments.id });
  return { attachmentId: row!.id, contentType: check.contentType };
}
