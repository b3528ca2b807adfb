import { and, asc, eq } from 'drizzle-orm';
import { ticketMessages, type Tx } from '@relais/db';
import type { FileStore } from '../shared/ports/file-store.js';
import { attachmentStorageKey } from '../tickets/attachments/attachment-rules.js';
import { storeTicketAttachment } from '../tickets/attachments/store-ticket-attachment.js';
import type { ConversationFileRef } from './conversation-input.js';
import type { AcceptedInboundFile } from './inbound-file.js';

/**
 * Keeps a customer's file for a ticket that a later turn opens (a paid request waits for the
 * payer's number). Under the key the ticket's attachment will use: content-addressed, so storing
 * it then is a no-op, and a file never attached is at most an unreferenced blob.
 */
export async function holdConversationFile(fileStore: FileStore, tenantId: string, file: AcceptedInboundFile): Promise<void> {
  const key = attachmentStorageKey(tenantId, file.sha256);
  if (!(await fileStore.get(key))) await fileStore.put(key, file.bytes, file.contentType);
}

/**
 * Attaches the file a customer sent as a ticket's description to that description (the ticket's
 * first message), in the caller's transaction: this turn's file, or one an earlier turn held. A
 * held file that is gone (storage wiped) is skipped: the ticket matters more than its photo.
 */
export async function attachFileToOpenedTicket(
  tx: Tx,
  fileStore: FileStore,
  options: { tenantId: string; ticketId: string; file: ConversationFileRef; current?: AcceptedInboundFile; now: Date },
): Promise<void> {
  const { tenantId, ticketId } = options;
  const bytes = options.current?.sha256 === options.file.sha256 ? options.current.bytes : (await fileStore.get(attachmentStorageKey(tenantId, options.file.sha256)))?.bytes;
  if (!bytes) return;
  const [description] = await tx
    .select({ id: ticketMessages.id })
    .from(ticketMessages)
    .where(and(eq(ticketMessages.tenantId, tenantId), eq(ticketMessages.ticketId, ticketId)))
    .orderBy(asc(ticketMessages.createdAt))
    .limit(1);
  await storeTicketAttachment(tx, fileStore, { tenantId, ticketId, messageId: description?.id, bytes, fileName: options.file.fileName, now: options.now });
}
