import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AppError, importVouchers, listTenants, systemClock, type ImportProgress, type VoucherImportReport } from '@relais/core';
import { openDatabase } from '@relais/db';
import type { Config } from '../../config.js';
import { parseFlags, type CliOutput } from '../output.js';

export const wifiImportUsage = 'relais wifi:import --tenant SLUG --file FILE --package NAME [--dry-run] [--valid-rows-only] [--json]';

/**
 * Imports a MikHmon CSV (as exported or re-saved by a spreadsheet), a RouterOS script or a plain
 * list of codes into the package named by its French or English name. Progress goes to stderr,
 * the report to stdout; the exit code is 1 when the import was rejected.
 */
export const wifiImportSummary =
  "import vouchers (MikHmon CSV, RouterOS script or list of codes) into a package named in French or English; all-or-nothing by default (one rejected row and nothing is imported), --valid-rows-only imports the rest, --dry-run writes nothing; usernames already in stock are skipped";

const flagsSchema = z.object({
  tenant: z.string({ error: 'is required' }).min(1, 'is required'),
  file: z.string({ error: 'is required' }).min(1, 'is required'),
  package: z.string({ error: 'is required' }).trim().min(1, 'is required'),
});

/** Reported rejected rows printed (the report holds up to 1 000; --json prints them all). */
const PRINTED_REJECTED_ROWS = 20;
const PROGRESS_INTERVAL_MS = 1_000;

export async function wifiImportCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      file: { type: 'string' },
      package: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'valid-rows-only': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const flags = parseFlags(flagsSchema, { tenant: values.tenant, file: values.file, package: values.package });
  const db = await openDatabase(config.database);
  try {
    const tenant = (await listTenants({ db })).find((t) => t.slug === flags.tenant);
    if (!tenant) throw new AppError('NOT_FOUND', `no tenant with slug "${flags.tenant}" (see relais tenant:list)`);
    const progress = progressPrinter(output);
    const report = await importVouchers(
      { db, clock: systemClock },
      {
        tenantId: tenant.id,
        package: { name: flags.package },
        file: { path: flags.file },
        mode: values['valid-rows-only'] ? 'valid_rows_only' : 'all_or_nothing',
        dryRun: values['dry-run'],
        onProgress: progress.update,
      },
    );
    progress.done(report);
    if (values.json) output.out(JSON.stringify(report));
    else printReport(report, output);
    if (report.status === 'rejected') {
      throw new AppError('VALIDATION_FAILED', `import rejected, nothing imported (${report.fileRejection?.code ?? `${report.counts.rejected} rejected rows`})`);
    }
  } finally {
    await db.close();
  }
}

/** "12 000 rows, 45 %, 8 500 rows/s" on stderr, at most once a second, and a last line. */
function progressPrinter(output: CliOutput) {
  const started = performance.now();
  let lastPrinted = started;
  const rate = (rows: number, now: number) => Math.round(rows / Math.max((now - started) / 1000, 0.001));
  return {
    update(progress: ImportProgress) {
      const now = performance.now();
      if (now - lastPrinted < PROGRESS_INTERVAL_MS) return;
      lastPrinted = now;
      const percent = progress.totalBytes ? ` (${Math.floor((100 * progress.bytesRead) / progress.totalBytes)}% of the file)` : '';
      output.err(`${progress.rowsProcessed} rows read${percent}, ${rate(progress.rowsProcessed, now)} rows/s`);
    },
    done(report: VoucherImportReport) {
      const now = performance.now();
      output.err(`${report.counts.rows} rows read (100% of the file, ${report.bytesRead} bytes) in ${((now - started) / 1000).toFixed(1)} s, ${rate(report.counts.rows, now)} rows/s`);
    },
  };
}

const FORMAT_NAMES: Record<VoucherImportReport['format'], string> = {
  mikhmon_csv: 'MikHmon CSV',
  routeros_script: 'RouterOS script',
  plain_list: 'plain list of codes',
  unknown: 'not a voucher file',
};

function printReport(report: VoucherImportReport, output: CliOutput): void {
  const { counts } = report;
  const mode = report.mode === 'all_or_nothing' ? 'all-or-nothing' : 'valid rows only';
  output.out(`Import ${report.importLogId}: ${report.status}${report.dryRun ? ' (dry run)' : ''} — ${report.fileName}, ${FORMAT_NAMES[report.format]}, ${mode}`);
  output.out(`  FR: ${report.summary.fr}`);
  output.out(`  EN: ${report.summary.en}`);
  if (report.fileRejection) return;
  const lines: [string, number][] = [
    ['rows read', counts.rows],
    [report.dryRun ? 'would be imported' : 'imported', report.dryRun ? counts.accepted : counts.imported],
    ['duplicates in the file', counts.duplicatesInFile],
    ['duplicates in stock', counts.duplicatesInStock],
    ['already used', counts.alreadyUsed],
    ['rejected', counts.rejected],
  ];
  if (counts.ignoredLines > 0) lines.push(['other lines ignored', counts.ignoredLines]);
  for (const [label, value] of lines) output.out(`  ${label.padEnd(24)}${value}`);
  if (report.rejectedRows.length === 0) return;
  const shown = report.rejectedRows.slice(0, PRINTED_REJECTED_ROWS);
  output.out(`Rejected rows (${shown.length} of ${counts.rejected}):`);
  for (const row of shown) {
    output.out(`  line ${row.line}  ${row.code}  ${row.message.en}`);
    output.out(`  ${' '.repeat(`line ${row.line}  ${row.code}`.length)}  ${row.message.fr}`);
  }
}
