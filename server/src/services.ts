import type { Logger } from 'pino';
import { createGatewayDirectory, createLocalDiskFileStore, createSecretBox, createSmtpMailer, systemClock, type Clock, type FileStore, type GatewayDirectory, type Mailer, type RouterClient, type SecretBox } from '@relais/core';
import { openDatabase, type Database } from '@relais/db';
import { buildJobDefinitions, createJobRunner, JOB_SCHEDULES, type JobRunner } from '@relais/workers';
import { resolveAppKey } from './app-key.js';
import { createSenderFor } from './channel-senders.js';
import type { Config } from './config.js';
import type { DemoMode } from './demo/start-demo-mode.js';
import { createRouterClient } from './router-client.js';

/** Everything the transports (HTTP, CLI, workers) are wired with. Built once per process. */
export interface Services {
  config: Config;
  logger: Logger;
  clock: Clock;
  db: Database;
  jobs: JobRunner;
  secrets: SecretBox;
  gateways: GatewayDirectory;
  fileStore: FileStore;
  routerClient: RouterClient;
  /** Notification emails over SMTP; absent when SMTP_URL is not set (emails are skipped). */
  mailer?: Mailer;
  /** Set by `relais serve` in demo mode only: the simulators standing in for CamPay and a router. */
  demo?: DemoMode;
  close(): Promise<void>;
}

export async function createServices(
  config: Config,
  logger: Logger,
  options: { processJobs: boolean },
): Promise<Services> {
  const secrets = createSecretBox(resolveAppKey(config, logger));
  // PGlite always migrates on open; PostgreSQL does when the owner connection is configured.
  const db = await openDatabase(config.database, { migrate: config.database.driver === 'postgres' && Boolean(config.database.ownerUrl) });
  const clock = systemClock;
  const gateways = createGatewayDirectory({ db, secrets, platform: config.campay });
  const fileStore = createLocalDiskFileStore(config.filesDir);
  const routerClient = createRouterClient();
  const mailer = config.mail ? createSmtpMailer({ url: config.mail.smtpUrl, from: config.mail.from }) : undefined;
  let jobs: JobRunner | undefined;
  try {
    jobs = createJobRunner({
      definitions: buildJobDefinitions({ db, gateways, clock, fileStore, secrets, routerClient, senderFor: createSenderFor({ secrets }), mailer, allowPrivateNetworks: config.webhooksAllowPrivateNetworks, logger: logger.child({ component: 'jobs' }) }),
      redisUrl: config.redisUrl,
      queuePrefix: config.queuePrefix,
      logger: logger.child({ component: 'jobs' }),
      processing: options.processJobs,
    });
    if (options.processJobs) {
      for (const schedule of JOB_SCHEDULES) await jobs.schedule(schedule.name, schedule.cron, { scheduleId: schedule.scheduleId, timezone: schedule.timezone });
      await jobs.start();
    }
  } catch (error) {
    await jobs?.close().catch(() => {});
    await db.close();
    throw error;
  }
  const runner = jobs;
  return {
    config,
    logger,
    clock,
    db,
    jobs: runner,
    secrets,
    gateways,
    fileStore,
    routerClient,
    mailer,
    async close() {
      // Running jobs finish first: they may still need the database.
      try {
        await runner.close();
      } finally {
        await db.close();
      }
    },
  };
}
