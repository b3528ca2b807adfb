import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { adminWeb, DEFAULT_ADMIN_WEB_BUILD_DIRECTORY } from './plugins/admin-web.js';
import { demoRoutes } from './demo/demo-routes.js';
import { errorHandler } from './plugins/error-handler.js';
import { healthRoutes } from './routes/health.js';
import { campayWebhookRoutes } from './routes/webhooks/campay.js';
import { smsRoutes } from './routes/sms.js';
import { ussdRoutes } from './routes/ussd.js';
import { webchatRoutes } from './routes/webchat.js';
import { whatsappCloudWebhookRoutes } from './routes/whatsapp-cloud.js';
import { telegramWebhookRoutes } from './routes/webhooks/telegram.js';
import type { Services } from './services.js';
import { RELAIS_VERSION } from './version.js';

const ONE_MEGABYTE = 1024 * 1024;

export interface BuildOptions {
  /** Directory of the admin-web build, or false to serve no web app (API-only tests). */
  adminWebBuildDirectory?: string | false;
}

/** The HTTP application, not listening: tests drive it with app.inject(). */
export async function build(services: Services, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: ONE_MEGABYTE,
    trustProxy: services.config.trustProxy,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && /^[\w-]{8,64}$/.test(incoming) ? incoming : randomUUID();
    },
  });
  await app.register(errorHandler);
  await app.register(healthRoutes, { services, version: RELAIS_VERSION });
  await app.register(campayWebhookRoutes, { services });
  await app.register(webchatRoutes, { services });
  await app.register(smsRoutes, { services });
  await app.register(ussdRoutes, { services });
  if (services.demo) await app.register(demoRoutes, { demo: services.demo });
  await app.register(telegramWebhookRoutes, { services });
  await app.register(whatsappCloudWebhookRoutes, { services });
  // The web app's catch-all goes last so that /health, /api and /webhooks keep their routes.
  const buildDirectory = options.adminWebBuildDirectory ?? DEFAULT_ADMIN_WEB_BUILD_DIRECTORY;
  if (buildDirectory !== false) await app.register(adminWeb, { buildDirectory });
  return app;
}
