import makeWASocket, { Browsers, downloadMediaMessage, type AuthenticationState, type BaileysEventMap, type WAMessage } from '@whiskeysockets/baileys';

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
  /**
   * The bytes of a received photo, document or voice note: at most `maxBytes` (the read stops
   * there). Absent: media are answered as messages we cannot read.
   */
  downloadMedia?(message: WAMessage, maxBytes: number): Promise<Buffer>;
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
export const makeBaileysSocket: MakeWhatsAppSocket = ({ auth, logger }) => {
  const socket = makeWASocket({
    auth,
    logger,
    browser: Browsers.ubuntu('Relais'),
    syncFullHistory: false,
    // Staying "offline" keeps the reseller's phone ringing for the customers' messages.
    markOnlineOnConnect: false,
  });
  return {
    ev: socket.ev,
    sendMessage: (jid, content) => socket.sendMessage(jid, content),
    end: (error) => socket.end(error),
    get user() {
      return socket.user;
    },
    // A stream read up to the cap: a 500 MB document is never held in memory. An expired media
    // URL is asked again from the phone (reuploadRequest).
    downloadMedia: async (message, maxBytes) =>
      readAtMost(await downloadMediaMessage(message, 'stream', {}, { reuploadRequest: socket.updateMediaMessage, logger }), maxBytes),
  };
};

/** The first `maxBytes` bytes of a stream, which is then destroyed. */
export async function readAtMost(stream: AsyncIterable<Buffer> & { destroy?(): void }, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= maxBytes) break;
    }
  } finally {
    stream.destroy?.();
  }
  return Buffer.concat(chunks, length).subarray(0, maxBytes);
}
