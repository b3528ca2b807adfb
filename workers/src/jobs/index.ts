import type { JobDefinition } from '../job-runner.js';

/**
 * Every job the platform runs: one processor file per job in this folder (verb-noun, e.g.
 * `confirm-payment.ts` exporting a `defineJob(...)`), each listed here. Empty until the first
 * use case that works in the background lands.
 */
export const jobDefinitions: readonly JobDefinition<any>[] = [];
