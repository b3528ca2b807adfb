import { createMessagePacer, deliverPendingMessages, MESSAGE_DELIVERY_JOB } from '@relais/core';
import { z } from 'zod';
import { defineJob } from '../job-runner.js';
import type { JobDependencies } from './job-dependencies.js';

/** Also enqueued by requestMessageDelivery() right after messages are written. */
export const DELIVER_MESSAGES_JOB = MESSAGE_DELIVERY_JOB;
/** Every 5 seconds; each run keeps going for up to about 4 s while messages are due. */
export const DELIVER_MESSAGES_CRON = '*/5 * * * * *';

/**
 * WhatsApp (Baileys) numbers are sent for by the process holding their socket (see the WhatsApp
 * connection manager): a generic run elsewhere could only fail them.
 */
export const KINDS_SENT_BY_THEIR_OWNER = ['whatsapp'] as const;

/** Sends customers' pending conversation messages, tenants in turn, paced per chat and per account. */
export const deliverMessagesJob = (deps: JobDependencies) => {
  // One pacer for every run in this process: the spacing of a chat's messages spans runs.
  const pacer = createMessagePacer();
  return defineJob({
    name: DELIVER_MESSAGES_JOB,
    payload: z.object({ tenantId: z.uuid().optional() }),
    attempts: 1, // the next run is the retry; each message keeps its own backoff
    async process(payload) {
      const report = await deliverPendingMessages(
        {
          ...deps,
          pacer,
          // ChannelSendError messages are built to be safe to log (no token, no message text).
          onError: (error, message) => deps.logger.warn({ err: error, ...message }, 'message delivery failed'),
        },
        { tenantId: payload.tenantId, excludeKinds: [...KINDS_SENT_BY_THEIR_OWNER] },
      );
      const { rounds: _rounds, byTenant: _byTenant, ...totals } = report;
      if (totals.sent + totals.retried + totals.dead > 0) deps.logger.info(totals, 'messages delivered');
    },
  });
};
