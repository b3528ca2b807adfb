import { MAX_INBOUND_FILE_READ_BYTES, type InboundFile } from '@relais/core';

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The provider says the file cannot be had (unknown, expired, forbidden: a 4xx other than 429).
 * Retrying will not help: the adapter hands the message on without its file. Other failures
 * (network, 5xx, timeout) are thrown as plain errors, so that the provider redelivers.
 */
export class FileUnavailableError extends Error {
  override name = 'FileUnavailableError';
}

/** A 4xx other than 429 is the provider's final word. */
export const isFinalRefusal = (status: number) => status >= 400 && status < 500 && status !== 429;

/**
 * Downloads a file a customer sent, for `handleInboundMessage`: nothing at all when the provider
 * declares it larger than the limit, otherwise at most the limit + 1 byte — the read stops there
 * and the connection is dropped, so a 500 MB file is never held in memory; core sees the extra
 * byte and refuses the file as too large. Errors never quote the URL (it may carry a token).
 */
export async function downloadInboundFile(options: {
  /** The file's URL, or how to learn it (a provider call made only when the declared size allows). */
  url: URL | string | (() => Promise<URL | string>);
  headers?: Record<string, string>;
  /** The size the provider announced, when it did. */
  declaredSize?: number;
  fileName?: string;
  timeoutMs?: number;
}): Promise<InboundFile> {
  const fileName = options.fileName ? { fileName: options.fileName.slice(0, 255) } : {};
  if (options.declaredSize !== undefined && options.declaredSize >= MAX_INBOUND_FILE_READ_BYTES) return { tooLarge: true, ...fileName };
  const url = new URL(typeof options.url === 'function' ? await options.url() : options.url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('the provider gave a file URL that is not http(s)');
  let response: Response;
  try {
    response = await fetch(url, { headers: options.headers, signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS) });
  } catch (error) {
    throw new Error(`could not download the customer's file (${error instanceof Error ? error.name : 'error'})`);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const message = `could not download the customer's file (HTTP ${response.status})`;
    throw isFinalRefusal(response.status) ? new FileUnavailableError(message) : new Error(message);
  }
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(length) && length >= MAX_INBOUND_FILE_READ_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    return { tooLarge: true, ...fileName };
  }
  return { bytes: await readAtMost(response, MAX_INBOUND_FILE_READ_BYTES), ...fileName };
}

/** The first `maxBytes` of a response body; the rest is never read (the stream is cancelled). */
export async function readAtMost(response: Response, maxBytes: number): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength).subarray(0, maxBytes - size);
      chunks.push(chunk);
      size += chunk.length;
    }
  } catch (error) {
    throw new Error(`could not download the customer's file (${error instanceof Error ? error.name : 'error'})`);
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks, size);
}
