import { z } from 'zod';

/** What the RouterOS simulator accepts from tests, benchmarks and the CLI. */

export const routerOsFaultsSchema = z.strictObject({
  /** Stop listening: connections are refused (ECONNREFUSED) until cleared. */
  refuseConnections: z.boolean().optional(),
  /** Accept connections but never answer anything, the login included. */
  hang: z.boolean().optional(),
  /** Send half of each reply, then close the connection. */
  dropMidReply: z.boolean().optional(),
  /** Refuse every login, whatever the credentials. */
  badLogin: z.boolean().optional(),
  /** Answer each command with a reply word no RouterOS sends, then random bytes. */
  garbage: z.boolean().optional(),
  /** Answer each command with `!fatal` and close the connection. */
  fatal: z.boolean().optional(),
  /** Send each reply in pieces of this many bytes, 1 ms apart (chunk boundaries anywhere, even before a final empty word). */
  fragmentBytes: z.number().int().positive().optional(),
  /** Wait this long before each reply. */
  latencyMs: z.number().int().nonnegative().optional(),
});

export type RouterOsSimulatorFaults = z.input<typeof routerOsFaultsSchema>;

const versionSchema = z.string().regex(/^\d+\.\d+(?:\.\d+)?(?: \(\w+\))?$/, 'a RouterOS version such as 7.18.2 or 6.49.10');

export const userProfileOptionSchema = z.strictObject({
  name: z.string().min(1),
  rateLimit: z.string().optional(),
  sharedUsers: z.number().int().positive().optional(),
  sessionTimeoutSeconds: z.number().int().positive().optional(),
});

export const routerOsSimulatorOptionsSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).default(0),
  host: z.string().min(1).default('127.0.0.1'),
  /** API login accepted by `/login`. */
  username: z.string().min(1).default('admin'),
  password: z.string().default('routeros-sim-password'),
  /** RouterOS >= 7.18 answers an empty print with `!empty` then `!done`; older ones with `!done` alone. */
  version: versionSchema.default('7.18.2'),
  identity: z.string().min(1).default('MikroTik'),
  /** Active sessions to seed, each with its own user (seed-00001, ...), already under way. */
  sessions: z.number().int().nonnegative().default(0),
  /** 'real': simulated time follows the wall clock (plus advanceTime); 'manual': it moves only on advanceTime. */
  clock: z.enum(['real', 'manual']).default('real'),
  userProfiles: z.array(userProfileOptionSchema).optional(),
  hotspotServers: z.array(z.strictObject({ name: z.string().min(1), dnsName: z.string().optional() })).min(1).optional(),
  faults: routerOsFaultsSchema.default({}),
});

export type RouterOsSimulatorOptions = z.input<typeof routerOsSimulatorOptionsSchema>;
