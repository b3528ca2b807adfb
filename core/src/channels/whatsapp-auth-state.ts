import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { whatsappAuthState, type Database } from '@relais/db';
import { parseInput } from '../shared/parse-input.js';
import type { SecretBox } from '../shared/secret-box.js';

/**
 * The WhatsApp (Baileys) session of one number, as a sealed key-value store: the credentials
 * (category 'creds') and the Signal keys (pre-key, session, sender-key, app-state-sync-key,
 * lid-mapping, device-list, tctoken...). Values are opaque strings here: the adapter serialises
 * them (BufferJSON); core never sees a Baileys type. Every value is sealed with APP_KEY, the
 * tenant id bound as associated data, because the session is as good as the phone itself.
 */

const MAX_KEY_ID_LENGTH = 500;
/** Rows per statement: Baileys uploads hundreds of pre-keys at once, and parameters are capped. */
const WRITE_CHUNK_ROWS = 200;

const accountInput = z.object({ tenantId: z.uuid(), channelAccountId: z.uuid() });
const category = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a lowercase key type such as creds or pre-key');
const keyId = z.string().min(1).max(MAX_KEY_ID_LENGTH);

const loadInput = accountInput.extend({ category, keyIds: z.array(keyId).max(5_000) });

/** The values stored under `keyIds` in `category` (opened); ids with nothing stored are absent. */
export async function loadWhatsAppAuthState(
  deps: { db: Database; secrets: SecretBox },
  options: z.input<typeof loadInput>,
): Promise<Record<string, string>> {
  const input = parseInput(loadInput, options);
  if (input.keyIds.length === 0) return {};
  const rows = await deps.db.withTenant(input.tenantId, (tx) =>
    tx
      .select({ keyId: whatsappAuthState.keyId, valueEnc: whatsappAuthState.valueEnc })
      .from(whatsappAuthState)
      .where(
        and(
          eq(whatsappAuthState.tenantId, input.tenantId),
          eq(whatsappAuthState.channelAccountId, input.channelAccountId),
          eq(whatsappAuthState.category, input.category),
          inArray(whatsappAuthState.keyId, [...new Set(input.keyIds)]),
        ),
      ),
  );
  const values: Record<string, string> = {};
  for (const row of rows) values[row.keyId] = deps.secrets.open(row.valueEnc, input.tenantId);
  return values;
}

const saveInput = accountInput.extend({
  entries: z
    .array(z.object({ category, keyId, value: z.string().nullable() }))
    .max(20_000),
});

/**
 * Writes a batch of entries in one transaction: a string is sealed and upserted, null deletes
 * (Baileys' keys.set contract). Called on every creds.update and keys.set: a session whose keys
 * are not saved at once breaks after a restart (messages stop decrypting).
 */
export async function saveWhatsAppAuthEntries(deps: { db: Database; secrets: SecretBox }, options: z.input<typeof saveInput>): Promise<void> {
  const input = parseInput(saveInput, options);
  if (input.entries.length === 0) return;
  // The last write of a key in a batch wins, as it would in memory.
  const latest = new Map<string, (typeof input.entries)[number]>();
  for (const entry of input.entries) latest.set(`${entry.category}\u0000${entry.keyId}`, entry);
  const upserts = [...latest.values()].filter((entry) => entry.value !== null);
  const deletions = [...latest.values()].filter((entry) => entry.value === null);
  const rows = upserts.map((entry) => ({
    tenantId: input.tenantId,
    channelAccountId: input.channelAccountId,
    category: entry.category,
    keyId: entry.keyId,
    valueEnc: deps.secrets.seal(entry.value!, input.tenantId),
  }));

  await deps.db.withTenant(input.tenantId, async (tx) => {
    for (let start = 0; start < rows.length; start += WRITE_CHUNK_ROWS) {
      await tx
        .insert(whatsappAuthState)
        .values(rows.slice(start, start + WRITE_CHUNK_ROWS))
        .onConflictDoUpdate({
          target: [whatsappAuthState.tenantId, whatsappAuthState.channelAccountId, whatsappAuthState.category, whatsappAuthState.keyId],
          set: { valueEnc: sql`excluded.value_enc`, updatedAt: sql`now()` },
        });
    }
    const byCategory = new Map<string, string[]>();
    for (const entry of deletions) byCategory.set(entry.category, [...(byCategory.get(entry.category) ?? []), entry.keyId]);
    for (const [deletedCategory, keyIds] of byCategory) {
      for (let start = 0; start < keyIds.length; start += WRITE_CHUNK_ROWS) {
        await tx
          .delete(whatsappAuthState)
          .where(
            and(
              eq(whatsappAuthState.tenantId, input.tenantId),
              eq(whatsappAuthState.channelAccountId, input.channelAccountId),
              eq(whatsappAuthState.category, deletedCategory),
              inArray(whatsappAuthState.keyId, keyIds.slice(start, start + WRITE_CHUNK_ROWS)),
            ),
          );
      }
    }
  });
}

/**
 * Forgets the number's session (logged out from the phone, or unlinked): the next connection
 * starts a fresh pairing with a new QR code. Returns how many entries were removed.
 */
export async function clearWhatsAppAuthState(deps: { db: Database }, options: z.input<typeof accountInput>): Promise<number> {
  const input = parseInput(accountInput, options);
  const removed = await deps.db.withTenant(input.tenantId, (tx) =>
    tx
      .delete(whatsappAuthState)
      .where(and(eq(whatsappAuthState.tenantId, input.tenantId), eq(whatsappAuthState.channelAccountId, input.channelAccountId)))
      .returning({ id: whatsappAuthState.id }),
  );
  return removed.length;
}
