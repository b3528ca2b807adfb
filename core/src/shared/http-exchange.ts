import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

/** The exchange took longer than its timeout (connecting, sending and reading the answer together). */
export class HttpTimeoutError extends Error {
  override name = 'TimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** The answer's body was longer than the caller accepts. */
export class HttpBodyTooLargeError extends Error {
  constructor(readonly maxBodyBytes: number) {
    super(`answer body over ${maxBodyBytes} bytes`);
  }
}

export interface HttpExchangeOptions {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** The whole exchange, not only idle time. */
  timeoutMs: number;
  /** Kept-alive connections to reuse (keepAliveAgents); a fresh connection per exchange otherwise. */
  agents?: KeepAliveAgents;
  /** How host names are resolved (publicNetworkLookup keeps only public addresses). */
  lookup?: LookupFunction;
  /** Read the answer's body as UTF-8 text, up to this many bytes; without it the body is discarded. */
  maxBodyBytes?: number;
}

export interface KeepAliveAgents {
  http: HttpAgent;
  https: HttpsAgent;
}

/** Connections kept open between exchanges with the same server (an API client's). */
export function keepAliveAgents(): KeepAliveAgents {
  return { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
}

/**
 * One HTTP request and its answer over node:http(s), resolved once the answer has been read.
 * Redirects are answers like any other (not followed). Network errors reject with node's own
 * error (its `code`: ECONNREFUSED...), a timeout with HttpTimeoutError. Chosen over fetch for
 * calls on hot paths: on this project's 2-core machines fetch cost several times its CPU.
 */
export function httpExchange(url: string, options: HttpExchangeOptions): Promise<{ status: number; bodyText: string }> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith('https:');
    const headers = { ...options.headers, ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }) };
    const requestOptions = {
      method: options.method,
      headers,
      ...(options.agents ? { agent: secure ? options.agents.https : options.agents.http } : {}),
      ...(options.lookup ? { lookup: options.lookup } : {}),
    };
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    };
    const onResponse = (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('error', fail);
      response.on('data', (chunk: Buffer) => {
        if (options.maxBodyBytes === undefined) return;
        size += chunk.length;
        if (size <= options.maxBodyBytes) return void chunks.push(chunk);
        fail(new HttpBodyTooLargeError(options.maxBodyBytes));
        response.destroy();
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, bodyText: Buffer.concat(chunks).toString('utf8') });
      });
    };
    const outgoing = secure ? httpsRequest(url, requestOptions, onResponse) : httpRequest(url, requestOptions, onResponse);
    const timer = setTimeout(() => outgoing.destroy(new HttpTimeoutError(options.timeoutMs)), options.timeoutMs);
    outgoing.on('error', fail);
    outgoing.end(options.body);
  });
}
