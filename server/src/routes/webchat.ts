import { errorCodes, type FastifyInstance } from 'fastify';
import {
  createWebchatAdapter,
  renderWebchatPage,
  webchatImageParams,
  webchatImageQuery,
  webchatListQuery,
  webchatPostMessageBody,
  webchatSlugParams,
  WEBCHAT_MAX_BODY_BYTES,
  WEBCHAT_MAX_TEXT_BODY_BYTES,
} from '@relais/bots/webchat';
import { parseInput } from '@relais/core';
import type { Services } from '../services.js';

/**
 * The web chat: the page at /chat/:tenantSlug and the two endpoints it polls and posts to, plus
 * the images of its messages (the voucher QR), served only with the visitor's contact id.
 */
export async function webchatRoutes(app: FastifyInstance, options: { services: Pick<Services, 'db' | 'clock' | 'fileStore' | 'demo'> }) {
  const webchat = createWebchatAdapter(options.services);

  // Room for a text, or a photo or document (base64) one byte over the attachment limit; beyond, 413.
  app.post('/api/webchat/:tenantSlug/messages', { bodyLimit: WEBCHAT_MAX_BODY_BYTES }, async (request) => {
    // Only a file earns the large limit: a text alone keeps the small one.
    const hasFile = typeof request.body === 'object' && request.body !== null && 'file' in request.body;
    if (!hasFile && Number(request.headers['content-length'] ?? 0) > WEBCHAT_MAX_TEXT_BODY_BYTES) throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
    const { tenantSlug } = parseInput(webchatSlugParams, request.params);
    return webchat.postMessage(tenantSlug, parseInput(webchatPostMessageBody, request.body));
  });

  app.get('/api/webchat/:tenantSlug/messages', async (request, reply) => {
    const { tenantSlug } = parseInput(webchatSlugParams, request.params);
    reply.header('cache-control', 'no-store');
    return webchat.listMessages(tenantSlug, parseInput(webchatListQuery, request.query));
  });

  app.get('/api/webchat/:tenantSlug/images/:messageId', async (request, reply) => {
    const { tenantSlug, messageId } = parseInput(webchatImageParams, request.params);
    const { contactId } = parseInput(webchatImageQuery, request.query);
    const file = await webchat.image(tenantSlug, messageId, contactId);
    // A voucher's QR is a credential: private to the browser, never kept by proxies.
    return reply.header('content-type', file.contentType).header('cache-control', 'private, no-store').send(file.bytes);
  });

  app.get('/chat/:tenantSlug', async (request, reply) => {
    const { tenantSlug } = parseInput(webchatSlugParams, request.params);
    const { tenantName, defaultLocale } = await webchat.describe(tenantSlug);
    return reply.header('content-type', 'text/html; charset=utf-8').send(renderWebchatPage({ tenantSlug, tenantName, locale: defaultLocale, banner: options.services.demo?.banner }));
  });
}
