import { startWhatsAppConnections } from '@relais/bots/whatsapp';
import { onShutdownSignals } from '@relais/workers';
import { ConfigError, type Config } from '../../config.js';
import { createLogger } from '../../logger.js';
import { createServices } from '../../services.js';
import type { CliOutput } from '../output.js';

export const workerUsage = 'relais worker';

/** A process that only processes jobs: needs Redis, since the in-process runner lives in `serve`. */
export async function workerCommand(_args: string[], config: Config, _output: CliOutput): Promise<void> {
  if (!config.redisUrl) {
    throw new ConfigError('REDIS_URL must be set for "relais worker"; without Redis, jobs run inside "relais serve"');
  }
  const logger = createLogger({ level: config.logLevel, name: 'relais-worker' });
  const services = await createServices(config, logger, { processJobs: true });
  // Each number is connected (and its messages sent) by one worker only (its lease); the others wait to take over.
  const whatsapp = config.whatsappConnections
    ? startWhatsAppConnections({ db: services.db, secrets: services.secrets, clock: services.clock, fileStore: services.fileStore, logger: logger.child({ component: 'whatsapp' }) })
    : undefined;
  onShutdownSignals(async () => {
    await whatsapp?.stop();
    await services.close();
  }, logger);
  logger.info({ database: services.db.driver }, 'Relais worker is processing jobs');
}
