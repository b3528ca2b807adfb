/**
 * bench/wifi (issue 4): the three WiFi figures in one run — voucher import vs COPY, concurrent
 * claims vs a bare UPDATE, and a sync cycle of 50 routers x 2 000 sessions vs the router I/O
 * alone. Each section also runs alone (wifi-import, wifi-claims, wifi-sync).
 */
import { machine, publish, type BenchmarkReport } from '../report.js';
import { runWifiClaimsBenchmark } from './wifi-claims.js';
import { runWifiImportBenchmark } from './wifi-import.js';
import { runWifiSyncBenchmark } from './wifi-sync.js';

export async function run(): Promise<void> {
  const sections: Record<string, () => Promise<BenchmarkReport>> = { import: runWifiImportBenchmark, claims: runWifiClaimsBenchmark, sync: runWifiSyncBenchmark };
  const combined: BenchmarkReport = { figures: {}, targets: {}, machine: machine() };
  for (const [name, runSection] of Object.entries(sections)) {
    console.log(`\n== wifi ${name} ==`);
    const report = await runSection();
    for (const [figure, value] of Object.entries(report.figures)) combined.figures[`${name}.${figure}`] = value;
    for (const [figure, target] of Object.entries(report.targets)) combined.targets[`${name}.${figure}`] = target;
  }
  publish('wifi', combined);
}
