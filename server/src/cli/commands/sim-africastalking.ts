import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { CliOutput } from '../output.js';
import { parseSimFlags } from './sim-flags.js';

export const simAfricasTalkingUsage =
  "relais sim africastalking --port N [--host HOST] [--username NAME] [--api-key KEY] [--sender-id ID]... [--short-code CODE]... [--delivery-reports-url URL] [--inbound-sms-url URL] [--ussd '*384*1#=URL']... [--latency-ms MS]";

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const africasTalkingFlags = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1).default('127.0.0.1'),
  username: z.string().min(1).default('sandbox'),
  'api-key': z.string().min(1).optional(),
  'sender-id': z.array(z.string().min(1)).optional(),
  'short-code': z.array(z.string().min(1)).default([]),
  'delivery-reports-url': httpUrl.optional(),
  'inbound-sms-url': httpUrl.optional(),
  ussd: z
    .array(z.string().regex(/^[*#0-9]+=https?:\/\/\S+$/, 'must be SERVICE_CODE=URL, e.g. *384*1#=http://127.0.0.1:3000/webhooks/ussd/ch1'))
    .default([])
    .transform((entries) => entries.map((entry) => ({ serviceCode: entry.slice(0, entry.indexOf('=')), callbackUrl: entry.slice(entry.indexOf('=') + 1) }))),
  'latency-ms': z.coerce.number().int().nonnegative().optional(),
});

/** `relais sim africastalking`: the SMS API, SMS callbacks and a USSD gateway, until `stopped` resolves. */
export async function simAfricasTalkingCommand(args: string[], output: CliOutput, stopped: () => Promise<void>): Promise<void> {
  const flags = parseSimFlags(
    args,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      username: { type: 'string' },
      'api-key': { type: 'string' },
      'sender-id': { type: 'string', multiple: true },
      'short-code': { type: 'string', multiple: true },
      'delivery-reports-url': { type: 'string' },
      'inbound-sms-url': { type: 'string' },
      ussd: { type: 'string', multiple: true },
      'latency-ms': { type: 'string' },
    },
    africasTalkingFlags,
  );
  const apiKey = flags['api-key'] ?? `atsk_${randomBytes(24).toString('hex')}`;
  // Loaded here, not at the top: no production command path should load the simulators.
  const { startAfricasTalkingSimulator } = await import('@relais/sim');
  const sim = await startAfricasTalkingSimulator({
    port: flags.port,
    host: flags.host,
    accounts: [
      {
        username: flags.username,
        apiKey,
        senderIds: flags['sender-id'],
        shortCodes: flags['short-code'],
        deliveryReportsUrl: flags['delivery-reports-url'],
        inboundSmsUrl: flags['inbound-sms-url'],
      },
    ],
    ussdServices: flags.ussd,
    faults: flags['latency-ms'] === undefined ? {} : { latencyMs: flags['latency-ms'] },
  });
  // Simulator credentials are made up: printing them is how a developer configures the client.
  output.out(`Africa's Talking simulator listening on ${sim.url} (SMS: POST ${sim.smsUrl})`);
  output.out(`login: username ${flags.username}, apiKey ${apiKey}`);
  output.out(`delivery reports: ${flags['delivery-reports-url'] ?? 'none (no --delivery-reports-url)'}; inbound SMS: ${flags['inbound-sms-url'] ?? 'none (no --inbound-sms-url)'}`);
  output.out(`USSD: ${flags.ussd.length > 0 ? flags.ussd.map((service) => `${service.serviceCode} -> ${service.callbackUrl}`).join(', ') : 'none (no --ussd)'}; dial: POST ${sim.url}/_sim/ussd/dial {"serviceCode","phoneNumber"}, reply: POST /_sim/ussd/reply {"sessionId","text"}`);
  output.err('Stop with Ctrl-C.');
  await stopped();
  await sim.close();
}
