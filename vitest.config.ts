import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{db,core,workers,bots,sim,server,bench}/test/**/*.test.ts', 'tests/**/*.test.ts'],
    // Real databases, Redis and child processes: generous limits, never timing assertions.
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['tests/support/build-admin-web.ts'],
  },
});
