import { parseArgs } from 'node:util';
import { createLocalDiskFileStore, formatXaf, issueCommissionStatements, systemClock, type CommissionStatementsReport } from '@relais/core';
import { openDatabase } from '@relais/db';
import type { Config } from '../../config.js';
import { safeErrorMessage } from '../../logger.js';
import { printTable, type CliOutput } from '../output.js';

export const invoicesIssueStatementsUsage = 'relais invoices:issue-statements [--month YYYY-MM] [--json]';

/**
 * Issues the commission statements of a month now (default: the previous month in Douala; the
 * same use case as the monthly job, safe to run again) and prints one row per reseller. Exits 1
 * when any reseller's statement could not be issued, so that a cron wrapper notices.
 */
export async function invoicesIssueStatementsCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({ args, strict: true, options: { month: { type: 'string' }, json: { type: 'boolean', default: false } } });
  // The month is validated by the use case's zod schema.
  const db = await openDatabase(config.database);
  try {
    const report = await issueCommissionStatements(
      {
        db,
        fileStore: createLocalDiskFileStore(config.filesDir),
        clock: systemClock,
        onError: (error, tenantId) => output.err(`relais: commission statement of tenant ${tenantId} failed: ${safeErrorMessage(error)}`),
      },
      values.month === undefined ? {} : { month: values.month },
    );
    if (values.json) output.out(JSON.stringify(report));
    else printReport(report, output);
    if (report.failed.length > 0) {
      throw new Error(`${report.failed.length} commission statement(s) of ${report.month} could not be issued; running the command again retries them`);
    }
  } finally {
    await db.close();
  }
}

function printReport(report: CommissionStatementsReport, output: CliOutput): void {
  const period = `${report.periodStart}..${report.periodEnd}`;
  if (report.issued.length === 0 && report.failed.length === 0) {
    output.out(`No commission-mode reseller collected a payment in ${report.month} (${period}): no statement.`);
    return;
  }
  output.out(`Commission statements for ${report.month} (${period}):`);
  const header = ['TENANT', 'INVOICE', 'PAYMENTS', 'GROSS', 'COMMISSION', 'RESULT'];
  const rows = [
    ...report.issued.map((s) => [s.slug, s.number, String(s.paymentsCount), formatXaf(s.grossXaf, 'fr'), formatXaf(s.amountXaf, 'fr'), s.created ? 'issued' : 'already issued']),
    ...report.failed.map((f) => [f.slug, '-', '-', '-', '-', `failed: ${f.error.code}: ${f.error.message}`]),
  ];
  printTable(output, header, rows);
  const created = report.issued.filter((s) => s.created).length;
  output.out(
    `Totals: issued ${created}, already issued ${report.issued.length - created}, without payments ${report.skipped.length}, failed ${report.failed.length}`,
  );
}
