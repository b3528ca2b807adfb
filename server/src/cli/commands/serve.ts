import { startWhatsAppConnections } from '@relais/bots/whatsapp';
import { onShutdownSignals } from '@relais/workers';
import { build } from '../../app.js';
import type { Config } from '../../config.js';
import { startDemo } from '../../demo/start-demo.js';
import { createLogger } from '../../logger.js';
import { createServices } from '../../services.js';
import type { CliOutput } from '../output.js';

export const serveUsage = 'relais serve';

export async function serveCommand(_args: string[], config: Config, _output: CliOutput): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  // Demo mode (no CamPay, not production): simulators stand in for CamPay and a router.
  const { services, demo } = await startDemo(config, logger, (effective) => createServices(effective, logger, { processJobs: config.jobsInServer }));
  const app = await build(services);
  // WhatsApp sockets live where jobs run; each process sends the messages of the numbers it holds.
  const whatsapp =
    config.whatsappConnections && config.jobsInServer
      ? startWhatsAppConnections({ db: services.db, secrets: services.secrets, clock: services.clock, fileStore: services.fileStore, logger: logger.child({ component: 'whatsapp' }) })
      : undefined;
  if (config.whatsappConnections && !config.jobsInServer) logger.warn('WHATSAPP_CONNECTIONS=on is ignored by "relais serve" when jobs run in "relais worker": the workers connect the numbers');
  onShutdownSignals(async () => {
    try {
      await whatsapp?.stop(); // releases the numbers' leases: another process takes them at once
      await app.close(); // stops accepting, lets in-flight requests finish
    } finally {
      await services.close(); // waits for running jobs, then closes the database (and its lock)
      await demo?.close(); // after the jobs: they may still be talking to the simulators
    }
  }, logger);
  await app.listen({ host: config.http.host, port: config.http.port });
  logger.info(
    { database: services.db.driver, jobs: services.jobs.driver, processingJobs: config.jobsInServer, demo: Boolean(demo) },
    `Relais is serving on http://localhost:${config.http.port}`,
  );
  if (demo) {
    logger.warn(
      `DEMO MODE: payments go to a CamPay simulator, not CamPay. Buy WiFi at http://localhost:${config.http.port}/chat/${demo.tenantSlug}` +
        ` and approve payments at http://localhost:${config.http.port}/demo (set CAMPAY_* or DEMO_MODE=off to leave demo mode)`,
    );
  }
}
