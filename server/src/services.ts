import type { Logger } from 'pino';
import { systemClock, createSecretBox, type Clock, type SecretBox } from '@relais/core';
import { openDatabase, type Database } from '@relais/db';
import { createJobRunner, jobDefinitions, type JobRunner } from '@relais/workers';
import { resolveAppKey } from './app-key.js';
import type { Config } from './config.js';

/** Everything the transports (HTTP, CLI, workers) are wired with. Built once per process. */
export interface Services {
  config: Config;
  logger: Logger;
  clock: Clock;
  db: Database;
  jobs: JobRunner;
  secrets: SecretBox;
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
  let jobs: JobRunner;
  try {
    jobs = createJobRunner({
      definitions: jobDefinitions,
      redisUrl: config.redisUrl,
      queuePrefix: config.queuePrefix,
      logger: logger.child({ component: 'jobs' }),
      processing: options.processJobs,
    });
    if (options.processJobs) await jobs.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  return {
    config,
    logger,
    clock: systemClock,
    db,
    jobs,
    secrets,
    async close() {
      // Running jobs finish first: they may still need the database.
      try {
        await jobs.close();
      } finally {
        await db.close();
      }
    },
  };
}
