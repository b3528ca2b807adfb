import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';

/** Small pieces shared by the HTTP simulators (Telegram, Africa's Talking, WhatsApp Cloud). */

export const MAX_SIM_BODY_BYTES = 20_000_000; // large enough for a photo upload

export class BodyTooLargeError extends Error {
  constructor() {
    super('Request body too large');
  }
}

export async function readRawBody(request: IncomingMessage, limit = MAX_SIM_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A parsed body field: text, or an uploaded file (multipart part with a filename). */
export type FieldValue = string | { fileName: string; contentType: string; bytes: Buffer };

/**
 * Reads a JSON, urlencoded or multipart body into flat fields (JSON values other than strings are
 * kept as they are). Multipart is parsed by undici's Response.formData, already in Node 20.
 */
export async function readFields(request: IncomingMessage, raw: Buffer): Promise<Map<string, unknown>> {
  const contentType = request.headers['content-type'] ?? '';
  const fields = new Map<string, unknown>();
  if (raw.length === 0) return fields;
  if (/^application\/json/i.test(contentType)) {
    const json: unknown = JSON.parse(raw.toString('utf8'));
    if (json && typeof json === 'object' && !Array.isArray(json)) for (const [key, value] of Object.entries(json)) fields.set(key, value);
    return fields;
  }
  if (/^application\/x-www-form-urlencoded/i.test(contentType)) {
    for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) fields.set(key, value);
    return fields;
  }
  if (/^multipart\/form-data/i.test(contentType)) {
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    for (const [key, value] of form) {
      if (typeof value === 'string') fields.set(key, value);
      else fields.set(key, { fileName: value.name, contentType: value.type, bytes: Buffer.from(await value.arrayBuffer()) } satisfies FieldValue);
    }
    return fields;
  }
  throw new Error(`unsupported content-type "${contentType}"`);
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.writableEnded || response.destroyed) return;
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

export function sendText(response: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  if (response.writableEnded || response.destroyed) return;
  response.writeHead(status, { 'content-type': contentType });
  response.end(text);
}

export interface ListeningServer {
  server: Server;
  port: number;
  /** http://host:port, with a wildcard host replaced by 127.0.0.1. */
  origin: string;
  close(): Promise<void>;
}

export async function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  options: { port: number; host: string },
  onError: (response: ServerResponse, error: unknown) => void,
): Promise<ListeningServer> {
  const server = createServer((request, response) => {
    handler(request, response).catch((error: unknown) => onError(response, error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1';
  return {
    server,
    port,
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Timers that all stop at close(), so a closed simulator leaves nothing behind. */
export class TimerSet {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pauses = new Set<() => void>();
  private closed = false;

  later(ms: number, run: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  /** Resolves after ms, or at once when the set is closed (so loops waiting on it can end). */
  pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.pauses.add(resolve);
      this.later(ms, () => {
        this.pauses.delete(resolve);
        resolve();
      });
    });
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const resolve of this.pauses) resolve();
    this.pauses.clear();
  }
}

/**
 * A token bucket on an injectable clock: `burst` sends at once, refilled at `perSecond`.
 * take() answers how many seconds to wait (0 = allowed, and a token was taken).
 */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly nowMs: () => number,
  ) {
    this.tokens = burst;
    this.updatedMs = nowMs();
  }

  /** Seconds until a token is available (0 = now), taking nothing. */
  waitSeconds(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : (1 - this.tokens) / this.perSecond;
  }

  take(): number {
    const wait = this.waitSeconds();
    if (wait === 0) this.tokens -= 1;
    return wait;
  }

  private refill(): void {
    const now = this.nowMs();
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.updatedMs) / 1000) * this.perSecond);
    this.updatedMs = now;
  }
}

/** Tracks promises under way, so a test can wait until none is left. */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    void work.finally(() => this.running.delete(work)).catch(() => undefined);
    return work;
  }

  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}

/** The next `times` matching requests answer with an injected error. */
export class FailNextQueue<Rule extends { times: number }> {
  private rule: Rule | null = null;
  private left = 0;

  set(rule: Rule | null): void {
    this.rule = rule;
    this.left = rule?.times ?? 0;
  }

  take(matches: (rule: Rule) => boolean): Rule | undefined {
    const rule = this.rule;
    if (!rule || this.left <= 0 || !matches(rule)) return undefined;
    this.left -= 1;
    if (this.left === 0) this.rule = null;
    return rule;
  }
}

/** Waits until `check` returns a value, re-checking whenever `changed` fires; rejects after timeoutMs. */
export function waitFor<T>(check: () => T | undefined, subscribe: (listener: () => void) => () => void, timeoutMs: number, what: string): Promise<T> {
  const now = check();
  if (now !== undefined) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = subscribe(() => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}

/** Image size from PNG/JPEG/GIF headers; undefined when the bytes are no image we know. */
export function imageInfo(bytes: Buffer): { type: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp'; width: number; height: number } | undefined {
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) {
    return { type: 'image/png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length >= 10 && bytes.toString('latin1', 0, 3) === 'GIF') {
    return { type: 'image/gif', width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  }
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') {
    return { type: 'image/webp', width: 0, height: 0 };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    // Walk the JPEG segments to the first start-of-frame marker, which carries the size.
    let offset = 2;
    while (offset + 9 < bytes.length && bytes[offset] === 0xff) {
      const marker = bytes[offset + 1]!;
      const length = bytes.readUInt16BE(offset + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { type: 'image/jpeg', height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
      }
      offset += 2 + length;
    }
    return { type: 'image/jpeg', width: 0, height: 0 };
  }
  return undefined;
}

/** Control endpoints (/_sim/...): a JSON body checked by a zod schema, errors as { message }. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function readControlJson<Schema extends z.ZodType>(request: IncomingMessage, schema: Schema): Promise<z.output<Schema>> {
  const raw = (await readRawBody(request, 1_000_000)).toString('utf8');
  let json: unknown;
  try {
    json = raw === '' ? {} : JSON.parse(raw);
  } catch {
    throw new ControlError(400, 'body is not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ControlError(400, `${issue.path.map(String).join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Runs a control handler, answering its value as JSON, ControlError/Error as 400/404 { message }. */
export async function answerControl(response: ServerResponse, run: () => Promise<unknown>): Promise<void> {
  try {
    sendJson(response, 200, await run());
  } catch (error) {
    const status = error instanceof ControlError ? error.status : 400;
    sendJson(response, status, { message: (error as Error).message });
  }
}
