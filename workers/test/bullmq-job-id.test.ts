import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBullmqJobId, toBullmqJobId } from '../src/bullmq-job-id.js';

/** What BullMQ itself refuses (Job.validateOptions): integers, and ':' unless in the `a:b:c` legacy shape. */
const acceptedByBullmq = (id: string): boolean =>
  `${parseInt(id, 10)}` !== id && (!id.includes(':') || id.split(':').length === 3);

describe('BullMQ job id mapping', () => {
  it('maps business keys to accepted ids and back', () => {
    for (const id of ['payment:REF-1', '12345', '0', '-7', '100%', '%3A', 'a%25b:c', 'plain-id']) {
      const bullmqId = toBullmqJobId(id);
      expect(acceptedByBullmq(bullmqId)).toBe(true);
      expect(fromBullmqJobId(bullmqId)).toBe(id);
    }
  });

  it('leaves job scheduler ids untouched so processors and getJob() agree', () => {
    expect(toBullmqJobId('repeat:every-second:1735689600000')).toBe('repeat:every-second:1735689600000');
    expect(fromBullmqJobId('repeat:every-second:1735689600000')).toBe('repeat:every-second:1735689600000');
  });

  it('is one-to-one and always accepted (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '1', '-', ':', '%', '2', '5', '3', 'A', 'r', 'e', 'p', 't') }), fc.string(), (left, right) => {
        const bullmqLeft = toBullmqJobId(left);
        expect(acceptedByBullmq(bullmqLeft)).toBe(true);
        expect(fromBullmqJobId(bullmqLeft)).toBe(left);
        if (left !== right) expect(toBullmqJobId(right)).not.toBe(bullmqLeft);
      }),
      { numRuns: 2_000 },
    );
  });
});
