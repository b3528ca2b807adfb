import type { FastifyInstance } from 'fastify';
import { answerTelegramCallback, handleTelegramUpdate } from '@relais/bots/telegram';
import { requestMessageDelivery } from '@relais/core';
import { z } from 'zod';
import type { Services } from '../../services.js';

const params = z.object({ channelId: z.string().max(64) });

/**
 * Telegram's webhook for one bot: POST /webhooks/telegram/:channelId with the secret token header
 * set by setWebhook (never the bot token in the URL). Answers 200 once the update is handled, so
 * Telegram retries only what we did not take; the replies leave through the delivery queue.
 */
export async function telegramWebhookRoutes(app: FastifyInstance, options: { services: Pick<Services, 'db' | 'clock' | 'secrets' | 'jobs' | 'logger' | 'fileStore'> }) {
  const { services } = options;
  app.post('/webhooks/telegram/:channelId', async (request, reply) => {
    const { channelId } = params.parse(request.params);
    const secretToken = request.headers['x-telegram-bot-api-secret-token'];
    const result = await handleTelegramUpdate(services, {
      channelAccountId: channelId,
      secretToken: typeof secretToken === 'string' ? secretToken : undefined,
      update: request.body,
    });
    if (result.handled) await requestMessageDelivery({ queue: services.jobs, clock: services.clock });
    if (result.callback) {
      // Only the error's name: a network error's message may quote the request URL, which holds the bot token.
      answerTelegramCallback(result.callback).catch((error: unknown) => services.logger.warn({ channelId, error: (error as Error)?.name }, 'could not answer a Telegram callback query'));
    }
    return reply.code(200).send({ ok: true });
  });
}
