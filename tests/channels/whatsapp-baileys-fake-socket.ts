import type { AuthenticationState, BaileysEventMap, WAMessage } from '@whiskeysockets/baileys';
import type { MakeWhatsAppSocket, WhatsAppSocket } from '@relais/bots/whatsapp';

/**
 * A stand-in for Baileys' socket at its event boundary (the provider, not our code): the `ev`
 * emitter with `process`, `sendMessage`, `end`, `user`. Tests play WhatsApp's side by emitting
 * what Baileys would (connection.update, creds.update, messages.upsert) and by writing keys
 * through the auth state it was given, as Baileys' signal repository does.
 */
export class FakeBaileysSocket implements WhatsAppSocket {
  readonly sent: { jid: string; content: Parameters<WhatsAppSocket['sendMessage']>[1]; id: string }[] = [];
  ended = false;
  user: { id: string; name?: string } | undefined;
  private readonly handlers: ((events: Partial<BaileysEventMap>) => void | Promise<void>)[] = [];
  private nextId = 1;

  constructor(readonly auth: AuthenticationState) {
    this.user = auth.creds.me ? { id: auth.creds.me.id } : undefined;
  }

  readonly ev = {
    process: (handler: (events: Partial<BaileysEventMap>) => void | Promise<void>) => {
      this.handlers.push(handler);
      return () => this.handlers.splice(this.handlers.indexOf(handler), 1);
    },
  };

  /** One batch of events, as Baileys' buffer flushes them; resolves when the handlers have. */
  async emit(events: Partial<BaileysEventMap>): Promise<void> {
    for (const handler of this.handlers) await handler(events);
  }

  open(): Promise<void> {
    return this.emit({ 'connection.update': { connection: 'open' } });
  }

  /** Closes as Baileys does: a Boom error whose output.statusCode says why. */
  close(statusCode: number): Promise<void> {
    const error = Object.assign(new Error(`closed ${statusCode}`), { isBoom: true, output: { statusCode, payload: {} } });
    return this.emit({ 'connection.update': { connection: 'close', lastDisconnect: { error, date: new Date() } } });
  }

  /** A customer's message arriving (type notify), with Baileys' key and pushName. */
  receive(messages: Partial<WAMessage>[], type: 'notify' | 'append' = 'notify'): Promise<void> {
    return this.emit({ 'messages.upsert': { messages: messages as WAMessage[], type } });
  }

  async sendMessage(jid: string, content: Parameters<WhatsAppSocket['sendMessage']>[1]) {
    if (this.ended) throw Object.assign(new Error('Connection Closed'), { isBoom: true, output: { statusCode: 428, payload: {} } });
    const id = `3EB0${String(this.nextId++).padStart(16, '0')}`;
    this.sent.push({ jid, content, id });
    return { key: { id, remoteJid: jid, fromMe: true } };
  }

  end(): void {
    this.ended = true;
  }
}

/** makeSocket for WhatsAppConnection, remembering every socket it made. */
export function fakeBaileys(): { makeSocket: MakeWhatsAppSocket; sockets: FakeBaileysSocket[]; latest(): FakeBaileysSocket } {
  const sockets: FakeBaileysSocket[] = [];
  return {
    sockets,
    makeSocket: ({ auth }) => {
      const socket = new FakeBaileysSocket(auth);
      sockets.push(socket);
      return socket;
    },
    latest: () => {
      const socket = sockets.at(-1);
      if (!socket) throw new Error('no socket was made');
      return socket;
    },
  };
}

let messageCounter = 0;
/** A text message from a customer's chat, shaped as Baileys delivers it. */
export function customerText(jid: string, text: string, options: { id?: string; pushName?: string; fromMe?: boolean; remoteJidAlt?: string } = {}): Partial<WAMessage> {
  messageCounter += 1;
  return {
    key: { remoteJid: jid, fromMe: options.fromMe ?? false, id: options.id ?? `ABCDEF${Date.now()}${messageCounter}`, ...(options.remoteJidAlt ? { remoteJidAlt: options.remoteJidAlt } : {}) },
    message: { conversation: text },
    messageTimestamp: Math.floor(Date.now() / 1000),
    pushName: options.pushName ?? 'Customer',
  };
}

/** The text of a sent message, caption included. */
export function textOfSent(content: Parameters<WhatsAppSocket['sendMessage']>[1]): string {
  return 'text' in content ? content.text : (content.caption ?? '');
}
