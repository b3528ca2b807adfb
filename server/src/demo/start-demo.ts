import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Services } from '../services.js';
import { seedDemoTenant } from './seed-demo-tenant.js';
import { startDemoMode, type DemoMode } from './start-demo-mode.js';

/**
 * Builds the services of `relais serve`, in demo mode when the configuration says so: the
 * simulators start first (the CamPay one becomes the platform CamPay app), then the services,
 * then the demo tenant is seeded. Outside demo mode this is just `createServices(config)`.
 */
export async function startDemo(
  config: Config,
  logger: Logger,
  createServices: (effective: Config) => Promise<Services>,
): Promise<{ services: Services; demo?: DemoMode }> {
  if (!config.demo) return { services: await createServices(config) };
  const demo = await startDemoMode({ ...config, demo: config.demo }, logger);
  let services: Services | undefined;
  try {
    services = await createServices({ ...config, campay: demo.campay });
    const seeded = await seedDemoTenant(services, { slug: demo.tenantSlug, router: demo.router });
    logger.info({ tenant: seeded.tenant.slug, created: seeded.created, vouchersGenerated: seeded.vouchersGenerated }, 'demo tenant ready');
    return { services: { ...services, demo }, demo };
  } catch (error) {
    await services?.close().catch(() => {});
    await demo.close();
    throw error;
  }
}
