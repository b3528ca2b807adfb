import { isJidBroadcast, isJidGroup, isJidNewsletter, isJidStatusBroadcast, jidDecode, jidNormalizedUser, type proto, type WAMessage } from '@whiskeysockets/baileys';

/** A customer's WhatsApp message as the conversation engine takes it. */
export interface WhatsAppInbound {
  sender: { externalId: string; phoneE164?: string; name?: string };
  providerMessageId: string;
  text: string;
  receivedAt: Date;
  /** A photo, document or voice note to download: `text` is then what to say if it cannot be had. */
  media?: WhatsAppMedia;
}

export interface WhatsAppMedia {
  /** The caption ('' for none): the message's text once the file is had. */
  caption: string;
  fileName?: string;
  /** The size WhatsApp announced, when it did. */
  declaredSize?: number;
}

/** Parts of a message that carry no customer input of their own (they ride along with one that does). */
const CARRIER_FIELDS = new Set(['messageContextInfo', 'senderKeyDistributionMessage']);
/** Not customer input: answering a reaction or a deleted message with "I cannot read this" would be silly. */
const SILENT_FIELDS = new Set(['reactionMessage', 'protocolMessage', 'pollUpdateMessage', 'keepInChatMessage', 'pinInChatMessage', 'editedMessage', 'encReactionMessage']);

/** The engine's "cannot read this" answer: a replacement character marks it, the kind in brackets says what it was. */
const notTextPlaceholder = (field: string) => `[${field.replace(/Message$/, '').slice(0, 20)}] \uFFFD`;

/**
 * Translates one message of a messages.upsert batch, or undefined when it is not a customer
 * writing to us one to one: our own messages (fromMe, sent from the phone too), status updates
 * and other broadcasts, newsletters, groups, system stubs and messages that did not decrypt.
 */
export function inboundOfWhatsAppMessage(message: WAMessage, now: Date): WhatsAppInbound | undefined {
  const key = message.key;
  const remoteJid = key?.remoteJid;
  if (!key || key.fromMe || !remoteJid || !key.id) return undefined;
  if (isJidStatusBroadcast(remoteJid) || isJidBroadcast(remoteJid) || isJidNewsletter(remoteJid) || isJidGroup(remoteJid)) return undefined;
  if (message.messageStubType || !message.message) return undefined;
  const content = unwrap(message.message);
  const fields = Object.keys(content).filter((field) => !CARRIER_FIELDS.has(field) && content[field as keyof proto.IMessage] != null);
  if (fields.length === 0 || fields.some((field) => SILENT_FIELDS.has(field))) return undefined;

  const externalId = jidNormalizedUser(remoteJid);
  // WhatsApp now addresses many chats by a LID (a hidden id); the phone number then comes as the alternate jid.
  const phoneE164 = phoneOf(externalId) ?? phoneOf(key.remoteJidAlt ?? undefined);
  const name = message.pushName?.trim().slice(0, 200);
  return {
    sender: { externalId, ...(phoneE164 ? { phoneE164 } : {}), ...(name ? { name } : {}) },
    providerMessageId: key.id,
    text: textOf(content) ?? notTextPlaceholder(fields[0]!),
    receivedAt: receivedAtOf(message.messageTimestamp, now),
    ...mediaOf(content),
  };
}

/** The file a photo, document or voice note carries; core judges its type from the bytes. */
function mediaOf(content: proto.IMessage): { media: WhatsAppMedia } | Record<string, never> {
  const [media, defaultName] = content.imageMessage
    ? [content.imageMessage, 'photo.jpg']
    : content.documentMessage
      ? [content.documentMessage, undefined]
      : content.audioMessage
        ? [content.audioMessage, 'audio.ogg']
        : [undefined, undefined];
  if (!media) return {};
  const fileName = ('fileName' in media && typeof media.fileName === 'string' && media.fileName.trim() ? media.fileName.trim() : defaultName)?.slice(0, 255);
  const size = media.fileLength == null ? NaN : Number(media.fileLength.toString());
  const caption = 'caption' in media && typeof media.caption === 'string' ? media.caption : '';
  return { media: { caption, ...(fileName ? { fileName } : {}), ...(Number.isFinite(size) && size >= 0 ? { declaredSize: size } : {}) } };
}

/** Disappearing, view-once and captioned-document messages wrap the real one. */
function unwrap(content: proto.IMessage): proto.IMessage {
  let current = content;
  for (let depth = 0; depth < 3; depth += 1) {
    const inner =
      current.ephemeralMessage?.message ?? current.viewOnceMessage?.message ?? current.viewOnceMessageV2?.message ?? current.documentWithCaptionMessage?.message;
    if (!inner) break;
    current = inner;
  }
  return current;
}

/** Typed text, a tapped button or list row (their ids are our choice ids), else a media caption. */
function textOf(content: proto.IMessage): string | undefined {
  const text =
    content.conversation ??
    content.extendedTextMessage?.text ??
    content.buttonsResponseMessage?.selectedButtonId ??
    content.listResponseMessage?.singleSelectReply?.selectedRowId ??
    content.templateButtonReplyMessage?.selectedId ??
    content.imageMessage?.caption ??
    content.videoMessage?.caption ??
    content.documentMessage?.caption;
  return typeof text === 'string' && text.length > 0 ? text : undefined;
}

/** "+2376..." from a phone-number jid ("2376...@s.whatsapp.net"); undefined for LIDs and anything else. */
function phoneOf(jid: string | undefined): string | undefined {
  const decoded = jidDecode(jid);
  if (!decoded || decoded.server !== 's.whatsapp.net') return undefined;
  return /^[1-9]\d{6,14}$/.test(decoded.user) ? `+${decoded.user}` : undefined;
}

function receivedAtOf(timestamp: WAMessage['messageTimestamp'], now: Date): Date {
  const seconds = typeof timestamp === 'number' ? timestamp : timestamp ? Number(timestamp.toString()) : NaN;
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : now;
}
