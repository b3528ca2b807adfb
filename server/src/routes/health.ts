import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Services } from '../services.js';

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
  ]);
}

/** GET /health: database and queue state; 200 when both answer, 503 otherwise. */
export const healthRoutes = fp(
  async (app: FastifyInstance, options: { services: Pick<Services, 'db' | 'jobs' | 'demo'>; version: string }) => {
    const { db, jobs, demo } = options.services;
    app.get('/health', async (request, reply) => {
      const started = performance.now();
      const database = await withTimeout(db.ping()).then(
        () => ({ driver: db.driver, ok: true, latencyMs: Math.round(performance.now() - started) }),
        (error: Error) => {
          request.log.warn({ err: error }, 'health: database check failed');
          return { driver: db.driver, ok: false, error: 'database unreachable' };
        },
      );
      const queue = await withTimeout(jobs.health()).catch((error: Error) => {
        request.log.warn({ err: error }, 'health: queue check failed');
        return { driver: jobs.driver, ok: false, error: 'queue unreachable' };
      });
      const ok = database.ok && queue.ok;
      return reply.status(ok ? 200 : 503).send({
        status: ok ? 'ok' : 'degraded',
        version: options.version,
        uptimeSeconds: Math.round(process.uptime()),
        // Monitoring must be able to tell that payments here are simulated.
        demo: Boolean(demo),
        database,
        queue,
      });
    });
  },
  { name: 'health-routes' },
);
