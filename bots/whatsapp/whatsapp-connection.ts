import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { DisconnectReason, type BaileysEventMap, type WAMessage } from '@whiskeysockets/baileys';
import QRCode from 'qrcode';
import {
  acquireChannelLease,
  CHANNEL_LEASE_MS,
  CHANNEL_LEASE_RENEW_EVERY_MS,
  handleInboundMessage,
  loadChannelAccount,
  MAX_INBOUND_FILE_READ_BYTES,
  releaseChannelLease,
  renewChannelLease,
  setChannelAccountStatus,
  type Clock,
  type FileStore,
  type InboundFile,
  type SecretBox,
} from '@relais/core';
import type { Database } from '@relais/db';
import { openWhatsAppAuthStore, type WhatsAppAuthStore } from './whatsapp-auth-store.js';
import { WHATSAPP_CAPABILITIES } from './whatsapp-capabilities.js';
import { inboundOfWhatsAppMessage, type WhatsAppMedia } from './whatsapp-inbound.js';
import { makeBaileysSocket, type BaileysLogger, type MakeWhatsAppSocket, type WhatsAppSocket } from './whatsapp-socket.js';

/** What the connection is doing, for the web app and the CLI. */
export type WhatsAppConnectionState =
  | 'idle'
  /** Another process holds the number's lease: we poll until it lapses. */
  | 'waiting_for_lease'
  | 'connecting'
  /** Not linked yet: `qr` holds the code to scan in WhatsApp > Linked devices. */
  | 'pairing'
  | 'open'
  | 'reconnecting'
  /** Unlinked from the phone (401): auth state cleared, channel account in error, no reconnect. */
  | 'logged_out'
  /** WhatsApp refused the number (403, banned or restricted): no reconnect, the reseller must act. */
  | 'forbidden'
  /** Another socket took the session (440): stopped, never fought over. */
  | 'replaced'
  /** The channel account is not active (paused, in error): nothing to connect. */
  | 'inactive'
  | 'stopped';

/** Only what our own code logs; Baileys' chatter goes through `baileysLoggerOf`. */
export interface ConnectionLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

export interface WhatsAppConnectionDeps {
  db: Database;
  secrets: SecretBox;
  clock: Clock;
  logger?: ConnectionLogger;
  /** The provider boundary: Baileys' makeWASocket by default, a fake in tests. */
  makeSocket?: MakeWhatsAppSocket;
  /** Waits before a reconnect; tests record the backoff instead of waiting it. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Where customers' files are kept and outbound images read (the connection manager sends them).
   * Without one, media are answered as unreadable and images go as their text.
   */
  fileStore?: FileStore;
}

export interface WhatsAppConnectionOptions {
  tenantId: string;
  channelAccountId: string;
  /** This process in the lease table (default: host/pid/random, one per process). */
  owner?: string;
  leaseMs?: number;
  renewEveryMs?: number;
  /**
   * Connect only while the channel account is active (servers). The pairing CLI connects a
   * paused account: pairing is what makes it active.
   */
  requireActive?: boolean;
  /** Called after each customer message went through the engine (replies are likely due). */
  onInboundHandled?: () => void;
}

const RECONNECT_BASE_MS = 1_000;
const RECONNECT_MAX_MS = 60_000;
const QR_PNG_WIDTH_PX = 360;

/** One identity per process: every connection of this process holds its leases under it. */
export const PROCESS_LEASE_OWNER = `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;

/** Backoff after the `attempt`-th unexpected close: 1 s, 2 s, 4 s... capped at a minute. */
export const whatsappReconnectDelayMs = (attempt: number) => Math.min(RECONNECT_BASE_MS * 2 ** (attempt - 1), RECONNECT_MAX_MS);

/** The status code Baileys puts on a close (a Boom error's output.statusCode). */
function closeCodeOf(update: Partial<BaileysEventMap['connection.update']>): number | undefined {
  const error = update.lastDisconnect?.error as { output?: { statusCode?: unknown } } | undefined;
  const code = error?.output?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Keeps one WhatsApp number (a channel account of kind 'whatsapp') connected through Baileys:
 * holds the number's lease (one process per number), opens the socket with the auth state kept
 * in the database, saves every credential and key change, turns customers' messages into engine
 * turns, and reconnects by the rules WhatsApp imposes: never after a logout (401) or when another
 * socket took the session (440); at once for the restart asked right after pairing (515); with
 * backoff otherwise. Sends go through `socket` (see the WhatsApp sender).
 */
export class WhatsAppConnection {
  readonly tenantId: string;
  readonly channelAccountId: string;
  readonly owner: string;
  private readonly deps: Required<Pick<WhatsAppConnectionDeps, 'makeSocket' | 'sleep'>> & WhatsAppConnectionDeps;
  private readonly leaseMs: number;
  private readonly renewEveryMs: number;
  private readonly requireActive: boolean;
  private readonly onInboundHandled: (() => void) | undefined;
  private currentState: WhatsAppConnectionState = 'idle';
  private currentQr: string | undefined;
  private liveSocket: WhatsAppSocket | undefined;
  private auth: WhatsAppAuthStore | undefined;
  private holdingLease = false;
  private leaseUntilMs = 0;
  private stopping = false;
  private reconnectAttempts = 0;
  private leaseTimer: NodeJS.Timeout | undefined;
  private leaseLoop: Promise<void> = Promise.resolve();
  private inbound: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(state: WhatsAppConnectionState) => void>();

  constructor(deps: WhatsAppConnectionDeps, options: WhatsAppConnectionOptions) {
    this.deps = { ...deps, makeSocket: deps.makeSocket ?? makeBaileysSocket, sleep: deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))) };
    this.tenantId = options.tenantId;
    this.channelAccountId = options.channelAccountId;
    this.owner = options.owner ?? PROCESS_LEASE_OWNER;
    this.leaseMs = options.leaseMs ?? CHANNEL_LEASE_MS;
    this.renewEveryMs = options.renewEveryMs ?? CHANNEL_LEASE_RENEW_EVERY_MS;
    this.requireActive = options.requireActive ?? true;
    this.onInboundHandled = options.onInboundHandled;
  }

  get state(): WhatsAppConnectionState {
    return this.currentState;
  }

  /** The latest pairing code while the number is not linked (WhatsApp rotates it every ~20 s). */
  get qr(): string | undefined {
    return this.currentQr;
  }

  /** The open socket, only while this process holds the number and WhatsApp accepted it. */
  get socket(): WhatsAppSocket | undefined {
    return this.currentState === 'open' ? this.liveSocket : undefined;
  }

  /** True once the connection gave up for good (logout, ban, replaced, inactive) or was stopped. */
  get finished(): boolean {
    return ['logged_out', 'forbidden', 'replaced', 'inactive', 'stopped'].includes(this.currentState);
  }

  /** The pairing QR as a PNG for the web app, or undefined when there is none (linked, or not ours). */
  async pairingQrPng(): Promise<Buffer | undefined> {
    const qr = this.currentQr;
    return qr ? QRCode.toBuffer(qr, { type: 'png', errorCorrectionLevel: 'L', margin: 2, width: QR_PNG_WIDTH_PX }) : undefined;
  }

  /** The pairing QR drawn with text blocks for a terminal (the pairing CLI), or undefined. */
  async pairingQrTerminal(): Promise<string | undefined> {
    const qr = this.currentQr;
    return qr ? QRCode.toString(qr, { type: 'terminal', small: true }) : undefined;
  }

  /** Called on every state change (and on each new QR while pairing); returns the unsubscribe. */
  onChange(listener: (state: WhatsAppConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts taking the lease (at once, then every renewal period) and connecting once held. */
  start(): void {
    if (this.currentState !== 'idle') return;
    this.setState('waiting_for_lease');
    this.scheduleLeaseTick(0);
  }

  /** Closes the socket, lets in-flight inbound messages finish, gives the lease back. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.leaseTimer);
    await this.leaseLoop;
    await this.closeSocket();
    await this.inbound;
    if (this.holdingLease) await this.giveUpLease();
    if (!this.finished) this.setState('stopped');
  }

  private scheduleLeaseTick(delayMs: number): void {
    if (this.stopping || this.finished) return;
    this.leaseTimer = setTimeout(() => {
      this.leaseLoop = this.leaseTick().finally(() => this.scheduleLeaseTick(this.renewEveryMs));
    }, delayMs);
    this.leaseTimer.unref?.();
  }

  private async leaseTick(): Promise<void> {
    if (this.stopping || this.finished) return;
    const options = { tenantId: this.tenantId, channelAccountId: this.channelAccountId, owner: this.owner, leaseMs: this.leaseMs };
    try {
      const lease = this.holdingLease ? await renewChannelLease(this.deps, options) : await acquireChannelLease(this.deps, options);
      if (this.stopping) return;
      if (!lease.acquired) {
        if (this.holdingLease) {
          // Our lease lapsed and another process took the number: two sockets would fight (440).
          this.deps.logger?.warn({ channelAccountId: this.channelAccountId }, 'WhatsApp lease lost to another process; disconnecting');
          this.holdingLease = false;
          await this.closeSocket();
        }
        this.setState('waiting_for_lease');
        return;
      }
      this.leaseUntilMs = lease.leaseUntil.getTime();
      if (!this.holdingLease) {
        this.holdingLease = true;
        try {
          await this.connectIfActive();
        } catch (error) {
          // Could not even start (database down): let go, so this or another process tries again.
          this.deps.logger?.error({ channelAccountId: this.channelAccountId, err: errorName(error) }, 'WhatsApp connection could not start');
          await this.closeSocket();
          await this.giveUpLease();
          this.setState('waiting_for_lease');
        }
      }
    } catch (error) {
      this.deps.logger?.error({ channelAccountId: this.channelAccountId, err: errorName(error) }, 'WhatsApp lease renewal failed');
      // Unsure whether we still hold it: past its end, someone else may, so our socket must go.
      if (this.holdingLease && this.deps.clock.now().getTime() >= this.leaseUntilMs) {
        this.holdingLease = false;
        await this.closeSocket();
        this.setState('waiting_for_lease');
      }
    }
  }

  private async connectIfActive(): Promise<void> {
    if (this.requireActive) {
      const account = await loadChannelAccount(this.deps, { tenantId: this.tenantId, channelAccountId: this.channelAccountId });
      if (account.status !== 'active') {
        await this.giveUpLease();
        this.setState('inactive');
        return;
      }
    }
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopping || !this.holdingLease) return;
    this.setState(this.reconnectAttempts > 0 ? 'reconnecting' : 'connecting');
    // The same store across reconnects: its creds object and its pending writes carry over (the
    // restart after pairing must see the credentials just saved).
    const auth = this.auth ?? (await openWhatsAppAuthStore(this.deps, { tenantId: this.tenantId, channelAccountId: this.channelAccountId }));
    this.auth = auth;
    if (this.stopping || !this.holdingLease) return;
    const socket = this.deps.makeSocket({ auth: auth.state, logger: baileysLoggerOf(this.deps.logger, { channelAccountId: this.channelAccountId }) });
    this.liveSocket = socket;
    socket.ev.process(async (events) => {
      // Events of a socket we have replaced or closed are stale: its successor speaks now.
      if (socket !== this.liveSocket) return;
      try {
        if (events['creds.update']) await this.saveCreds(auth, events['creds.update']);
        if (events['messages.upsert']) this.onMessages(socket, events['messages.upsert']);
        if (events['connection.update']) await this.onConnectionUpdate(socket, events['connection.update']);
      } catch (error) {
        this.deps.logger?.error({ channelAccountId: this.channelAccountId, err: errorName(error) }, 'WhatsApp event not handled');
      }
    });
  }

  private async saveCreds(auth: WhatsAppAuthStore, update: BaileysEventMap['creds.update']): Promise<void> {
    // Baileys merges the update into creds itself; merging again keeps a fake socket honest too.
    Object.assign(auth.state.creds, update);
    try {
      await auth.saveCreds();
    } catch (error) {
      this.deps.logger?.error({ channelAccountId: this.channelAccountId, err: errorName(error) }, 'WhatsApp credentials could not be saved');
    }
  }

  private async onConnectionUpdate(socket: WhatsAppSocket, update: BaileysEventMap['connection.update']): Promise<void> {
    if (update.qr) {
      this.currentQr = update.qr;
      this.setState('pairing');
    }
    if (update.connection === 'open') {
      this.currentQr = undefined;
      this.reconnectAttempts = 0;
      this.setState('open');
      this.deps.logger?.info({ channelAccountId: this.channelAccountId }, 'WhatsApp connected');
      await setChannelAccountStatus(this.deps, { tenantId: this.tenantId, channelAccountId: this.channelAccountId, status: 'active' }).catch((error: unknown) =>
        this.deps.logger?.error({ channelAccountId: this.channelAccountId, err: errorName(error) }, 'could not mark the WhatsApp channel active'),
      );
    }
    if (update.connection === 'close') {
      if (socket === this.liveSocket) this.liveSocket = undefined;
      await this.onClose(closeCodeOf(update));
    }
  }

  private async onClose(code: number | undefined): Promise<void> {
    if (this.stopping) return;
    const log = { channelAccountId: this.channelAccountId, code };
    if (code === DisconnectReason.loggedOut) {
      // Unlinked from the phone: the session is worthless; the reseller pairs again.
      this.deps.logger?.warn(log, 'WhatsApp logged out: auth state cleared, channel set to error');
      await this.auth?.clear();
      this.auth = undefined;
      await setChannelAccountStatus(this.deps, { tenantId: this.tenantId, channelAccountId: this.channelAccountId, status: 'error' });
      await this.giveUpLease();
      this.setState('logged_out');
      return;
    }
    if (code === DisconnectReason.forbidden) {
      this.deps.logger?.warn(log, 'WhatsApp refused the number (403): channel set to error, not reconnecting');
      await setChannelAccountStatus(this.deps, { tenantId: this.tenantId, channelAccountId: this.channelAccountId, status: 'error' });
      await this.giveUpLease();
      this.setState('forbidden');
      return;
    }
    if (code === DisconnectReason.connectionReplaced) {
      // Someone else connected with this session. Reconnecting would kick them off and be kicked
      // back, forever. Stop renewing and release nothing: the lease lapses on its own.
      this.deps.logger?.warn(log, 'WhatsApp session taken by another socket (440): stopped, not reconnecting');
      clearTimeout(this.leaseTimer);
      this.holdingLease = false;
      this.setState('replaced');
      return;
    }
    if (code === DisconnectReason.restartRequired) {
      // Expected right after pairing: WhatsApp wants a fresh socket with the new credentials.
      await this.connect();
      return;
    }
    this.reconnectAttempts += 1;
    const delayMs = whatsappReconnectDelayMs(this.reconnectAttempts);
    this.deps.logger?.warn({ ...log, delayMs }, 'WhatsApp connection closed; reconnecting');
    this.setState('reconnecting');
    await this.deps.sleep(delayMs);
    await this.connect();
  }

  private onMessages(socket: WhatsAppSocket, upsert: BaileysEventMap['messages.upsert']): void {
    // 'append' is history and our own other devices: answering it would message people out of the blue.
    if (upsert.type !== 'notify') return;
    for (const message of upsert.messages) {
      const inbound = inboundOfWhatsAppMessage(message, this.deps.clock.now());
      if (!inbound) continue;
      const { media, ...turn } = inbound;
      // One at a time, in arrival order: a customer's two quick messages get ordered replies.
      this.inbound = this.inbound.then(async () => {
        try {
          const file = media ? await this.fileOf(socket, message, media) : undefined;
          await handleInboundMessage(this.deps, {
            tenantId: this.tenantId,
            channelAccountId: this.channelAccountId,
            ...turn,
            // With the file, its caption is the text; without, the "cannot read this" placeholder.
            ...(file && media ? { file, text: media.caption } : {}),
            capabilities: WHATSAPP_CAPABILITIES,
          });
          this.onInboundHandled?.();
        } catch (error) {
          // Never the text or the number: only which message failed and how.
          this.deps.logger?.error({ channelAccountId: this.channelAccountId, messageId: inbound.providerMessageId, err: errorName(error) }, 'WhatsApp message not handled');
        }
      });
    }
  }

  /**
   * A customer's photo, document or voice note, downloaded through the socket up to the limit + 1
   * byte (core refuses what reaches it); nothing is downloaded when WhatsApp announced a larger
   * size. Undefined when it cannot be had (no file store, no download, WhatsApp failed): Baileys
   * does not deliver a message twice, so the customer is answered as for anything unreadable.
   */
  private async fileOf(socket: WhatsAppSocket, message: WAMessage, media: WhatsAppMedia): Promise<InboundFile | undefined> {
    if (!this.deps.fileStore || !socket.downloadMedia) return undefined;
    const fileName = media.fileName ? { fileName: media.fileName } : {};
    if (media.declaredSize !== undefined && media.declaredSize >= MAX_INBOUND_FILE_READ_BYTES) return { tooLarge: true, ...fileName };
    try {
      return { bytes: await socket.downloadMedia(message, MAX_INBOUND_FILE_READ_BYTES), ...fileName };
    } catch (error) {
      this.deps.logger?.warn({ channelAccountId: this.channelAccountId, messageId: message.key?.id, err: errorName(error) }, 'WhatsApp media could not be downloaded');
      return undefined;
    }
  }

  /** Resolves once every message received so far went through the engine. */
  async settled(): Promise<void> {
    await this.inbound;
  }

  private async closeSocket(): Promise<void> {
    const socket = this.liveSocket;
    this.liveSocket = undefined;
    if (!socket) return;
    try {
      await socket.end(undefined);
    } catch {
      // Closing a socket that is already gone is fine.
    }
  }

  private async giveUpLease(): Promise<void> {
    clearTimeout(this.leaseTimer);
    if (!this.holdingLease) return;
    this.holdingLease = false;
    await releaseChannelLease(this.deps, { channelAccountId: this.channelAccountId, owner: this.owner }).catch((error: unknown) =>
      this.deps.logger?.error({ channelAccountId: this.channelAccountId, err: errorName(error) }, 'WhatsApp lease not released (it lapses on its own)'),
    );
  }

  private setState(state: WhatsAppConnectionState): void {
    const changed = state !== this.currentState || state === 'pairing';
    this.currentState = state;
    if (changed) for (const listener of this.listeners) listener(state);
  }
}

function errorName(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.name : 'Error';
}

/**
 * Baileys logs at trace/debug level with keys and message contents: only warnings and errors
 * pass, and only their message text, never the objects beside them.
 */
export function baileysLoggerOf(logger: ConnectionLogger | undefined, bindings: Record<string, unknown>): BaileysLogger {
  const textOf = (args: unknown[]) => {
    const text = args.find((arg): arg is string => typeof arg === 'string');
    return (text ?? 'baileys').slice(0, 200);
  };
  const ignore = () => {};
  const make = (): BaileysLogger => ({
    level: 'warn',
    child: () => make(),
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: (...args) => logger?.warn({ ...bindings, component: 'baileys' }, textOf(args)),
    error: (...args) => logger?.error({ ...bindings, component: 'baileys' }, textOf(args)),
  });
  return make();
}
