import { isAppError } from '@relais/core';
import { DatabaseSetupError } from '@relais/db';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { safeErrorMessage } from '../logger.js';
import { agentCreateCommand, agentCreateUsage } from './commands/agent-create.js';
import { invoicesDownloadCommand, invoicesDownloadUsage } from './commands/invoices-download.js';
import { invoicesIssueStatementsCommand, invoicesIssueStatementsUsage } from './commands/invoices-issue-statements.js';
import { invoicesListCommand, invoicesListUsage } from './commands/invoices-list.js';
import { migrateCommand, migrateUsage } from './commands/migrate.js';
import { packageCreateCommand, packageCreateUsage } from './commands/package-create.js';
import { packageListCommand, packageListUsage } from './commands/package-list.js';
import { voucherGenerateCommand, voucherGenerateUsage } from './commands/voucher-generate.js';
import { voucherPrintCommand, voucherPrintUsage } from './commands/voucher-print.js';
import { mikrotikSyncAllCommand, mikrotikSyncAllUsage } from './commands/mikrotik-sync-all.js';
import { routerAddCommand, routerAddUsage } from './commands/router-add.js';
import { routerTestCommand, routerTestUsage } from './commands/router-test.js';
import { serveCommand, serveUsage } from './commands/serve.js';
import { simCommand, simUsage } from './commands/sim-campay.js';
import { subscriptionsCheckRenewalsCommand, subscriptionsCheckRenewalsUsage } from './commands/subscriptions-check-renewals.js';
import { telegramPollCommand, telegramPollUsage } from './commands/telegram-poll.js';
import { ticketsCheckSlaCommand, ticketsCheckSlaUsage } from './commands/tickets-check-sla.js';
import { tenantCreateCommand, tenantCreateUsage } from './commands/tenant-create.js';
import { tenantListCommand, tenantListUsage } from './commands/tenant-list.js';
import { whatsappPairCommand, whatsappPairUsage } from './commands/whatsapp-pair.js';
import { wifiImportCommand, wifiImportSummary, wifiImportUsage } from './commands/wifi-import.js';
import { workerCommand, workerUsage } from './commands/worker.js';
import { processOutput, UsageError, type CliOutput } from './output.js';

type Command = (args: string[], config: Config, output: CliOutput) => Promise<void>;

/** `withoutConfig`: the command reads no environment (simulators), so a broken one must not stop it. */
const COMMANDS: Record<string, { run: Command; usage: string; summary: string; withoutConfig?: true }> = {
  migrate: { run: migrateCommand, usage: migrateUsage, summary: 'apply database migrations (as the owner role)' },
  serve: { run: serveCommand, usage: serveUsage, summary: 'serve HTTP (webhooks, API, web app) and, by default, jobs' },
  worker: { run: workerCommand, usage: workerUsage, summary: 'process jobs from Redis' },
  'tenant:create': { run: tenantCreateCommand, usage: tenantCreateUsage, summary: 'create a reseller and its first admin' },
  'tenant:list': { run: tenantListCommand, usage: tenantListUsage, summary: 'list resellers' },
  'subscriptions:check-renewals': { run: subscriptionsCheckRenewalsCommand, usage: subscriptionsCheckRenewalsUsage, summary: 'renew ended subscriptions now (wallet, else USSD push and grace, suspension after grace)' },
  'invoices:issue-statements': { run: invoicesIssueStatementsCommand, usage: invoicesIssueStatementsUsage, summary: "issue resellers' monthly commission statements now (default: last month in Douala)" },
  'invoices:list': { run: invoicesListCommand, usage: invoicesListUsage, summary: 'list the newest invoices and commission statements' },
  'invoices:download': { run: invoicesDownloadCommand, usage: invoicesDownloadUsage, summary: 'write the PDF of an invoice or commission statement to a file' },
  'router:add': { run: routerAddCommand, usage: routerAddUsage, summary: "register a reseller's MikroTik router (password encrypted) and test the connection" },
  'router:test': { run: routerTestCommand, usage: routerTestUsage, summary: "test a router's API connection and show its hotspot servers and profiles" },
  'mikrotik:sync-all': { run: mikrotikSyncAllCommand, usage: mikrotikSyncAllUsage, summary: 'sync routers now: active sessions, voucher activation and expiry' },
  'package:create': { run: packageCreateCommand, usage: packageCreateUsage, summary: 'create a WiFi package (price, validity, limits, MikroTik profile, routers, stock alerts)' },
  'package:list': { run: packageListCommand, usage: packageListUsage, summary: "list a reseller's WiFi packages with their stock" },
  'voucher:generate': { run: voucherGenerateCommand, usage: voucherGenerateUsage, summary: "generate random voucher codes for a package and push them to the package's router" },
  'voucher:print': { run: voucherPrintCommand, usage: voucherPrintUsage, summary: 'write a printable A4 PDF of voucher cards with QR codes (36 a page)' },
  'wifi:import': { run: wifiImportCommand, usage: wifiImportUsage, summary: wifiImportSummary },
  'whatsapp:pair': { run: whatsappPairCommand, usage: whatsappPairUsage, summary: "link a reseller's WhatsApp number (Baileys): prints the pairing QR code and waits for the phone" },
  'telegram:poll': { run: telegramPollCommand, usage: telegramPollUsage, summary: "run a tenant's Telegram bot by long polling (local use, no public URL); processes jobs too" },
  'agent:create': { run: agentCreateCommand, usage: agentCreateUsage, summary: "add an agent (takes one of the plan's seats) or an admin to a reseller's helpdesk" },
  'tickets:check-sla': { run: ticketsCheckSlaCommand, usage: ticketsCheckSlaUsage, summary: 'record SLA warnings (80 %) and breaches of open tickets now and notify (what the every-minute job does)' },
  sim: { run: simCommand, usage: simUsage, summary: 'run a protocol simulator (campay, routeros, telegram, africastalking, whatsapp-cloud) for demos and manual tests; needs no database', withoutConfig: true },
};

function help(): string {
  const lines = Object.values(COMMANDS).map((command) => `  ${command.usage}\n      ${command.summary}`);
  return ['Usage: relais <command> [options]', '', 'Commands:', ...lines, '', 'Configuration comes from environment variables; see README.md.'].join('\n');
}

/** Runs one command; returns the process exit code. Never throws. */
export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env, output: CliOutput = processOutput): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    output.out(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    output.err(`relais: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    output.out(`usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    await command.run(args, loadConfig(command.withoutConfig ? {} : env), output);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      output.err(`relais: configuration error: ${error.message}`);
      return 78; // EX_CONFIG
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      output.err(`relais: ${(error as Error).message}\nusage: ${command.usage}`);
      return 2;
    }
    if (error instanceof DatabaseSetupError) {
      output.err(`relais: ${error.message}`);
      return 78;
    }
    if (isAppError(error) && error.httpStatus < 500) {
      output.err(`relais: ${error.message}`);
      return 1;
    }
    output.err(`relais: ${name} failed: ${safeErrorMessage(error)}`);
    return 1;
  }
}
