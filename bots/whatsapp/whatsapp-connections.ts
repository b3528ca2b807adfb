import { createMessagePacer, deliverPendingMessages, listChannelAccountsByKind, type ChannelSender, type FileStore, type SendingChannelAccount } from '@relais/core';
import { PROCESS_LEASE_OWNER, WhatsAppConnection, type WhatsAppConnectionDeps, type WhatsAppConnectionOptions } from './whatsapp-connection.js';
import { createWhatsAppSender } from './whatsapp-sender.js';
import type { WhatsAppSocket } from './whatsapp-socket.js';

/** How often a process looks for WhatsApp accounts it does not manage yet (new, or re-paired). */
export const WHATSAPP_RESCAN_EVERY_MS = 60_000;
/** How often the owner of numbers sends their due messages (also right after each customer turn). */
export const WHATSAPP_DELIVER_EVERY_MS = 2_000;
/** A delivery run stops claiming after this long: a number lost meanwhile is not claimed for much longer. */
const DELIVERY_RUN_FOR_MS = 1_500;

export interface WhatsAppConnectionsOptions {
  /**
   * Send the due messages of the numbers this process holds (default true). Off for the pairing
   * CLI: a short-lived process must not claim messages it may leave half-sent.
   */
  deliver?: boolean;
  deliverEveryMs?: number;
}

/** Without a file store (callers that predate it), images are read as missing: sent as their text. */
const NO_FILES: FileStore = { get: async () => undefined, put: async () => {}, delete: async () => {} };

/**
 * The WhatsApp connections of this process, by channel account: where the sender finds the live
 * socket of a number and the web app its pairing QR. A socket lives in one process only (the
 * lease holder), so this is process memory, not the database.
 */
export class WhatsAppConnections {
  private readonly byAccount = new Map<string, WhatsAppConnection>();
  private readonly deliver: boolean;
  private readonly deliverEveryMs: number;
  /** One per process: a chat's pacing spans delivery runs. */
  private readonly pacer = createMessagePacer();
  private readonly senders = new Map<string, ChannelSender>();
  private deliveryDeps: WhatsAppConnectionDeps | undefined;
  private deliveryTimer: NodeJS.Timeout | undefined;
  private delivering: Promise<void> | undefined;
  private deliverAgain = false;
  private closed = false;

  constructor(
    readonly owner: string = PROCESS_LEASE_OWNER,
    options: WhatsAppConnectionsOptions = {},
  ) {
    this.deliver = options.deliver ?? true;
    this.deliverEveryMs = options.deliverEveryMs ?? WHATSAPP_DELIVER_EVERY_MS;
  }

  /** Creates and starts the connection of an account, unless this process already runs one. */
  open(deps: WhatsAppConnectionDeps, options: Omit<WhatsAppConnectionOptions, 'owner'>): WhatsAppConnection {
    const running = this.byAccount.get(options.channelAccountId);
    if (running && !running.finished) return running;
    this.closed = false;
    const connection = new WhatsAppConnection(deps, {
      ...options,
      owner: this.owner,
      // A customer's turn usually leaves replies due: send them now, not at the next tick.
      onInboundHandled: () => this.deliverSoon(),
    });
    // Messages that waited while the number was away (or held by another process) go at once.
    connection.onChange((state) => state === 'open' && this.deliverSoon());
    this.byAccount.set(options.channelAccountId, connection);
    if (this.deliver) {
      this.deliveryDeps = deps;
      this.scheduleDelivery();
    }
    connection.start();
    return connection;
  }

  /** The numbers whose messages this process sends now: those it holds with an open socket. */
  get deliveringFor(): string[] {
    return [...this.byAccount.values()].filter((connection) => connection.socket).map((connection) => connection.channelAccountId);
  }

  /**
   * Sends the due messages of the numbers this process holds, and only theirs (the generic
   * delivery job leaves kind 'whatsapp' alone). One run at a time per process; a request during a
   * run gets one more run right after it.
   */
  deliverNow(): Promise<void> {
    if (!this.deliver) return Promise.resolve();
    if (this.delivering) {
      this.deliverAgain = true;
      return this.delivering;
    }
    this.delivering = (async () => {
      do {
        this.deliverAgain = false;
        await this.deliverOnce();
      } while (this.deliverAgain && !this.closed);
    })().finally(() => {
      this.delivering = undefined;
    });
    return this.delivering;
  }

  private deliverSoon(): void {
    if (!this.closed) void this.deliverNow();
  }

  private async deliverOnce(): Promise<void> {
    const deps = this.deliveryDeps;
    const channelAccountIds = this.deliveringFor;
    if (!deps || channelAccountIds.length === 0) return;
    try {
      const report = await deliverPendingMessages(
        {
          db: deps.db,
          clock: deps.clock,
          fileStore: deps.fileStore ?? NO_FILES,
          pacer: this.pacer,
          senderFor: (account) => this.senderOf(account),
          // ChannelSendError messages are built to be safe to log (no message text, no number).
          onError: (error, message) => deps.logger?.warn({ err: errorName(error), ...message }, 'WhatsApp message delivery failed'),
        },
        { channelAccountIds, runForMs: DELIVERY_RUN_FOR_MS },
      );
      if (report.sent + report.retried + report.dead > 0) deps.logger?.info({ sent: report.sent, retried: report.retried, dead: report.dead }, 'WhatsApp messages delivered');
    } catch (error) {
      deps.logger?.error({ err: errorName(error) }, 'WhatsApp delivery run failed');
    }
  }

  /** The sender of a number: reads its live socket at send time (it changes on every reconnect). */
  private senderOf(account: SendingChannelAccount): ChannelSender | undefined {
    if (account.kind !== 'whatsapp') return undefined;
    let sender = this.senders.get(account.id);
    if (!sender) {
      sender = createWhatsAppSender({ socketOf: () => this.socketOf(account.id) });
      this.senders.set(account.id, sender);
    }
    return sender;
  }

  private scheduleDelivery(): void {
    if (this.deliveryTimer || this.closed) return;
    this.deliveryTimer = setTimeout(() => {
      void this.deliverNow().finally(() => {
        this.deliveryTimer = undefined;
        this.scheduleDelivery();
      });
    }, this.deliverEveryMs);
    this.deliveryTimer.unref?.();
  }

  get(channelAccountId: string): WhatsAppConnection | undefined {
    return this.byAccount.get(channelAccountId);
  }

  /** The open socket of a number, when this process holds it. */
  socketOf(channelAccountId: string): WhatsAppSocket | undefined {
    return this.byAccount.get(channelAccountId)?.socket;
  }

  /** The current pairing QR of a number as PNG, when this process is pairing it. */
  async pairingQrPng(channelAccountId: string): Promise<Buffer | undefined> {
    return this.byAccount.get(channelAccountId)?.pairingQrPng();
  }

  /** Stops one connection (its lease is released). */
  async close(channelAccountId: string): Promise<void> {
    const connection = this.byAccount.get(channelAccountId);
    this.byAccount.delete(channelAccountId);
    await connection?.stop();
  }

  /** Stops every connection of this process: on shutdown, so other processes take the numbers at once. */
  async closeAll(): Promise<void> {
    this.closed = true;
    clearTimeout(this.deliveryTimer);
    this.deliveryTimer = undefined;
    const connections = [...this.byAccount.values()];
    this.byAccount.clear();
    await Promise.all(connections.map((connection) => connection.stop()));
    // A run in flight settles what it claimed (failing sends retryably once the sockets are gone).
    await this.delivering;
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

/** The process's connections: what `relais serve`/`relais worker` start and the sender reads. */
export const processWhatsAppConnections = new WhatsAppConnections();

/**
 * Keeps a connection running for every active WhatsApp account: at once, then every minute
 * (accounts added or re-paired meanwhile). Each connection waits for its number's lease, so
 * several processes may run this: each number is connected by exactly one of them, and another
 * takes over when that one dies. Returns the stop function (closes every connection).
 */
export function startWhatsAppConnections(
  deps: WhatsAppConnectionDeps,
  options: { connections?: WhatsAppConnections; rescanEveryMs?: number } = {},
): { scanned: Promise<void>; stop(): Promise<void> } {
  const connections = options.connections ?? processWhatsAppConnections;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const scan = async () => {
    try {
      const accounts = await listChannelAccountsByKind(deps, { kind: 'whatsapp', status: 'active' });
      for (const account of accounts) {
        if (stopped) return;
        const running = connections.get(account.id);
        if (running && !running.finished) continue;
        connections.open(deps, { tenantId: account.tenantId, channelAccountId: account.id, requireActive: true });
      }
    } catch (error) {
      deps.logger?.error({ err: error instanceof Error ? error.name : 'Error' }, 'WhatsApp accounts could not be listed');
    }
  };
  const scanned = scan();
  const again = () => {
    if (stopped) return;
    timer = setTimeout(() => void scan().finally(again), options.rescanEveryMs ?? WHATSAPP_RESCAN_EVERY_MS);
    timer.unref?.();
  };
  void scanned.finally(again);
  return {
    scanned,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await scanned;
      await connections.closeAll();
    },
  };
}
