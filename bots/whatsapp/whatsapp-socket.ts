import makeWASocket, { Browsers, type AuthenticationState, type BaileysEventMap, type WAMessage } from '@whiskeysockets/baileys';

/**
 * The part of a Baileys socket this adapter uses: the boundary tests put a fake behind. Keep it
 * small: every member here is something the fake must imitate faithfully.
 */
export interface WhatsAppSocket {
  ev: {
    /** Baileys delivers events in batches (buffered while it syncs); one handler sees them all. */
    process(handler: (events: Partial<BaileysEventMap>) => void | Promise<void>): () => void;
  };
  sendMessage(jid: string, content: { text: string } | { image: Buffer; caption?: string; mimetype?: string }): Promise<Pick<WAMessage, 'key'> | undefined>;
  end(error: Error | undefined): void | Promise<void>;
  /** The linked number once paired ("2376...:12@s.whatsapp.net"). */
  readonly user?: { id: string; name?: string } | undefined;
}

/** The logger shape Baileys wants (pino-like). */
export interface BaileysLogger {
  level: string;
  child(bindings: Record<string, unknown>): BaileysLogger;
  trace(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export type MakeWhatsAppSocket = (options: { auth: AuthenticationState; logger: BaileysLogger }) => WhatsAppSocket;

/** Baileys itself. History sync off: old chats must not be answered, and they cost memory. */
export const makeBaileysSocket: MakeWhatsAppSocket = ({ auth, logger }) =>
  makeWASocket({
    auth,
    logger,
    browser: Browsers.ubuntu('Relais'),
    syncFullHistory: false,
    // Staying "offline" keeps the reseller's phone ringing for the customers' messages.
    markOnlineOnConnect: false,
  }) as unknown as WhatsAppSocket;
