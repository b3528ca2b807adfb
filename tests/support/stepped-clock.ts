import type { Clock } from '@relais/core';

/** The real time, moved forward (or back) by tests that need a deadline to pass. */
export function steppedClock(): Clock & { advance(ms: number): void } {
  let offsetMs = 0;
  return { now: () => new Date(Date.now() + offsetMs), advance: (ms) => (offsetMs += ms) };
}
