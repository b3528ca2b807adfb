import { randomBytes, randomInt } from 'node:crypto';
import { z } from 'zod';
import type { CliOutput } from '../output.js';
import { parseSimFlags } from './sim-flags.js';

export const simTelegramUsage =
  'relais sim telegram --port N [--host HOST] [--bot TOKEN]... [--no-rate-limits] [--latency-ms MS] [--webhook-retry-ms MS]';

const telegramFlags = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1).default('127.0.0.1'),
  bot: z.array(z.string().regex(/^\d+:[A-Za-z0-9_-]{10,}$/, 'must look like 123456:ABC-DEF...')).default([]),
  'no-rate-limits': z.boolean().default(false),
  'latency-ms': z.coerce.number().int().nonnegative().optional(),
  'webhook-retry-ms': z.coerce.number().int().nonnegative().optional(),
});

/** `relais sim telegram`: a Telegram Bot API for telegraf's apiRoot, until `stopped` resolves. */
export async function simTelegramCommand(args: string[], output: CliOutput, stopped: () => Promise<void>): Promise<void> {
  const flags = parseSimFlags(
    args,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      bot: { type: 'string', multiple: true },
      'no-rate-limits': { type: 'boolean' },
      'latency-ms': { type: 'string' },
      'webhook-retry-ms': { type: 'string' },
    },
    telegramFlags,
  );
  const tokens = flags.bot.length > 0 ? flags.bot : [`${randomInt(1_000_000_000, 9_999_999_999)}:${randomBytes(26).toString('base64url')}`];
  // Loaded here, not at the top: no production command path should load the simulators.
  const { startTelegramSimulator } = await import('@relais/sim');
  const sim = await startTelegramSimulator({
    port: flags.port,
    host: flags.host,
    bots: tokens.map((token) => ({ token })),
    ...(flags['no-rate-limits'] ? { rateLimits: false as const } : {}),
    ...(flags['webhook-retry-ms'] === undefined ? {} : { webhookRetryMs: flags['webhook-retry-ms'] }),
    faults: flags['latency-ms'] === undefined ? {} : { latencyMs: flags['latency-ms'] },
  });
  // Simulator tokens are made up: printing them is how a developer configures the bot.
  output.out(`Telegram Bot API simulator listening on ${sim.apiRoot} (telegraf: telegram: { apiRoot })`);
  for (const token of tokens) output.out(`bot token: ${token}`);
  output.out(`rate limits: ${flags['no-rate-limits'] ? 'off' : 'about 1 message/s per chat, 30/s per bot'}`);
  output.out(`a user writes: POST ${sim.apiRoot}/_sim/messages {"token","chatId","text"}; presses: POST /_sim/presses {"token","chatId","callbackData"}; sent: GET /_sim/sent?token=`);
  output.err('Stop with Ctrl-C.');
  await stopped();
  await sim.close();
}
