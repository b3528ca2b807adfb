import { randomBytes, randomInt } from 'node:crypto';
import { z } from 'zod';
import type { CliOutput } from '../output.js';
import { parseSimFlags } from './sim-flags.js';

export const simWhatsAppCloudUsage =
  'relais sim whatsapp-cloud --port N [--host HOST] [--phone-number-id ID] [--display-phone-number 2376...] [--access-token T] [--app-secret S] [--webhook-url URL] [--verify-token T] [--window-rule status|reject|off] [--latency-ms MS]';

const whatsAppCloudFlags = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1).default('127.0.0.1'),
  'phone-number-id': z.string().regex(/^\d+$/, 'must be digits').optional(),
  'display-phone-number': z.string().regex(/^\d{8,15}$/, 'must be digits with the country code, no +').default('237690000000'),
  'access-token': z.string().min(1).optional(),
  'app-secret': z.string().min(1).optional(),
  'webhook-url': z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  'verify-token': z.string().min(1).optional(),
  'window-rule': z.enum(['status', 'reject', 'off']).default('status'),
  'latency-ms': z.coerce.number().int().nonnegative().optional(),
});

/** `relais sim whatsapp-cloud`: the Graph API messages/media endpoints and signed events, until `stopped` resolves. */
export async function simWhatsAppCloudCommand(args: string[], output: CliOutput, stopped: () => Promise<void>): Promise<void> {
  const flags = parseSimFlags(
    args,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      'phone-number-id': { type: 'string' },
      'display-phone-number': { type: 'string' },
      'access-token': { type: 'string' },
      'app-secret': { type: 'string' },
      'webhook-url': { type: 'string' },
      'verify-token': { type: 'string' },
      'window-rule': { type: 'string' },
      'latency-ms': { type: 'string' },
    },
    whatsAppCloudFlags,
  );
  const phoneNumberId = flags['phone-number-id'] ?? String(randomInt(100_000_000_000_000, 999_999_999_999_999));
  const accessToken = flags['access-token'] ?? `EAAsim${randomBytes(24).toString('base64url')}`;
  const appSecret = flags['app-secret'] ?? randomBytes(16).toString('hex');
  const verifyToken = flags['verify-token'] ?? randomBytes(12).toString('base64url');
  // Loaded here, not at the top: no production command path should load the simulators.
  const { startWhatsAppCloudSimulator } = await import('@relais/sim');
  const sim = await startWhatsAppCloudSimulator({
    port: flags.port,
    host: flags.host,
    phoneNumbers: [{ id: phoneNumberId, displayPhoneNumber: flags['display-phone-number'], accessToken, appSecret, webhookUrl: flags['webhook-url'], verifyToken }],
    windowRule: flags['window-rule'] === 'off' ? false : flags['window-rule'],
    faults: flags['latency-ms'] === undefined ? {} : { latencyMs: flags['latency-ms'] },
  });
  // Simulator credentials are made up: printing them is how a developer configures the client.
  output.out(`WhatsApp Cloud API simulator listening on ${sim.url} (in place of https://graph.facebook.com)`);
  output.out(`phone number id: ${phoneNumberId} (${flags['display-phone-number']})`);
  output.out(`access token: ${accessToken}`);
  output.out(`app secret: ${appSecret}; verify token: ${verifyToken}`);
  output.out(`events: ${flags['webhook-url'] ?? 'none (no --webhook-url)'}; a customer writes: POST ${sim.url}/_sim/customer-texts {"phoneNumberId","from","text"}`);
  output.err('Stop with Ctrl-C.');
  await stopped();
  await sim.close();
}
