/** Nearest-rank percentile of ascending `sorted` values (q in 0..1). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return { count: sorted.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted.at(-1) ?? Number.NaN, meanMs: total / sorted.length };
}

/**
 * Runs `operation` once per item with at most `concurrency` under way (a closed loop: a new one
 * starts when one finishes). Each operation reports its own latency; throughput is measured from
 * the first start to the last end, as the operation reports them (performance.now() times).
 */
export async function closedLoop<T>(
  items: readonly T[],
  concurrency: number,
  operation: (item: T) => Promise<{ startMs: number; endMs: number; latencyMs: number }>,
): Promise<LatencySummary & { perSecond: number; elapsedMs: number }> {
  const latencies: number[] = [];
  let firstStart = Number.POSITIVE_INFINITY;
  let lastEnd = Number.NEGATIVE_INFINITY;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next]!;
        next += 1;
        const { startMs, endMs, latencyMs } = await operation(item);
        firstStart = Math.min(firstStart, startMs);
        lastEnd = Math.max(lastEnd, endMs);
        latencies.push(latencyMs);
      }
    }),
  );
  const elapsedMs = lastEnd - firstStart;
  return { ...summarize(latencies), perSecond: (items.length / elapsedMs) * 1000, elapsedMs };
}

/**
 * Runs `operation` once per item at a fixed offered rate (an open loop: item i starts at
 * i / ratePerSecond seconds, whether or not the ones before it have finished), the way callbacks
 * or messages arrive from many independent senders. Latency at a given rate is what a target such
 * as "p99 under 50 ms at 500/s" speaks of; a closed loop measures the queue it builds itself.
 * `lateStarts` counts items started more than 5 ms behind schedule (the generator could not keep
 * up: the rate was not really offered).
 */
export async function openLoop<T>(
  items: readonly T[],
  ratePerSecond: number,
  operation: (item: T) => Promise<{ startMs: number; endMs: number; latencyMs: number }>,
): Promise<LatencySummary & { perSecond: number; elapsedMs: number; offeredPerSecond: number; lateStarts: number }> {
  const latencies: number[] = [];
  const running: Promise<void>[] = [];
  let firstStart = Number.POSITIVE_INFINITY;
  let lastEnd = Number.NEGATIVE_INFINITY;
  let lateStarts = 0;
  const origin = performance.now();
  const intervalMs = 1000 / ratePerSecond;
  for (let next = 0; next < items.length; ) {
    const now = performance.now();
    // Everything due by now starts now; then wait for the next due time.
    while (next < items.length && origin + next * intervalMs <= now) {
      if (now - (origin + next * intervalMs) > 5) lateStarts += 1;
      const item = items[next]!;
      next += 1;
      running.push(
        operation(item).then(({ startMs, endMs, latencyMs }) => {
          firstStart = Math.min(firstStart, startMs);
          lastEnd = Math.max(lastEnd, endMs);
          latencies.push(latencyMs);
        }),
      );
    }
    if (next < items.length) await new Promise((resolve) => setTimeout(resolve, Math.max(0, origin + next * intervalMs - performance.now())));
  }
  await Promise.all(running);
  const elapsedMs = lastEnd - firstStart;
  return { ...summarize(latencies), perSecond: (items.length / elapsedMs) * 1000, elapsedMs, offeredPerSecond: ratePerSecond, lateStarts };
}
