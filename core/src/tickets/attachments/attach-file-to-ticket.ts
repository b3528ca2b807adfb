import { z } from 'zod';
import type { Database } from '@relais/db';
import { parseInput } from '../../shared/parse-input.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { FileStore } from '../../shared/ports/file-store.js';
import { assertMayActOnTicket } from '../ticket-actor.js';
import { storeTicketAttachment } from './store-ticket-attachment.js';

const attachFileInput = z.object({
  tenantId: z.uuid(),
  userId: z.uuid(),
  ticketId: z.uuid(),
  messageId: z.uuid().optional(),
  fileName: z.string().max(255).optional(),
  bytes: z.instanceof(Buffer),
});

/** An agent attaches a file to a ticket (or to one of its messages). */
export async function attachFileToTicket(
  deps: { db: Database; clock: Clock; fileStore: FileStore },
  options: z.input<typeof attachFileInput>,
): Promise<{ attachmentId: string; contentType: string }> {
  const input = parseInput(attachFileInput, options);
  return deps.db.withTenant(input.tenantId, async (tx) => {
    await assertMayActOnTicket(tx, input.tenantId, { kind: 'user', userId: input.userId }, input.ticketId);
    return storeTicketAttachment(tx, deps.fileStore, { ...input, now: deps.clock.now() });
  });
}
