import { createHash } from 'node:crypto';
import type { BilingualText } from '../../shared/bilingual-text.js';

export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

/**
 * Types a ticket accepts, each recognised by its first bytes: the declared type is never trusted
 * (a ".jpg" that is an executable is refused), and the stored type is the one the bytes show.
 */
const SIGNATURES: { contentType: string; matches: (bytes: Buffer) => boolean }[] = [
  { contentType: 'image/jpeg', matches: (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { contentType: 'image/png', matches: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { contentType: 'image/gif', matches: (b) => ['GIF87a', 'GIF89a'].includes(b.subarray(0, 6).toString('latin1')) },
  { contentType: 'image/webp', matches: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
  { contentType: 'application/pdf', matches: (b) => b.subarray(0, 5).toString('latin1') === '%PDF-' },
  { contentType: 'audio/ogg', matches: (b) => b.subarray(0, 4).toString('latin1') === 'OggS' },
];

export type AttachmentRejection = 'empty' | 'too_large' | 'type_not_allowed';

export type AttachmentCheck = { ok: true; contentType: string; sha256: string } | { ok: false; reason: AttachmentRejection };

/** Whether a file may be attached: size, and a type recognised from its bytes. */
export function checkAttachment(bytes: Buffer): AttachmentCheck {
  if (bytes.length === 0) return { ok: false, reason: 'empty' };
  if (bytes.length > MAX_ATTACHMENT_BYTES) return { ok: false, reason: 'too_large' };
  const signature = SIGNATURES.find((candidate) => candidate.matches(bytes));
  if (!signature) return { ok: false, reason: 'type_not_allowed' };
  return { ok: true, contentType: signature.contentType, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** What the customer (or agent) is told when a file is refused. */
export function attachmentRejectionText(reason: AttachmentRejection): BilingualText {
  switch (reason) {
    case 'empty':
      return { fr: 'Le fichier reçu est vide.', en: 'The file we received is empty.' };
    case 'too_large':
      return { fr: 'Ce fichier est trop volumineux (10 Mo au plus).', en: 'This file is too large (10 MB at most).' };
    case 'type_not_allowed':
      return { fr: 'Ce type de fichier n’est pas accepté : envoyez une photo (JPEG, PNG, WebP, GIF), un PDF ou une note vocale.', en: 'This type of file is not accepted: send a photo (JPEG, PNG, WebP, GIF), a PDF or a voice note.' };
  }
}

/** Content-addressed: the same file attached twice is stored once per tenant. */
export function attachmentStorageKey(tenantId: string, sha256: string): string {
  return `attachments/${tenantId}/${sha256}`;
}
