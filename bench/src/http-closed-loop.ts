import { Worker } from 'node:worker_threads';
import { summarize, type LatencySummary } from './latency.js';

/** One request of a load: calls with the same `key` go one at a time, in their order (one chat contact). */
export interface HttpCall {
  key: string;
  url: string;
  /** JSON body: a POST; none: a GET. */
  body?: string;
  /** The response must be 200 and its body match this (a RegExp source), or the run fails. */
  expect?: string;
}

export interface HttpLoadResult extends LatencySummary {
  perSecond: number;
  elapsedMs: number;
  /** Latency of each call, in the order of `calls`. */
  latenciesMs: number[];
}

/**
 * Runs `calls` as a closed loop (`load`: at most that many in flight) or an open one (`load`:
 * {ratePerSecond}: call i is due i / rate seconds after the start, and its latency counts from
 * then, a wait for its key's previous call included) from a worker thread with its
 * own event loop and kept-alive node:http sockets: the load generator's work (building requests,
 * parsing answers, its socket writes) no longer queues behind the app's on the main thread, as a
 * real client's would not. Its CPU still counts in the process's and shares the machine's cores.
 */
export async function runHttpLoad(calls: readonly HttpCall[], load: number | { ratePerSecond: number }): Promise<HttpLoadResult> {
  const shape = typeof load === 'number' ? { concurrency: load } : { concurrency: Number.POSITIVE_INFINITY, ratePerSecond: load.ratePerSecond };
  // A worker thread does not inherit tsx's loader hooks: it registers them before loading its TypeScript.
  const script = new URL('./http-closed-loop-worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(script)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { calls, ...shape } });
  try {
    const outcome = await new Promise<{ latenciesMs: number[]; firstStartMs: number; lastEndMs: number } | { error: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`load worker exited with ${code}`)));
    });
    if ('error' in outcome) throw new Error(outcome.error);
    // Both ends are the worker's performance.now(): elapsed time needs no common clock.
    const elapsedMs = outcome.lastEndMs - outcome.firstStartMs;
    return { ...summarize(outcome.latenciesMs), perSecond: (calls.length / elapsedMs) * 1000, elapsedMs, latenciesMs: outcome.latenciesMs };
  } finally {
    await worker.terminate();
  }
}
