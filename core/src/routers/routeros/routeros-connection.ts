import { RouterOSAPI, RosException } from 'node-routeros';
import { AppError, isAppError } from '../../shared/app-error.js';
import type { RouterConnectionOptions } from '../../shared/ports/router-client.js';
import { ReplySentenceFramer, type FramedSentence } from './reply-sentence-framer.js';
import {
  routerAuthFailed,
  routerCommandFailed,
  routerConnectionError,
  routerProtocolError,
  routerTimedOut,
  routerUnreachable,
  type RouterTarget,
} from './routeros-errors.js';

/**
 * One logged-in RouterOS API connection through node-routeros 1.6.9, guarded against its defects
 * (docs/decisions/007-routeros-client.md):
 * - it throws UNKNOWNREPLY from the socket handler on `!empty` (RouterOS >= 7.18), and throws on
 *   any reply word or tag it does not know: that would crash the process;
 * - it loses the last sentence when its final empty word arrives in a separate TCP chunk;
 * - it emits 'error' after connecting (fatal without a listener) and leaves commands pending
 *   forever when the connection drops; its own timeout only fires on an idle socket.
 * We feed its parser one complete, known sentence at a time (dropping `!empty`, which is always
 * followed by `!done`), listen to every event, and put our own deadline on connect and commands.
 */

/** The parts of node-routeros 1.6.9 we reach into; checked at run time, the version is pinned exactly. */
interface LibraryInternals {
  connector?: {
    receiver?: { processRawData?: (data: Buffer) => void };
    destroy?: () => void;
    on?: (event: string, listener: (...args: unknown[]) => void) => unknown;
  } | null;
  connectionHoldInterval?: NodeJS.Timeout;
  keptaliveby?: NodeJS.Timeout;
}

/** Longer words are not a router talking: 3 MB comments are fine, a random 200 MB length is not. */
const MAX_REPLY_WORD_BYTES = 16 * 1024 * 1024;
/**
 * node-routeros's own idle timeout (it destroys a socket silent this long). Our deadlines are
 * per connect and per command; this only bounds a session left idle between commands.
 */
const LIBRARY_IDLE_TIMEOUT_MS = 120_000;
/** How long close() waits for the router to acknowledge before cutting the socket. */
const CLOSE_GRACE_MS = 1_000;
const KNOWN_REPLIES = new Set(['!re', '!done', '!trap']);

export type RouterRow = Record<string, string>;

export class RouterOsConnection {
  private failure: AppError | undefined;
  private tornDown = false;
  private readonly pending = new Set<(error: AppError) => void>();
  private connector: NonNullable<LibraryInternals['connector']> | undefined;
  private readonly target: RouterTarget;

  private constructor(
    private readonly api: RouterOSAPI,
    private readonly options: RouterConnectionOptions,
  ) {
    this.target = { host: options.host, port: options.port, password: options.password };
  }

  /** Connects and logs in; rejects with ROUTER_UNREACHABLE or ROUTER_AUTH_FAILED. */
  static async open(options: RouterConnectionOptions): Promise<RouterOsConnection> {
    const api = new RouterOSAPI({
      host: options.host,
      port: options.port,
      user: options.username,
      password: options.password,
      timeout: Math.max(LIBRARY_IDLE_TIMEOUT_MS, options.timeoutMs) / 1000,
      // Routers serve self-signed certificates: TLS here encrypts, it does not authenticate (see 007).
      tls: options.tls ? { rejectUnauthorized: false } : undefined,
      keepalive: false,
    });
    const connection = new RouterOsConnection(api, options);
    await connection.start();
    return connection;
  }

  private async start(): Promise<void> {
    // Without these listeners, an 'error' after login would kill the process.
    this.api.on('error', (error: unknown) => this.fail(routerConnectionError(this.target, error, 'session')));
    this.api.on('close', () => this.fail(routerUnreachable(this.target, 'connection_lost', `Router ${this.target.host}:${this.target.port} closed the connection`)));
    let connecting: Promise<unknown> | undefined;
    try {
      connecting = this.api.connect();
      this.guardReplyParser();
    } catch (error) {
      void connecting?.catch(() => undefined); // abandoned: its outcome no longer matters
      const failure = isAppError(error) ? error : routerConnectionError(this.target, error, 'connect');
      this.fail(failure);
      throw failure;
    }
    try {
      await this.withDeadline(connecting, 'to the login', (error) => this.loginError(error));
    } catch (error) {
      this.fail(error as AppError);
      throw error;
    }
  }

  /** Runs one command; resolves with its `!re` rows (and `{ ret }` from `!done =ret=`). */
  async run(command: string, words: readonly string[] = []): Promise<RouterRow[]> {
    if (this.failure) throw this.failure;
    let writing: Promise<unknown>;
    try {
      writing = this.api.write(command, [...words]);
    } catch (error) {
      const lost = routerConnectionError(this.target, error, 'session');
      this.fail(lost);
      throw lost;
    }
    const rows = await this.withDeadline(writing, `to ${command}`, (error) => this.commandError(command, error));
    return rows as RouterRow[];
  }

  /** Ends the session; never rejects. */
  async close(): Promise<void> {
    if (this.failure) {
      this.teardown();
      return;
    }
    this.settleAll(routerUnreachable(this.target, 'closed', 'The router session is closed'));
    let graceTimer: NodeJS.Timeout | undefined;
    const closing = (async () => this.api.close())().catch(() => undefined); // it can also throw synchronously
    await Promise.race([
      closing,
      new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, CLOSE_GRACE_MS))),
    ]);
    clearTimeout(graceTimer);
    this.teardown();
  }

  /** Feeds node-routeros's parser whole sentences it knows; anything else ends the connection, not the process. */
  private guardReplyParser(): void {
    const connector = (this.api as unknown as LibraryInternals).connector ?? undefined;
    const receiver = connector?.receiver;
    const deliver = receiver?.processRawData;
    if (!connector || !receiver || typeof deliver !== 'function') {
      throw new AppError('INTERNAL', 'node-routeros is not the pinned 1.6.9: its reply parser cannot be guarded');
    }
    this.connector = connector;
    const framer = new ReplySentenceFramer(MAX_REPLY_WORD_BYTES);
    receiver.processRawData = (chunk: Buffer) => {
      if (this.failure) return;
      let sentences: FramedSentence[];
      try {
        sentences = framer.push(chunk);
      } catch (error) {
        this.fail(routerProtocolError(this.target, (error as Error).message));
        return;
      }
      for (const sentence of sentences) {
        if (this.failure) return;
        if (sentence.replyWord === '!empty') continue; // RouterOS >= 7.18: no rows; the `!done` that follows ends the command
        if (sentence.replyWord === '!fatal') {
          const why = sentence.secondWord ? `: ${sentence.secondWord}` : '';
          this.fail(routerUnreachable(this.target, 'session_terminated', `Router ${this.target.host}:${this.target.port} ended the API session${why}`));
          return;
        }
        if (!KNOWN_REPLIES.has(sentence.replyWord)) {
          this.fail(routerProtocolError(this.target, 'unknown reply word'));
          return;
        }
        try {
          deliver.call(receiver, sentence.bytes);
        } catch (error) {
          this.fail(routerProtocolError(this.target, error instanceof RosException ? String(error.errno) : 'unreadable reply'));
          return;
        }
      }
    };
  }

  private withDeadline<T>(work: Promise<T>, during: string, mapError: (error: unknown) => AppError): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const settle = (finish: () => void) => {
        clearTimeout(timer);
        this.pending.delete(abort);
        finish();
      };
      const abort = (error: AppError) => settle(() => reject(error));
      const timer = setTimeout(() => this.fail(routerTimedOut(this.target, this.options.timeoutMs, during)), this.options.timeoutMs);
      this.pending.add(abort);
      work.then(
        (value) => settle(() => resolve(value)),
        (error: unknown) => settle(() => reject(isAppError(error) ? error : mapError(error))),
      );
    });
  }

  private loginError(error: unknown): AppError {
    if (error instanceof RosException && error.errno === 'CANTLOGIN') return routerAuthFailed(this.target, this.options.username);
    // A `!trap` to /login comes as a plain Error: a refusal worded otherwise ("not allowed"...).
    if (error instanceof Error && !(error instanceof RosException)) return routerAuthFailed(this.target, this.options.username, error.message);
    if (error instanceof RosException && error.errno === 'SOCKTMOUT') return routerTimedOut(this.target, this.options.timeoutMs, 'to the login');
    return routerConnectionError(this.target, error, 'connect');
  }

  private commandError(command: string, error: unknown): AppError {
    // node-routeros rejects a `!trap` with a plain Error(message); its own failures are RosExceptions.
    if (error instanceof Error && !(error instanceof RosException)) return routerCommandFailed(this.target, command, error.message);
    return routerConnectionError(this.target, error, 'session');
  }

  /** The connection is unusable: reject what waits on it and release the socket. The first reason wins. */
  private fail(error: AppError): void {
    if (this.failure) return;
    this.settleAll(error);
    this.teardown();
  }

  private settleAll(error: AppError): void {
    this.failure ??= error;
    for (const abort of [...this.pending]) abort(error);
    this.pending.clear();
  }

  private teardown(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    const internals = this.api as unknown as LibraryInternals;
    // node-routeros's keepalive timers would otherwise keep writing to a dead socket and hold the process open.
    clearTimeout(internals.connectionHoldInterval);
    clearTimeout(internals.keptaliveby);
    const connector = this.connector ?? internals.connector ?? undefined;
    if (!connector) return;
    try {
      connector.destroy?.();
    } catch {
      // already destroyed: nothing left to release
    }
    // destroy() drops every listener; a late socket error must find one, or Node throws it.
    connector.on?.('error', () => undefined);
  }
}

