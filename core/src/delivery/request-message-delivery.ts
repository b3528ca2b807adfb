import type { Clock } from '../shared/ports/clock.js';
import type { JobQueue } from '../shared/ports/job-queue.js';

/** The job that runs deliverPendingMessages (workers/src/jobs/deliver-messages.ts). */
export const MESSAGE_DELIVERY_JOB = 'messages.deliver';

/**
 * Asks for a delivery run now, rather than at the next scheduled one: call it after committing
 * outbound messages. A burst of calls makes at most one job per second (deterministic id), and
 * that run sends every due message, not only the caller's.
 */
export async function requestMessageDelivery(deps: { queue: JobQueue; clock: Clock }): Promise<void> {
  const second = Math.floor(deps.clock.now().getTime() / 1000);
  await deps.queue.enqueue(MESSAGE_DELIVERY_JOB, {}, { jobId: `messages-deliver:${second}`, attempts: 1 });
}
