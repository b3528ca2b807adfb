import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  AppError,
  findOrCreateChannelAccount,
  findTenantBySlug,
  getConversationImage,
  handleInboundMessage,
  isAppError,
  listConversationMessages,
  MAX_INBOUND_FILE_READ_BYTES,
  type Clock,
  type ConversationMessage,
  type FileStore,
  type StoredFile,
} from '@relais/core';
import type { Database } from '@relais/db';
import { WEBCHAT_CAPABILITIES } from './webchat-capabilities.js';

/** The browser's own id for its visitor: random, long enough that it cannot be guessed (it reads the conversation). */
const webchatContactId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'contactId: 16 to 64 letters, digits, "-" or "_"');

/** Base64 of a file one byte over the attachment limit: the largest the page may post (core refuses it as too large). */
const MAX_FILE_BASE64_CHARACTERS = 4 * Math.ceil(MAX_INBOUND_FILE_READ_BYTES / 3);
/** A 4 KB message written in multi-byte characters, in JSON, with room to spare: the limit of a message without a file. */
export const WEBCHAT_MAX_TEXT_BODY_BYTES = 32 * 1024;
/** The limit of a message with a file: the file as base64 plus the rest of the message. */
export const WEBCHAT_MAX_BODY_BYTES = MAX_FILE_BASE64_CHARACTERS + WEBCHAT_MAX_TEXT_BODY_BYTES;

export const webchatPostMessageBody = z
  .object({
  contactId: webchatContactId,
  /** Longer than 4 KB is answered politely by the engine; the route's body limit stops the absurd. With a file: its caption. */
  text: z.string().max(16_384).optional(),
  /** A photo or document picked in the page. Its declared type is not trusted: core reads the bytes. */
  file: z
    .object({
      name: z.string().max(255).optional(),
      contentType: z.string().max(255).optional(),
      base64: z.base64().max(MAX_FILE_BASE64_CHARACTERS),
    })
    .optional(),
  /** The browser's id for this message: sending it again (a retry) is answered once. */
  messageId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/)
    .optional(),
})
  .refine((body) => body.text !== undefined || body.file !== undefined, { message: 'text or file is required', path: ['text'] });

export const webchatListQuery = z.object({
  contactId: webchatContactId,
  after: z.coerce.number().int().min(0).default(0),
});

export const webchatImageQuery = z.object({ contactId: webchatContactId });
export const webchatSlugParams = z.object({ tenantSlug: z.string().regex(/^[a-z0-9-]{1,48}$/) });
export const webchatImageParams = webchatSlugParams.extend({ messageId: z.uuid() });

/** A message as the page draws it. */
export interface WebchatMessage {
  id: string;
  seq: number;
  from: 'customer' | 'bot';
  text: string;
  choices?: { id: string; label: string }[];
  image?: { url: string; alt: string };
  createdAt: string;
}

/**
 * The web chat channel: translates the page's requests into the conversation engine's inbound
 * messages and the conversation's messages back into what the page draws. One webchat channel
 * account per tenant, made on first use. No rule lives here.
 */
export function createWebchatAdapter(deps: { db: Database; clock: Clock; fileStore: FileStore }) {
  const accounts = new Map<string, { tenantId: string; channelAccountId: string; tenantName: string; defaultLocale: 'fr' | 'en' }>();

  async function channelOf(tenantSlug: string) {
    const known = accounts.get(tenantSlug);
    if (known) return known;
    let tenant;
    try {
      tenant = await findTenantBySlug(deps, tenantSlug);
    } catch (error) {
      // The CLI's hint about tenant:list is not for visitors.
      if (isAppError(error) && error.code === 'NOT_FOUND') throw new AppError('NOT_FOUND', 'no such chat');
      throw error;
    }
    const account = await findOrCreateChannelAccount(deps, { tenantId: tenant.id, kind: 'webchat', name: 'Web chat' });
    if (account.status !== 'active') throw new AppError('NOT_FOUND', 'no such chat');
    const channel = { tenantId: tenant.id, channelAccountId: account.id, tenantName: tenant.name, defaultLocale: tenant.defaultLocale };
    accounts.set(tenantSlug, channel);
    return channel;
  }

  const imageUrl = (tenantSlug: string, messageId: string, contactId: string) =>
    `/api/webchat/${encodeURIComponent(tenantSlug)}/images/${messageId}?contactId=${encodeURIComponent(contactId)}`;

  function toWebchatMessage(tenantSlug: string, contactId: string, message: Pick<ConversationMessage, 'id' | 'seq' | 'from' | 'body' | 'createdAt'>): WebchatMessage {
    const { body } = message;
    return {
      id: message.id,
      seq: message.seq,
      from: message.from,
      text: body.text,
      ...(body.choices?.length ? { choices: body.choices.map(({ id, label }) => ({ id, label })) } : {}),
      ...(body.image ? { image: { url: imageUrl(tenantSlug, message.id, contactId), alt: body.image.alt } } : {}),
      createdAt: message.createdAt.toISOString(),
    };
  }

  return {
    /** For the page: the tenant's name and language. */
    async describe(tenantSlug: string) {
      const channel = await channelOf(tenantSlug);
      return { tenantName: channel.tenantName, defaultLocale: channel.defaultLocale };
    },

    async postMessage(tenantSlug: string, body: z.output<typeof webchatPostMessageBody>) {
      const channel = await channelOf(tenantSlug);
      const now = deps.clock.now();
      const outcome = await handleInboundMessage(deps, {
        tenantId: channel.tenantId,
        channelAccountId: channel.channelAccountId,
        sender: { externalId: body.contactId },
        // Scoped to the visitor: two browsers may pick the same message id.
        providerMessageId: `${body.contactId}:${body.messageId ?? randomUUID()}`,
        text: body.text ?? '',
        ...(body.file ? { file: { bytes: Buffer.from(body.file.base64, 'base64').subarray(0, MAX_INBOUND_FILE_READ_BYTES), fileName: body.file.name } } : {}),
        receivedAt: now,
        capabilities: WEBCHAT_CAPABILITIES,
      });
      return {
        duplicate: outcome.duplicate,
        replies: outcome.replies.map((reply) => toWebchatMessage(tenantSlug, body.contactId, { ...reply, from: 'bot', createdAt: now })),
      };
    },

    async listMessages(tenantSlug: string, query: z.output<typeof webchatListQuery>) {
      const channel = await channelOf(tenantSlug);
      const messages = await listConversationMessages(deps, {
        tenantId: channel.tenantId,
        channelAccountId: channel.channelAccountId,
        contactExternalId: query.contactId,
        afterSeq: query.after,
      });
      const converted = messages.map((message) => toWebchatMessage(tenantSlug, query.contactId, message));
      return { messages: converted, cursor: converted.at(-1)?.seq ?? query.after };
    },

    async image(tenantSlug: string, messageId: string, contactId: string): Promise<StoredFile> {
      const channel = await channelOf(tenantSlug);
      return getConversationImage(deps, { tenantId: channel.tenantId, channelAccountId: channel.channelAccountId, contactExternalId: contactId, messageId });
    },
  };
}

export type WebchatAdapter = ReturnType<typeof createWebchatAdapter>;
