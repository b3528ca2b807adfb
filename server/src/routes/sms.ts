import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { handleInboundSms, handleSmsDeliveryReport } from '@relais/bots/sms';
import { parseInput, requestMessageDelivery } from '@relais/core';
import type { Services } from '../services.js';

const SIXTEEN_KILOBYTES = 16 * 1024;

const channelParams = z.object({ channelId: z.string().max(64) });
const secretQuery = z.looseObject({ secret: z.string().max(256).optional() });

/**
 * Africa's Talking SMS callbacks for one channel account: inbound messages and delivery reports,
 * as forms, authenticated by the `?secret=` of the URL configured in the Africa's Talking
 * dashboard (they carry no signature). Replies leave through the delivery queue, asked to run now.
 */
export async function smsRoutes(app: FastifyInstance, options: { services: Pick<Services, 'db' | 'clock' | 'secrets' | 'jobs'> }) {
  const { services } = options;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: SIXTEEN_KILOBYTES }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  const target = (request: { params: unknown; query: unknown }) => ({
    channelAccountId: parseInput(channelParams, request.params).channelId,
    secret: secretQuery.safeParse(request.query).data?.secret,
  });

  app.post('/webhooks/sms/:channelId/inbound', { bodyLimit: SIXTEEN_KILOBYTES }, async (request) => {
    const received = await handleInboundSms(services, { ...target(request), body: request.body });
    if (!received.duplicate && received.replies > 0) {
      // The replies are committed; a failed nudge only means the next scheduled run sends them.
      await requestMessageDelivery({ queue: services.jobs, clock: services.clock }).catch((error: unknown) => request.log.warn({ err: error }, 'could not request message delivery'));
    }
    return { received: true, duplicate: received.duplicate };
  });

  app.post('/webhooks/sms/:channelId/delivery-reports', { bodyLimit: SIXTEEN_KILOBYTES }, async (request) => {
    const { outcome } = await handleSmsDeliveryReport(services, { ...target(request), body: request.body });
    // An id we do not know yet (the report outran the send's record) is answered 200 all the same: nothing to retry.
    if (outcome === 'unknown_message') request.log.info({ outcome }, 'delivery report for an unknown message');
    return { received: true, outcome };
  });
}
