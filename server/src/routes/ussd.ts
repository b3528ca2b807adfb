import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { handleUssdRequest, ussdBody } from '@relais/bots/ussd';
import { isAppError, parseInput } from '@relais/core';
import type { Services } from '../services.js';

const EIGHT_KILOBYTES = 8 * 1024;

const channelParams = z.object({ channelId: z.string().max(64) });
const secretQuery = z.looseObject({ secret: z.string().max(256).optional() });

/** What the phone shows when the engine failed: the gateway would otherwise show its own error. */
const UNAVAILABLE = 'END Service indisponible, reessayez plus tard. / Service unavailable, please try again later.';

/**
 * Africa's Talking USSD callback for one channel account (`?secret=` as for SMS): each step is
 * a form POST answered at once in text/plain, "CON ..." or "END ...".
 */
export async function ussdRoutes(app: FastifyInstance, options: { services: Pick<Services, 'db' | 'clock' | 'secrets'> }) {
  const { services } = options;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: EIGHT_KILOBYTES }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  app.post('/webhooks/ussd/:channelId', { bodyLimit: EIGHT_KILOBYTES }, async (request, reply) => {
    let body: string;
    try {
      const screen = await handleUssdRequest(services, {
        channelAccountId: parseInput(channelParams, request.params).channelId,
        secret: secretQuery.safeParse(request.query).data?.secret,
        body: request.body,
      });
      body = ussdBody(screen);
    } catch (error) {
      // Refusals (unknown channel, wrong secret, malformed form) keep their HTTP status.
      if (isAppError(error) && error.httpStatus < 500) throw error;
      request.log.error({ err: error }, 'USSD request failed');
      body = UNAVAILABLE;
    }
    return reply.header('content-type', 'text/plain; charset=utf-8').send(body);
  });
}
