import { parseArgs } from 'node:util';
import { z } from 'zod';
import { UsageError, type CliOutput } from '../output.js';

export const simRouterOsUsage =
  'relais sim routeros --port N [--host HOST] [--sessions K] [--version 7.18.2] [--user admin] [--password X] [--identity NAME] [--latency-ms MS]';

const routerOsFlags = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1).default('127.0.0.1'),
  sessions: z.coerce.number().int().nonnegative().max(100_000).default(0),
  version: z.string().regex(/^\d+\.\d+(?:\.\d+)?$/, 'must look like 7.18.2 or 6.49.10').default('7.18.2'),
  user: z.string().min(1).default('admin'),
  password: z.string().optional(),
  identity: z.string().min(1).optional(),
  'latency-ms': z.coerce.number().int().nonnegative().optional(),
});

function parseRouterOsFlags(args: string[]): z.output<typeof routerOsFlags> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      sessions: { type: 'string' },
      version: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      identity: { type: 'string' },
      'latency-ms': { type: 'string' },
    },
  });
  if (values.port === undefined) throw new UsageError('--port is required (0 picks a free port)');
  const parsed = routerOsFlags.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0])} ${issue.message}`);
  }
  return parsed.data;
}

/** `relais sim routeros`: a MikroTik RouterOS API (TCP) with seeded hotspot sessions, until `stopped` resolves. */
export async function simRouterOsCommand(args: string[], output: CliOutput, stopped: () => Promise<void>): Promise<void> {
  const flags = parseRouterOsFlags(args);
  // Loaded here, not at the top: no production command path should load the simulators.
  const { startRouterOsSimulator } = await import('@relais/sim');
  const sim = await startRouterOsSimulator({
    port: flags.port,
    host: flags.host,
    sessions: flags.sessions,
    version: flags.version,
    username: flags.user,
    password: flags.password,
    identity: flags.identity,
    faults: flags['latency-ms'] === undefined ? {} : { latencyMs: flags['latency-ms'] },
  });
  // Simulator credentials are made up: printing them is how a developer configures the client.
  output.out(`RouterOS API simulator listening on ${sim.host}:${sim.port}`);
  output.out(`version: ${sim.version}${sim.sendsEmpty ? ' (answers empty prints with !empty)' : ''}`);
  output.out(`login: user ${sim.credentials.username}, password ${sim.credentials.password}`);
  output.out(`active sessions: ${flags.sessions} (users seed-00001...), hotspot servers: ${sim.hotspotServers().map((server) => server.name).join(', ')}`);
  output.err('Stop with Ctrl-C.');
  await stopped();
  await sim.close();
}
