import { z } from 'zod';
import type { PlatformCampayApp } from '@relais/core';
import type { DatabaseConfig } from '@relais/db';

/** A configuration problem, reported as one line naming the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const postgresUrl = z
  .string()
  .refine((value) => /^postgres(ql)?:\/\/[^/]+/.test(value) && URL.canParse(value), 'must be a postgres://user@host:port/database URL');
const redisUrl = z.string().refine((value) => /^rediss?:\/\//.test(value) && URL.canParse(value), 'must be a redis://host:port URL');
const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], 'must be development, production or test').default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number('must be a whole number from 1 to 65535').int('must be a whole number from 1 to 65535').min(1, 'must be a whole number from 1 to 65535').max(65535, 'must be a whole number from 1 to 65535').default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'must be one of fatal, error, warn, info, debug, trace, silent').default('info'),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_OWNER_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: z.coerce.number('must be a whole number from 1 to 200').int('must be a whole number from 1 to 200').min(1, 'must be a whole number from 1 to 200').max(200, 'must be a whole number from 1 to 200').default(10),
  PGLITE_DATA_DIR: z.string().min(1).default('./data/pglite'),
  REDIS_URL: redisUrl.optional(),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be 1-40 letters, digits, - or _').default('relais'),
  JOBS_IN_SERVER: flag.default(true),
  TRUST_PROXY: flag.default(false),
  APP_KEY: z
    .string()
    .refine((value) => Buffer.from(value, 'base64').length === 32, 'must be 32 random bytes in base64 (openssl rand -base64 32)')
    .optional(),
  APP_KEY_FILE: z.string().min(1).default('./data/app-key'),
  FILES_DIR: z.string().min(1).default('./data/files'),
  CAMPAY_BASE_URL: z.string().refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), 'must be an http(s) URL such as https://demo.campay.net/api').default('https://demo.campay.net/api'),
  CAMPAY_TOKEN: z.string().min(1).optional(),
  CAMPAY_USERNAME: z.string().min(1).optional(),
  CAMPAY_PASSWORD: z.string().min(1).optional(),
  CAMPAY_WEBHOOK_KEY: z.string().min(8, 'must be the webhook key of the CamPay app (at least 8 characters)').optional(),
  DEMO_MODE: z.enum(['auto', 'on', 'off'], 'must be auto, on or off').default('auto'),
  WHATSAPP_CONNECTIONS: z.enum(['on', 'off'], 'must be on or off').default('off'),
  DEMO_AUTO_APPROVE_MS: z.coerce.number('must be a whole number of milliseconds (0: approve by hand only)').int('must be a whole number of milliseconds (0: approve by hand only)').min(0, 'must be a whole number of milliseconds (0: approve by hand only)').max(600_000, 'at most 600000 (10 minutes)').default(5_000),
  SMTP_URL: z.string().refine((value) => /^smtps?:\/\/[^/]+/.test(value) && URL.canParse(value), 'must be an smtp://user:password@host:port or smtps://... URL').optional(),
  WEBHOOKS_ALLOW_PRIVATE_NETWORKS: flag.default(false),
  MAIL_FROM: z.string().regex(/^[^\r\n]*@[^\r\n]*$/, 'must be an email address, optionally with a name: Relais <notifications@example.cm>').optional(),
});

/** Variables whose values must never be echoed back (they carry credentials). */
const SECRET_VARIABLES = new Set(['DATABASE_URL', 'DATABASE_OWNER_URL', 'REDIS_URL', 'APP_KEY', 'CAMPAY_TOKEN', 'CAMPAY_USERNAME', 'CAMPAY_PASSWORD', 'CAMPAY_WEBHOOK_KEY', 'SMTP_URL']);

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  http: { host: string; port: number };
  logLevel: string;
  database: DatabaseConfig;
  redisUrl?: string;
  queuePrefix: string;
  /** Behind a reverse proxy: believe its X-Forwarded-* headers (never when clients reach us directly). */
  trustProxy: boolean;
  /** Whether `relais serve` also processes jobs (always true without Redis). */
  jobsInServer: boolean;
  /** base64 key from APP_KEY, or undefined to use (or create) the key file in development. */
  appKey?: string;
  appKeyFile: string;
  /** Root directory of the local-disk file store (invoice PDFs). */
  filesDir: string;
  /** The platform's own CamPay app, when configured. */
  campay?: PlatformCampayApp;
  /**
   * Whether this process connects the tenants' WhatsApp (Baileys) numbers. Off by default: tests,
   * demos and a fresh `npm start` must not reach WhatsApp.
   */
  whatsappConnections: boolean;
  /** Demo mode of `relais serve` (simulated CamPay and router, a seeded `demo` tenant), when it applies. */
  demo?: DemoConfig;
  /** The SMTP server notification emails go through; absent: emails are not sent. */
  mail?: MailConfig;
  /**
   * Whether automation webhooks may call this host and private networks. Off by default: any
   * reseller's admin chooses those URLs, and our servers must not become their way into ours.
   */
  webhooksAllowPrivateNetworks: boolean;
}

export interface MailConfig {
  smtpUrl: string;
  from: string;
}

export interface DemoConfig {
  /** The simulated CamPay approves each payment this long after the push; 0: only by hand (/demo). */
  autoApproveMs: number;
}

/**
 * DEMO_MODE=auto turns demo mode on only where it cannot fake a real payment: no CamPay app and
 * not production. `on` is for forcing it in development; production refuses it outright.
 */
function demoMode(vars: z.infer<typeof envSchema>, campay: PlatformCampayApp | undefined): DemoConfig | undefined {
  if (vars.DEMO_MODE === 'on' && vars.NODE_ENV === 'production') {
    throw new ConfigError('DEMO_MODE=on is refused in production: demo mode fakes payments (configure CAMPAY_* instead)');
  }
  if (vars.DEMO_MODE === 'on' && campay) {
    throw new ConfigError('DEMO_MODE=on cannot be used with the CAMPAY_* variables: demo mode replaces CamPay with its simulator');
  }
  // The simulators live in the server process: separate workers could not reach them.
  const jobsInServer = !vars.REDIS_URL || vars.JOBS_IN_SERVER;
  if (vars.DEMO_MODE === 'on' && !jobsInServer) {
    throw new ConfigError('DEMO_MODE=on needs JOBS_IN_SERVER=true: the demo simulators run inside "relais serve", out of reach of separate workers');
  }
  const enabled = vars.DEMO_MODE === 'on' || (vars.DEMO_MODE === 'auto' && !campay && vars.NODE_ENV !== 'production' && jobsInServer);
  return enabled ? { autoApproveMs: vars.DEMO_AUTO_APPROVE_MS } : undefined;
}

/** The platform CamPay app: all of token-or-login and webhook key, or nothing. */
function platformCampay(vars: z.infer<typeof envSchema>): PlatformCampayApp | undefined {
  const { CAMPAY_BASE_URL: baseUrl, CAMPAY_TOKEN: token, CAMPAY_USERNAME: username, CAMPAY_PASSWORD: password, CAMPAY_WEBHOOK_KEY: webhookKey } = vars;
  if (!token && !username && !password && !webhookKey) return undefined;
  if (!token && !(username && password)) {
    throw new ConfigError(`${username ? 'CAMPAY_PASSWORD' : 'CAMPAY_USERNAME'} must be set (or CAMPAY_TOKEN) to use the platform CamPay app`);
  }
  if (!webhookKey) throw new ConfigError('CAMPAY_WEBHOOK_KEY must be set with the CamPay app credentials, or callbacks cannot be verified');
  const credentials: PlatformCampayApp['credentials'] = token ? { kind: 'token', token } : { kind: 'login', username: username!, password: password! };
  return { baseUrl: baseUrl.replace(/\/+$/, ''), credentials, webhookKey };
}

/** SMTP_URL and MAIL_FROM go together: a server without a sender address would be refused. */
function mailConfig(vars: z.infer<typeof envSchema>): MailConfig | undefined {
  if (!vars.SMTP_URL) return undefined;
  if (!vars.MAIL_FROM) throw new ConfigError('MAIL_FROM must be set with SMTP_URL: the sender address of notification emails (Relais <notifications@example.cm>)');
  return { smtpUrl: vars.SMTP_URL, from: vars.MAIL_FROM };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as with `DATABASE_URL= npm start`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = envSchema.safeParse(present);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0]);
    const shown = SECRET_VARIABLES.has(name) || present[name] === undefined ? '' : ` (got "${present[name]}")`;
    throw new ConfigError(`${name} ${issue.message}${shown}`);
  }
  const vars = result.data;
  if (vars.DATABASE_OWNER_URL && !vars.DATABASE_URL) {
    throw new ConfigError('DATABASE_URL must be set when DATABASE_OWNER_URL is (the runtime role connects with it)');
  }
  if (vars.NODE_ENV === 'production' && !vars.APP_KEY) {
    throw new ConfigError('APP_KEY is required in production: 32 random bytes in base64 (openssl rand -base64 32)');
  }
  const campay = platformCampay(vars);
  const database: DatabaseConfig = vars.DATABASE_URL
    ? { driver: 'postgres', url: vars.DATABASE_URL, ownerUrl: vars.DATABASE_OWNER_URL, poolSize: vars.DATABASE_POOL_SIZE }
    : { driver: 'pglite', dataDir: vars.PGLITE_DATA_DIR };
  return {
    nodeEnv: vars.NODE_ENV,
    http: { host: vars.HOST, port: vars.PORT },
    logLevel: vars.LOG_LEVEL,
    database,
    redisUrl: vars.REDIS_URL,
    queuePrefix: vars.QUEUE_PREFIX,
    jobsInServer: vars.REDIS_URL ? vars.JOBS_IN_SERVER : true,
    trustProxy: vars.TRUST_PROXY,
    appKey: vars.APP_KEY,
    appKeyFile: vars.APP_KEY_FILE,
    filesDir: vars.FILES_DIR,
    campay,
    whatsappConnections: vars.WHATSAPP_CONNECTIONS === 'on',
    webhooksAllowPrivateNetworks: vars.WEBHOOKS_ALLOW_PRIVATE_NETWORKS,
    demo: demoMode(vars, campay),
    mail: mailConfig(vars),
  };
}
