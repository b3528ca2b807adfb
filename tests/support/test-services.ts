import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createGatewayDirectory, createLocalDiskFileStore, createRouterOsClient, createSecretBox, systemClock, type Clock, type Mailer, type PlatformCampayApp } from '@relais/core';
import { buildJobDefinitions, createJobRunner } from '@relais/workers';
import { loadConfig } from '../../server/src/config.js';
import { createSenderFor } from '../../server/src/channel-senders.js';
import type { Services } from '../../server/src/services.js';
import type { TestDatabase } from './test-database.js';

/**
 * Real services around a test database: in-process jobs (started unless `startJobs: false`),
 * a silent logger, a random APP_KEY, a file store in a temporary directory (removed on close)
 * and, when given, the platform CamPay app (the simulator) and a mailer (notification emails;
 * none: they are skipped, as without SMTP_URL).
 */
export async function createTestServices(
  test: TestDatabase,
  options: { campay?: PlatformCampayApp; clock?: Clock; startJobs?: boolean; telegramApiRoot?: string; mailer?: Mailer } = {},
): Promise<Services> {
  const logger = pino({ level: 'silent' });
  const secrets = createSecretBox(randomBytes(32));
  const clock = options.clock ?? systemClock;
  const gateways = createGatewayDirectory({ db: test.db, secrets, platform: options.campay, timeoutMs: 5_000 });
  const filesDir = await mkdtemp(join(tmpdir(), 'relais-files-'));
  const fileStore = createLocalDiskFileStore(filesDir);
  const routerClient = createRouterOsClient();
  const jobs = createJobRunner({ definitions: buildJobDefinitions({ db: test.db, gateways, clock, fileStore, secrets, routerClient, senderFor: createSenderFor({ secrets }, { telegramApiRoot: options.telegramApiRoot }), mailer: options.mailer, logger }), logger });
  if (options.startJobs !== false) await jobs.start();
  return {
    config: loadConfig({ FILES_DIR: filesDir }),
    logger,
    clock,
    db: test.db,
    jobs,
    secrets,
    gateways,
    fileStore,
    routerClient,
    mailer: options.mailer,
    async close() {
      await jobs.close();
      await test.drop();
      await rm(filesDir, { recursive: true, force: true });
    },
  };
}
