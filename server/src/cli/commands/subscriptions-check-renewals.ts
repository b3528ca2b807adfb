import { parseArgs } from 'node:util';
import pino from 'pino';
import {
  checkSubscriptionRenewals,
  createGatewayDirectory,
  createLocalDiskFileStore,
  createSecretBox,
  formatXaf,
  systemClock,
  type RenewalReport,
} from '@relais/core';
import { openDatabase } from '@relais/db';
import { resolveAppKey } from '../../app-key.js';
import type { Config } from '../../config.js';
import { REDACTED_PATHS, safeErrorMessage } from '../../logger.js';
import { printTable, type CliOutput } from '../output.js';

export const subscriptionsCheckRenewalsUsage = 'relais subscriptions:check-renewals [--json]';

/**
 * Runs the monthly subscription renewal now (the same use case as the scheduled job; safe to run
 * again) and prints what happened to each reseller whose period had ended. Exits 1 when any
 * reseller could not be processed, so that a cron wrapper notices.
 */
export async function subscriptionsCheckRenewalsCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({ args, strict: true, options: { json: { type: 'boolean', default: false } } });
  // Logs go to stderr: stdout carries the report (JSON with --json).
  const logger = pino({ name: 'relais', level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, pino.destination(2));
  const secrets = createSecretBox(resolveAppKey(config, logger));
  const db = await openDatabase(config.database);
  try {
    const report = await checkSubscriptionRenewals({
      db,
      gateways: createGatewayDirectory({ db, secrets, platform: config.campay }),
      fileStore: createLocalDiskFileStore(config.filesDir),
      clock: systemClock,
      onError: (error, tenantId) => output.err(`relais: renewal of tenant ${tenantId} failed: ${safeErrorMessage(error)}`),
    });
    if (values.json) output.out(JSON.stringify(report));
    else printReport(report, output);
    const failed = report.outcomes.failed ?? 0;
    if (failed > 0) throw new Error(`${failed} of ${report.due} due subscription(s) could not be processed; the next run retries them`);
  } finally {
    await db.close();
  }
}

function printReport(report: RenewalReport, output: CliOutput): void {
  if (report.due === 0) {
    output.out(`No subscription is due for renewal (checked ${report.checkedAt}).`);
    return;
  }
  output.out(`${report.due} subscription(s) due for renewal (checked ${report.checkedAt}):`);
  const header = ['TENANT', 'OUTCOME', 'PERIOD', 'AMOUNT', 'INVOICE', 'PUSH', 'GRACE UNTIL', 'ERROR'];
  const rows = report.tenants.map((t) => [
    t.slug,
    t.outcome,
    t.periodStart ? `${t.periodStart}..${t.periodEnd}` : '-',
    t.amountXaf === undefined ? '-' : formatXaf(t.amountXaf, 'fr'),
    t.invoiceNumber ?? '-',
    t.push ?? '-',
    t.graceUntil ? t.graceUntil.slice(0, 16).replace('T', ' ') + 'Z' : '-',
    t.error ? `${t.error.code}: ${t.error.message}` : '',
  ]);
  printTable(output, header, rows);
  const totals = Object.entries(report.outcomes).map(([outcome, n]) => `${outcome}: ${n}`);
  output.out(`Totals: ${totals.join(', ')}`);
}
