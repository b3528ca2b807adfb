/** Time as core sees it; tests pass a fixed or stepped clock instead of touching globals. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
