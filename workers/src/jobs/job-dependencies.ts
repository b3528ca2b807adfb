import type { Clock, GatewayDirectory } from '@relais/core';
import type { Database } from '@relais/db';
import type { Logger } from 'pino';

/** What job processors are wired with (built once per process by the composition root). */
export interface JobDependencies {
  db: Database;
  gateways: GatewayDirectory;
  clock: Clock;
  logger: Logger;
}
