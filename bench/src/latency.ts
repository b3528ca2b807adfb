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
