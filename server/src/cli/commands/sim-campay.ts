import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { UsageError, type CliOutput } from '../output.js';
import { simAfricasTalkingCommand, simAfricasTalkingUsage } from './sim-africastalking.js';
import { simRouterOsCommand, simRouterOsUsage } from './sim-routeros.js';
import { simTelegramCommand, simTelegramUsage } from './sim-telegram.js';
import { simWhatsAppCloudCommand, simWhatsAppCloudUsage } from './sim-whatsapp-cloud.js';

export const simCampayUsage =
  'relais sim campay --port N [--host HOST] [--callback-url URL] [--callback-method GET|POST] [--webhook-key KEY] [--auto-approve-ms MS]';
export const simUsage = [simCampayUsage, simRouterOsUsage, simTelegramUsage, simAfricasTalkingUsage, simWhatsAppCloudUsage].join('\n  ');

const SIMULATORS = ['campay', 'routeros', 'telegram', 'africastalking', 'whatsapp-cloud'];

const campayFlags = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1).default('127.0.0.1'),
  'callback-url': z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  'callback-method': z.enum(['GET', 'POST']).default('GET'),
  'webhook-key': z.string().min(1).optional(),
  'auto-approve-ms': z.coerce.number().int().nonnegative().optional(),
});

/** `relais sim <simulator> ...`: needs no database or other configuration, only its flags. */
export async function simCommand(args: string[], _config: Config, output: CliOutput): Promise<void> {
  const [simulator, ...rest] = args;
  if (simulator === 'campay') return simCampayCommand(rest, output);
  if (simulator === 'routeros') return simRouterOsCommand(rest, output, untilSignal);
  if (simulator === 'telegram') return simTelegramCommand(rest, output, untilSignal);
  if (simulator === 'africastalking') return simAfricasTalkingCommand(rest, output, untilSignal);
  if (simulator === 'whatsapp-cloud') return simWhatsAppCloudCommand(rest, output, untilSignal);
  const available = `available: ${SIMULATORS.join(', ')}`;
  throw new UsageError(simulator ? `unknown simulator "${simulator}" (${available})` : `name a simulator (${available})`);
}

function parseCampayFlags(args: string[]): z.output<typeof campayFlags> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'callback-url': { type: 'string' },
      'callback-method': { type: 'string' },
      'webhook-key': { type: 'string' },
      'auto-approve-ms': { type: 'string' },
    },
  });
  if (values.port === undefined) throw new UsageError('--port is required (0 picks a free port)');
  const parsed = campayFlags.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0])} ${issue.message}`);
  }
  return parsed.data;
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function simCampayCommand(args: string[], output: CliOutput, stopped: () => Promise<void> = untilSignal): Promise<void> {
  const flags = parseCampayFlags(args);
  // Loaded here, not at the top: no production command path should load the simulators.
  const { startCampaySimulator } = await import('@relais/sim');
  const sim = await startCampaySimulator({
    port: flags.port,
    host: flags.host,
    callbackUrl: flags['callback-url'],
    callbackMethod: flags['callback-method'],
    webhookKey: flags['webhook-key'],
    autoResolve: flags['auto-approve-ms'] === undefined ? undefined : { afterMs: flags['auto-approve-ms'], outcome: 'SUCCESSFUL' },
  });
  // Simulator credentials are made up: printing them is how a developer configures the client.
  output.out(`CamPay simulator listening on ${sim.url}`);
  output.out(`webhook key: ${sim.webhookKey}`);
  output.out(`login: username ${sim.credentials.username}, password ${sim.credentials.password}`);
  output.out(`permanent token: ${sim.credentials.permanentToken}`);
  output.out(flags['callback-url'] ? `callbacks: ${flags['callback-method']} ${flags['callback-url']}` : 'callbacks: none (no --callback-url)');
  output.err('Stop with Ctrl-C.');
  await stopped();
  await sim.close();
}
