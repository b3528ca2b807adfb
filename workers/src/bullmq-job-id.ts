/**
 * BullMQ refuses custom job ids that contain ':' or look like integers, but ours are business
 * keys such as `payment:<reference>`. These two functions map any id to an accepted one and back,
 * one-to-one, so callers never see the difference.
 *
 * - '%' -> '%25' and ':' -> '%3A' (percent-encoding of just those two characters);
 * - an integer-looking result gets a trailing '%' (escaped text never ends with a bare '%');
 * - ids BullMQ job schedulers create (`repeat:<scheduleId>:<millis>`) pass through unchanged,
 *   so that getJob() finds scheduled runs by the id their processor saw.
 */
const SCHEDULER_JOB_ID = /^repeat:[^:]+:\d+$/;

export function toBullmqJobId(id: string): string {
  if (SCHEDULER_JOB_ID.test(id)) return id;
  const escaped = id.replace(/[%:]/g, (character) => (character === '%' ? '%25' : '%3A'));
  return `${parseInt(escaped, 10)}` === escaped ? `${escaped}%` : escaped;
}

export function fromBullmqJobId(bullmqId: string): string {
  if (SCHEDULER_JOB_ID.test(bullmqId)) return bullmqId;
  const unmarked = bullmqId.endsWith('%') ? bullmqId.slice(0, -1) : bullmqId;
  return unmarked.replace(/%(25|3A)/g, (_match, code: string) => (code === '25' ? '%' : ':'));
}
