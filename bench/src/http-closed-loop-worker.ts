// The load generator of runHttpLoad (http-closed-loop.ts), in its own thread: a closed loop
// (`concurrency` calls in flight) or an open one (`ratePerSecond`: call i is due at i / rate).
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import type { HttpCall } from './http-closed-loop.js';

const { calls, concurrency, ratePerSecond } = workerData as { calls: HttpCall[]; concurrency: number; ratePerSecond?: number };
const agent = new Agent({ keepAlive: true, maxSockets: ratePerSecond === undefined ? concurrency : Infinity });

function send(call: HttpCall): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = call.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(call.body) };
    const outgoing = request(call.url, { agent, method: call.body === undefined ? 'GET' : 'POST', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(call.body);
  });
}

async function run(): Promise<{ latenciesMs: number[]; firstStartMs: number; lastEndMs: number }> {
  const latenciesMs = new Array<number>(calls.length);
  const busy = new Set<string>();
  const waiting = new Map<string, (() => void)[]>();
  let firstStartMs = Number.POSITIVE_INFINITY;
  let lastEndMs = Number.NEGATIVE_INFINITY;
  let next = 0;
  /** `dueMs`: in an open loop, when the call was due; its latency counts from then (a wait for the key's previous call included). */
  const one = async (index: number, dueMs?: number) => {
    const call = calls[index]!;
    // A key's calls go in order, one at a time (a contact waits for its answer before writing again).
    while (busy.has(call.key)) await new Promise<void>((resolve) => waiting.set(call.key, [...(waiting.get(call.key) ?? []), resolve]));
    busy.add(call.key);
    try {
      const startMs = performance.now();
      const response = await send(call);
      const endMs = performance.now();
      if (response.status !== 200 || (call.expect !== undefined && !new RegExp(call.expect).test(response.text))) {
        throw new Error(`${call.url} answered ${response.status} with ${response.text.slice(0, 300)}`);
      }
      latenciesMs[index] = endMs - (dueMs ?? startMs);
      firstStartMs = Math.min(firstStartMs, dueMs ?? startMs);
      lastEndMs = Math.max(lastEndMs, endMs);
    } finally {
      busy.delete(call.key);
      const queue = waiting.get(call.key);
      waiting.delete(call.key);
      for (const wake of queue ?? []) wake();
    }
  };
  if (ratePerSecond !== undefined) {
    const origin = performance.now();
    const running: Promise<void>[] = [];
    while (next < calls.length) {
      const dueMs = origin + (next * 1000) / ratePerSecond;
      if (dueMs > performance.now()) await new Promise((resolve) => setTimeout(resolve, dueMs - performance.now()));
      while (next < calls.length && origin + (next * 1000) / ratePerSecond <= performance.now()) {
        running.push(one(next, origin + (next * 1000) / ratePerSecond));
        next += 1;
      }
    }
    await Promise.all(running);
    return { latenciesMs, firstStartMs, lastEndMs };
  }
  await Promise.all(
    Array.from({ length: Math.min(concurrency, calls.length) }, async () => {
      while (next < calls.length) {
        const index = next;
        next += 1;
        await one(index);
      }
    }),
  );
  return { latenciesMs, firstStartMs, lastEndMs };
}

run().then(
  (result) => parentPort!.postMessage(result),
  (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? error.message : String(error) }),
).finally(() => agent.destroy());
