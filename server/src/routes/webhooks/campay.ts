import type { FastifyInstance } from 'fastify';
import { recordCampayWebhook } from '@relais/core';
import type { Services } from '../../services.js';

const SIXTEEN_KILOBYTES = 16 * 1024;

/**
 * CamPay callbacks for one app: GET with a query string or POST (JSON or form). The event is
 * stored and a confirmation job queued before the 200, so CamPay stops retrying only once
 * nothing can be lost; an unknown reference is stored and answered 200 too.
 */
export async function campayWebhookRoutes(app: FastifyInstance, options: { services: Pick<Services, 'db' | 'gateways' | 'jobs'> }) {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: SIXTEEN_KILOBYTES }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  const handle = async (appId: string, params: unknown) => {
    const receipt = await recordCampayWebhook(options.services, {
      gatewayAppId: appId,
      params: typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : {},
    });
    return { received: true, duplicate: receipt === 'duplicate' };
  };
  app.get<{ Params: { appId: string } }>('/webhooks/campay/:appId', async (request) => handle(request.params.appId, request.query));
  app.post<{ Params: { appId: string } }>('/webhooks/campay/:appId', { bodyLimit: SIXTEEN_KILOBYTES }, async (request) =>
    handle(request.params.appId, { ...(request.query as object), ...(request.body as object) }),
  );
}
