import { listChannelAccountsByKind } from '@relais/core';
import { PROCESS_LEASE_OWNER, WhatsAppConnection, type WhatsAppConnectionDeps, type WhatsAppConnectionOptions } from './whatsapp-connection.js';
import type { WhatsAppSocket } from './whatsapp-socket.js';

/** How often a process looks for WhatsApp accounts it does not manage yet (new, or re-paired). */
export const WHATSAPP_RESCAN_EVERY_MS = 60_000;

/**
 * The WhatsApp connections of this process, by channel account: where the sender finds the live
 * socket of a number and the web app its pairing QR. A socket lives in one process only (the
 * lease holder), so this is process memory, not the database.
 */
export class WhatsAppConnections {
  private readonly byAccount = new Map<string, WhatsAppConnection>();

  constructor(readonly owner: string = PROCESS_LEASE_OWNER) {}

  /** Creates and starts the connection of an account, unless this process already runs one. */
  open(deps: WhatsAppConnectionDeps, options: Omit<WhatsAppConnectionOptions, 'owner'>): WhatsAppConnection {
    const running = this.byAccount.get(options.channelAccountId);
    if (running && !running.finished) return running;
    const connection = new WhatsAppConnection(deps, { ...options, owner: this.owner });
    this.byAccount.set(options.channelAccountId, connection);
    connection.start();
    return connection;
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
    const connections = [...this.byAccount.values()];
    this.byAccount.clear();
    await Promise.all(connections.map((connection) => connection.stop()));
  }
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
