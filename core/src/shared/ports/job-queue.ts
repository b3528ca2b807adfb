/** How core asks for work to happen later. Implemented in workers/ (BullMQ or in-process). */
export interface EnqueueOptions {
  /**
   * Deterministic id: enqueuing an id that is still waiting, delayed, running or retained
   * as completed adds nothing. Derive it from the business key (e.g. `payment:<reference>`).
   */
  jobId?: string;
  delayMs?: number;
  /** Total tries including the first (default 3). */
  attempts?: number;
  backoff?: { type: 'fixed' | 'exponential'; delayMs: number };
}

export interface EnqueueResult {
  id: string;
  /** false when a job with the same id already existed. */
  added: boolean;
}

export interface JobQueue {
  enqueue(name: string, payload: unknown, options?: EnqueueOptions): Promise<EnqueueResult>;
}
