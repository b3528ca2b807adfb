import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface BenchmarkReport {
  figures: Record<string, number>;
  targets: Record<string, { target: number; met: boolean }>;
  machine: Record<string, unknown>;
}

const RESULTS_DIRECTORY = fileURLToPath(new URL('../results', import.meta.url));

export function machine(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), ...extra };
}

/** Prints the figures as a table and writes bench/results/<name>.json (not committed). */
export function publish(name: string, report: BenchmarkReport): string {
  const rows = Object.entries(report.figures).map(([figure, value]) => {
    const target = report.targets[figure];
    return { figure, value: Number(value.toFixed(3)), target: target?.target ?? '', met: target ? (target.met ? 'yes' : 'NO') : '' };
  });
  console.table(rows);
  mkdirSync(RESULTS_DIRECTORY, { recursive: true });
  const path = `${RESULTS_DIRECTORY}/${name}.json`;
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${path}`);
  return path;
}

/** Latency percentiles (ms) and throughput of `operation` run `iterations` times, `concurrency` at once. */
export async function measure(operation: () => Promise<unknown>, iterations: number, concurrency = 1) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < iterations) {
        next += 1;
        const t0 = performance.now();
        await operation();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { opsPerSecond: (iterations / elapsedMs) * 1000, p50Ms: at(0.5), p95Ms: at(0.95) };
}
