import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { handleWhatsAppCloudWebhook, verifyWhatsAppCloudSubscription } from '@relais/bots/whatsapp-cloud';
import { isAppError, requestMessageDelivery } from '@relais/core';
import type { Services } from '../services.js';

const ONE_MEGABYTE = 1024 * 1024;
const params = z.object({ channelId: z.string().max(64) });

/**
 * WhatsApp Cloud API webhook for one number: GET is Meta's subscription handshake, POST the signed
 * events. Bodies are kept as raw bytes on these routes only (a content-type parser scoped to this
 * plugin): X-Hub-Signature-256 is computed over the exact bytes Meta sent.
 *
 * Events are handled inline, then answered 200: each customer message is one short engine
 * transaction (deduplicated by wamid), the payment and the replies leave through the outbox and
 * the delivery queue, so the answer comes well within Meta's ~3 s. A 200 therefore means
 * "committed"; on a failure Meta retries and the wamid dedupe makes the retry harmless — no
 * separate inbox table or job is needed.
 */
export async function whatsappCloudWebhookRoutes(app: FastifyInstance, options: { services: Pick<Services, 'db' | 'clock' | 'secrets' | 'jobs' | 'fileStore'> }) {
  const { services } = options;
  const keepRaw = (_request: unknown, body: Buffer, done: (error: Error | null, body?: Buffer) => void) => done(null, body);
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: ONE_MEGABYTE }, keepRaw);
  // Any other type too: an unsigned body of a strange type is still a 401, not a 415.
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: ONE_MEGABYTE }, keepRaw);

  app.get('/webhooks/whatsapp/:channelId', async (request, reply) => {
    const { channelId } = params.parse(request.params);
    const challenge = await verifyWhatsAppCloudSubscription(services, { channelAccountId: channelId, query: request.query });
    return reply.code(200).header('content-type', 'text/plain; charset=utf-8').send(challenge);
  });

  app.post('/webhooks/whatsapp/:channelId', { bodyLimit: ONE_MEGABYTE }, async (request, reply) => {
    const { channelId } = params.parse(request.params);
    const signature = request.headers['x-hub-signature-256'];
    try {
      const result = await handleWhatsAppCloudWebhook(services, {
        channelAccountId: channelId,
        signature: typeof signature === 'string' ? signature : undefined,
        rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      });
      if (result.messages > 0) await requestMessageDelivery({ queue: services.jobs, clock: services.clock });
      return reply.code(200).send({ received: true });
    } catch (error) {
      // Where the payload was wrong (paths only, never its content) or that the signature failed.
      if (isAppError(error) && (error.code === 'VALIDATION_FAILED' || error.code === 'UNAUTHENTICATED')) {
        request.log.warn({ channelId, code: error.code, reason: error.message, details: error.details }, 'WhatsApp webhook refused');
      }
      throw error;
    }
  });
}
