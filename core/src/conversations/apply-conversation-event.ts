import { and, eq, inArray } from 'drizzle-orm';
import { contacts, conversationMessages, type Database } from '@relais/db';
import type { ChannelCapabilities } from '../shared/ports/channel-sender.js';
import type { Clock } from '../shared/ports/clock.js';
import type { ConversationInput } from './conversation-input.js';
import { lockConversationById, uuidFromKey } from './conversation-records.js';
import { readConversationState } from './conversation-state.js';
import { runConversationTurn, type StoredReply } from './run-conversation-turn.js';

/**
 * Feeds something that happened outside the chat (payment pending or failed, voucher ready, a
 * lookup's result) into a conversation, under the same lock as inbound messages so that it is
 * ordered with them. At most once per `eventKey`: its messages get ids derived from the key, and
 * a key whose first message exists was applied already (outbox consumers run at least once).
 * Returns the messages written (none when the conversation is gone or the event was applied).
 */
export async function applyConversationEvent(
  deps: { db: Database; clock: Clock },
  options: {
    tenantId: string;
    conversationId: string;
    input: ConversationInput;
    eventKey: string;
    /** Set only when answering within the customer's request (a lookup): the channel's own, not the stored ones. */
    capabilities?: ChannelCapabilities;
  },
): Promise<StoredReply[]> {
  const { tenantId } = options;
  const now = deps.clock.now();
  return deps.db.withTenant(tenantId, async (tx) => {
    const conversation = await lockConversationById(tx, tenantId, options.conversationId);
    if (!conversation) return [];
    const firstId = uuidFromKey(`${options.eventKey}:0`);
    const applied = await tx
      .select({ id: conversationMessages.id })
      .from(conversationMessages)
      .where(and(eq(conversationMessages.tenantId, tenantId), inArray(conversationMessages.id, [firstId])));
    if (applied.length > 0) return [];
    const [contact] = await tx.select().from(contacts).where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, conversation.contactId)));
    const turn = await runConversationTurn(tx, {
      tenantId,
      conversation,
      contact: contact!,
      state: readConversationState(conversation.state, conversation.mode),
      input: options.input,
      now,
      capabilities: options.capabilities,
      messageIdFor: (index) => uuidFromKey(`${options.eventKey}:${index}`),
    });
    return turn.replies;
  });
}
