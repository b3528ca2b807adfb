import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createSecretBox, systemClock } from '@relais/core';
import { createJobRunner, jobDefinitions } from '@relais/workers';
import { loadConfig } from '../../server/src/config.js';
import type { Services } from '../../server/src/services.js';
import type { TestDatabase } from './test-database.js';

/** Real services around a test database: in-process jobs, a silent logger, a random APP_KEY. */
export async function createTestServices(test: TestDatabase): Promise<Services> {
  const logger = pino({ level: 'silent' });
  const jobs = createJobRunner({ definitions: jobDefinitions, logger });
  await jobs.start();
  return {
    config: loadConfig({}),
    logger,
    clock: systemClock,
    db: test.db,
    jobs,
    secrets: createSecretBox(randomBytes(32)),
    async close() {
      await jobs.close();
      await test.drop();
    },
  };
}
