import { z } from 'zod';
import { checkAttachment, MAX_ATTACHMENT_BYTES, type AttachmentRejection } from '../tickets/attachments/attachment-rules.js';
import { inspectInboundText, type ConversationInput, type InboundFileKind } from './conversation-input.js';

/**
 * The most an adapter reads of a customer's file: one byte past the attachment limit, so that a
 * larger file is known to be too large without ever being held whole in memory.
 */
export const MAX_INBOUND_FILE_READ_BYTES = MAX_ATTACHMENT_BYTES + 1;

/**
 * A file the customer sent (photo, document, voice note), as the adapter downloaded it with the
 * provider's client: its first bytes (at most MAX_INBOUND_FILE_READ_BYTES), or only the fact that
 * it is too large (the provider declared a size over the limit: nothing was downloaded). Its type
 * is never taken from the provider or the name: core reads it from the bytes.
 */
export const inboundFileSchema = z.union([
  z.object({ bytes: z.instanceof(Buffer).refine((bytes) => bytes.length <= MAX_INBOUND_FILE_READ_BYTES, 'read at most the limit + 1 byte'), fileName: z.string().max(255).optional() }),
  z.object({ tooLarge: z.literal(true), fileName: z.string().max(255).optional() }),
]);
export type InboundFile = z.input<typeof inboundFileSchema>;

/** A file the rules accept, held in memory for the turn that may attach it. */
export interface AcceptedInboundFile {
  bytes: Buffer;
  sha256: string;
  contentType: string;
  fileName?: string;
}

/** How a file shows in the conversation's messages and on tickets: the same words in French and English. */
const FILE_TAGS: Record<InboundFileKind | 'refused', string> = { photo: '[Photo]', pdf: '[PDF]', audio: '[Audio]', refused: '[Fichier / File]' };

function kindOf(contentType: string): InboundFileKind {
  if (contentType.startsWith('image/')) return 'photo';
  if (contentType.startsWith('audio/')) return 'audio';
  return 'pdf';
}

export function fileTag(kind: InboundFileKind): string {
  return FILE_TAGS[kind];
}

/**
 * Reads a customer's file before any transaction: the attachment rules (size, type recognised
 * from the bytes), the caption kept only when it is readable text. Gives the engine's input, what
 * the inbound row stores (never the bytes), and the file itself when it is accepted.
 */
export function inspectInboundFile(
  file: z.output<typeof inboundFileSchema>,
  captionText: string,
): { input: ConversationInput; body: Record<string, unknown>; accepted?: AcceptedInboundFile } {
  const readCaption = inspectInboundText(captionText);
  const caption = readCaption.kind === 'text' ? readCaption.text : undefined;
  const check: ReturnType<typeof checkAttachment> | { ok: false; reason: AttachmentRejection } = 'tooLarge' in file ? { ok: false, reason: 'too_large' } : checkAttachment(file.bytes);
  const tag = check.ok ? FILE_TAGS[kindOf(check.contentType)] : FILE_TAGS.refused;
  const text = caption ? `${tag} ${caption}` : tag;
  if (!check.ok) {
    return { input: { kind: 'file', caption, file: { ok: false, reason: check.reason } }, body: { text, file: { refused: check.reason } } };
  }
  const bytes = (file as { bytes: Buffer }).bytes;
  const fileName = file.fileName?.trim() || undefined;
  return {
    input: { kind: 'file', caption, file: { ok: true, kind: kindOf(check.contentType), sha256: check.sha256, ...(fileName ? { fileName } : {}) } },
    body: { text, file: { contentType: check.contentType, sizeBytes: bytes.length, sha256: check.sha256, ...(fileName ? { fileName } : {}) } },
    accepted: { bytes, sha256: check.sha256, contentType: check.contentType, ...(fileName ? { fileName } : {}) },
  };
}
