import { describe } from 'vitest';
import { createJobRunner } from '../src/index.js';
import { jobRunnerSuite } from './job-runner-suite.js';

describe('in-process job runner', () => {
  jobRunnerSuite({
    driver: 'in-process',
    makeRunner: (options) => createJobRunner(options),
  });
});
