import { and, asc, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import { channelAccounts, contactIdentities, conversationMessages, conversations, type Database, type Tx } from '@relais/db';
import { AppError } from '../shared/app-error.js';
import { parseInput } from '../shared/parse-input.js';
import type { FileStore, StoredFile } from '../shared/ports/file-store.js';
import type { OutboundMessageBody } from '../shared/ports/channel-sender.js';

const conversationOfIdentity = z.object({
  tenantId: z.uuid(),
  channelAccountId: z.uuid(),
  /** The customer's identity on the channel (contact_identities.external_id). */
  contactExternalId: z.string().min(1).max(200),
});

const listConversationMessagesInput = conversationOfIdentity.extend({
  afterSeq: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(200).default(50),
});

export interface ConversationMessage {
  id: string;
  seq: number;
  from: 'customer' | 'bot';
  body: OutboundMessageBody;
  createdAt: Date;
}

async function conversationIdOf(tx: Tx, input: z.output<typeof conversationOfIdentity>): Promise<string | undefined> {
  const [row] = await tx
    .select({ id: conversations.id })
    .from(conversations)
    .innerJoin(channelAccounts, and(eq(channelAccounts.tenantId, conversations.tenantId), eq(channelAccounts.id, conversations.channelAccountId)))
    .innerJoin(
      contactIdentities,
      and(
        eq(contactIdentities.tenantId, conversations.tenantId),
        eq(contactIdentities.contactId, conversations.contactId),
        eq(contactIdentities.channelKind, channelAccounts.kind),
      ),
    )
    .where(and(eq(conversations.tenantId, input.tenantId), eq(conversations.channelAccountId, input.channelAccountId), eq(contactIdentities.externalId, input.contactExternalId)));
  return row?.id;
}

/**
 * The messages of the conversation a channel identity has on an account, after a cursor (`seq`),
 * oldest first: what an in-session channel (web chat polling) hands to the customer.
 */
export async function listConversationMessages(deps: { db: Database }, options: z.input<typeof listConversationMessagesInput>): Promise<ConversationMessage[]> {
  const input = parseInput(listConversationMessagesInput, options);
  return deps.db.withTenant(input.tenantId, async (tx) => {
    const conversationId = await conversationIdOf(tx, input);
    if (!conversationId) return [];
    const rows = await tx
      .select()
      .from(conversationMessages)
      .where(and(eq(conversationMessages.tenantId, input.tenantId), eq(conversationMessages.conversationId, conversationId), gt(conversationMessages.seq, input.afterSeq)))
      .orderBy(asc(conversationMessages.seq))
      .limit(input.limit);
    return rows.map((row) => ({
      id: row.id,
      seq: Number(row.seq),
      from: row.direction === 'inbound' ? ('customer' as const) : ('bot' as const),
      body: row.body as OutboundMessageBody,
      createdAt: row.createdAt,
    }));
  });
}

const getConversationImageInput = conversationOfIdentity.extend({ messageId: z.uuid() });

/** The image of one message, only to the conversation it was sent in (NOT_FOUND otherwise, never FORBIDDEN: no probing). */
export async function getConversationImage(deps: { db: Database; fileStore: FileStore }, options: z.input<typeof getConversationImageInput>): Promise<StoredFile> {
  const input = parseInput(getConversationImageInput, options);
  const fileKey = await deps.db.withTenant(input.tenantId, async (tx) => {
    const conversationId = await conversationIdOf(tx, input);
    if (!conversationId) return undefined;
    const [row] = await tx
      .select({ body: conversationMessages.body })
      .from(conversationMessages)
      .where(
        and(
          eq(conversationMessages.tenantId, input.tenantId),
          eq(conversationMessages.conversationId, conversationId),
          eq(conversationMessages.id, input.messageId),
          eq(conversationMessages.direction, 'outbound'),
        ),
      );
    return (row?.body as OutboundMessageBody | undefined)?.image?.fileKey;
  });
  const file = fileKey ? await deps.fileStore.get(fileKey) : undefined;
  if (!file) throw new AppError('NOT_FOUND', 'no such image');
  return file;
}
