import { setMaxListeners } from 'node:events';
import { Agent, request, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { CampaySimulatorFaults } from './campay-sim-schemas.js';

/** One attempt (or non-attempt) to deliver a callback, for tests to inspect. */
export interface CallbackDelivery {
  reference: string;
  outcome: 'sent' | 'failed' | 'dropped' | 'held' | 'no-callback-url';
  /** The receiver's HTTP status when sent. */
  status?: number;
  error?: string;
  at: string;
}

interface CallbackTarget {
  url: string | undefined;
  method: 'GET' | 'POST';
}

interface HeldCallback {
  params: Record<string, string>;
  delayMs: number;
  copies: number;
}

const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * Sends transaction callbacks with the faults a test asked for: dropped, delayed, duplicated
 * (copies sent concurrently) or held and released newest first.
 */
export class CallbackDispatcher {
  private readonly held: HeldCallback[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly log: CallbackDelivery[] = [];
  private readonly abort = new AbortController();
  /** Kept-alive connections to the receiver; node:http, which costs a fraction of fetch per call (benchmarks share the CPU with it). */
  private readonly agent = new Agent({ keepAlive: true });

  constructor(
    private readonly target: () => CallbackTarget,
    private readonly faults: () => CampaySimulatorFaults,
  ) {
    // Every delivery under way listens to it (close() cancels them all): no leak past 10 of them.
    setMaxListeners(0, this.abort.signal);
  }

  /** Queues one callback under the faults in force now. Never throws, never waits. */
  dispatch(params: Record<string, string>): void {
    const faults = this.faults();
    const reference = params.reference ?? '';
    if (!this.target().url) return this.record(reference, 'no-callback-url');
    if (faults.drop) return this.record(reference, 'dropped');
    const callback = { params, delayMs: faults.delayMs ?? 0, copies: faults.duplicate ?? 1 };
    if (faults.reorder) {
      this.held.push(callback);
      return this.record(reference, 'held');
    }
    this.track(this.deliver(callback));
  }

  /** Sends the held callbacks, newest first, one after the other; resolves with how many. */
  async flush(): Promise<number> {
    const released = this.held.splice(0).reverse();
    for (const callback of released) await this.track(this.deliver(callback));
    return released.length;
  }

  /** Resolves once no delivery is under way. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  deliveries(): CallbackDelivery[] {
    return this.log.map((entry) => ({ ...entry }));
  }

  close(): void {
    this.abort.abort();
    this.agent.destroy();
  }

  private track(delivery: Promise<void>): Promise<void> {
    this.inFlight.add(delivery);
    return delivery.finally(() => this.inFlight.delete(delivery));
  }

  private async deliver(callback: HeldCallback): Promise<void> {
    if (callback.delayMs > 0) await sleep(callback.delayMs, this.abort.signal);
    if (this.abort.signal.aborted) return;
    await Promise.all(Array.from({ length: callback.copies }, () => this.sendOnce(callback.params)));
  }

  private async sendOnce(params: Record<string, string>): Promise<void> {
    const { url, method } = this.target();
    const reference = params.reference ?? '';
    if (!url) return this.record(reference, 'no-callback-url');
    try {
      const status = method === 'GET' ? await this.send(withQuery(url, params), 'GET') : await this.send(url, 'POST', JSON.stringify(params));
      this.record(reference, 'sent', { status });
    } catch (error) {
      this.record(reference, 'failed', { error: (error as Error).message });
    }
  }

  /** One HTTP request; resolves with the status once the answer has been read (the connection is then reusable). */
  private send(url: string, method: 'GET' | 'POST', body?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      const options = { method, headers, signal: this.abort.signal, timeout: DELIVERY_TIMEOUT_MS };
      const onResponse = (response: IncomingMessage) => {
        response.on('error', reject);
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.resume();
      };
      const outgoing = url.startsWith('https:') ? httpsRequest(url, options, onResponse) : request(url, { ...options, agent: this.agent }, onResponse);
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS} ms`)));
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  private record(reference: string, outcome: CallbackDelivery['outcome'], extra: Partial<CallbackDelivery> = {}): void {
    this.log.push({ reference, outcome, ...extra, at: new Date().toISOString() });
  }
}

function withQuery(url: string, params: Record<string, string>): string {
  const target = new URL(url);
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  return target.toString();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
