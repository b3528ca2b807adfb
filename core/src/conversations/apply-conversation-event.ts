import type { Database } from '@relais/db';
import type { ChannelCapabilities } from '../shared/ports/channel-sender.js';
import type { Clock } from '../shared/ports/clock.js';
import type { ConversationInput } from './conversation-input.js';
import { lockConversationById, uuidFromKey } from './conversation-records.js';
import { readConversationState } from './conversation-state.js';
import { CONVERSATION_IDLE_EXPIRY_MS } from './handle-inbound-message.js';
import { runConversationTurn, type StoredReply } from './run-conversation-turn.js';

/**
 * Feeds something that happened outside the chat (payment pending or failed, voucher ready, a
 * notice) into a conversation, under the same lock as inbound messages so that it is
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
    /** Set only when answering within a customer's request: the channel's own, not the stored ones. */
    capabilities?: ChannelCapabilities;
  },
): Promise<StoredReply[]> {
  const { tenantId } = options;
  const now = deps.clock.now();
  return deps.db.withTenant(tenantId, async (tx, { query, queryAndCommit }) => {
    // The turn's write is the transaction's last statement.
    const db = { tx, query, queryAndCommit };
    const locked = await lockConversationById(db, { tenantId, conversationId: options.conversationId, firstMessageId: uuidFromKey(`${options.eventKey}:0`) });
    if (!locked || locked.applied) return [];
    const turn = await runConversationTurn(db, {
      tenantId,
      conversation: locked.conversation,
      contact: locked.contact,
      tenant: locked.tenant,
      state: readConversationState(locked.conversation.state, locked.conversation.mode),
      input: options.input,
      now,
      capabilities: options.capabilities,
      messageIdFor: (index) => uuidFromKey(`${options.eventKey}:${index}`),
      // A question the customer may answer long after their last message: it must not expire at once.
      expiresAt: options.input.kind === 'csat_request' ? new Date(now.getTime() + CONVERSATION_IDLE_EXPIRY_MS) : undefined,
    });
    return turn.replies;
  });
}
