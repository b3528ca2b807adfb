import { BufferJSON, initAuthCreds, proto, type AuthenticationCreds, type AuthenticationState, type SignalDataSet, type SignalDataTypeMap } from '@whiskeysockets/baileys';
import { clearWhatsAppAuthState, loadWhatsAppAuthState, saveWhatsAppAuthEntries, type SecretBox } from '@relais/core';
import type { Database } from '@relais/db';

const CREDS_CATEGORY = 'creds';
const CREDS_KEY = 'creds';

export interface WhatsAppAuthStore {
  /** What makeWASocket takes as `auth`: creds in memory, keys read and written through to the database. */
  state: AuthenticationState;
  /** Writes the current creds (after every creds.update). */
  saveCreds(): Promise<void>;
  /** Forgets the session (logged out): the next connection pairs again. */
  clear(): Promise<void>;
}

/**
 * Baileys' auth state kept in PostgreSQL through core's sealed key-value store (instead of
 * useMultiFileAuthState, which Baileys itself says is not for production). Values are
 * serialised with BufferJSON (keys are Buffers); null in keys.set deletes. Writes of one number
 * go out one after another, in call order: a later set of a key never loses to an earlier one.
 */
export async function openWhatsAppAuthStore(
  deps: { db: Database; secrets: SecretBox },
  account: { tenantId: string; channelAccountId: string },
): Promise<WhatsAppAuthStore> {
  const stored = await loadWhatsAppAuthState(deps, { ...account, category: CREDS_CATEGORY, keyIds: [CREDS_KEY] });
  const creds: AuthenticationCreds = stored[CREDS_KEY] ? (JSON.parse(stored[CREDS_KEY], BufferJSON.reviver) as AuthenticationCreds) : initAuthCreds();

  let writes: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(write: () => Promise<T>): Promise<T> => {
    const run = writes.then(write);
    writes = run.catch(() => undefined);
    return run;
  };

  const state: AuthenticationState = {
    creds,
    keys: {
      async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
        // Reads wait for pending writes: Baileys reads back what it has just set.
        await writes;
        const values = await loadWhatsAppAuthState(deps, { ...account, category: type, keyIds: ids });
        const result: { [id: string]: SignalDataTypeMap[T] } = {};
        for (const [id, text] of Object.entries(values)) {
          let value: unknown = JSON.parse(text, BufferJSON.reviver);
          // Baileys expects the protobuf class here, not a plain object.
          if (type === 'app-state-sync-key' && value) value = proto.Message.AppStateSyncKeyData.fromObject(value as object);
          result[id] = value as SignalDataTypeMap[T];
        }
        return result;
      },
      async set(data: SignalDataSet) {
        const entries: { category: string; keyId: string; value: string | null }[] = [];
        for (const [category, values] of Object.entries(data)) {
          for (const [keyId, value] of Object.entries(values ?? {})) {
            entries.push({ category, keyId, value: value === null || value === undefined ? null : JSON.stringify(value, BufferJSON.replacer) });
          }
        }
        await inOrder(() => saveWhatsAppAuthEntries(deps, { ...account, entries }));
      },
    },
  };

  return {
    state,
    saveCreds: () =>
      inOrder(() => saveWhatsAppAuthEntries(deps, { ...account, entries: [{ category: CREDS_CATEGORY, keyId: CREDS_KEY, value: JSON.stringify(creds, BufferJSON.replacer) }] })),
    clear: () => inOrder(async () => void (await clearWhatsAppAuthState(deps, account))),
  };
}
