import pino, { type Logger } from 'pino';
import { createSecretBox, systemClock, type Clock, type RouterClient, type SecretBox } from '@relais/core';
import { openDatabase, type Database } from '@relais/db';
import { resolveAppKey } from '../app-key.js';
import type { Config } from '../config.js';
import { REDACTED_PATHS } from '../logger.js';
import { createRouterClient } from '../router-client.js';

/** What one-shot commands work with; logs go to stderr so stdout carries the result. */
export interface CliContext {
  db: Database;
  secrets: SecretBox;
  clock: Clock;
  logger: Logger;
  routerClient: RouterClient;
}

export async function withCliContext<T>(config: Config, work: (context: CliContext) => Promise<T>): Promise<T> {
  const logger = pino({ name: 'relais', level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, pino.destination(2));
  const secrets = createSecretBox(resolveAppKey(config, logger));
  const db = await openDatabase(config.database);
  try {
    return await work({ db, secrets, clock: systemClock, logger, routerClient: createRouterClient() });
  } finally {
    await db.close();
  }
}
