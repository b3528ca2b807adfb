import { onShutdownSignals } from '@relais/workers';
import { build } from '../../app.js';
import type { Config } from '../../config.js';
import { createLogger } from '../../logger.js';
import { createServices } from '../../services.js';
import type { CliOutput } from '../output.js';

export const serveUsage = 'relais serve';

export async function serveCommand(_args: string[], config: Config, _output: CliOutput): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const services = await createServices(config, logger, { processJobs: config.jobsInServer });
  const app = await build(services);
  onShutdownSignals(async () => {
    try {
      await app.close(); // stops accepting, lets in-flight requests finish
    } finally {
      await services.close(); // waits for running jobs, then closes the database (and its lock)
    }
  }, logger);
  await app.listen({ host: config.http.host, port: config.http.port });
  logger.info(
    { database: services.db.driver, jobs: services.jobs.driver, processingJobs: config.jobsInServer },
    `Relais is serving on http://localhost:${config.http.port}`,
  );
}
