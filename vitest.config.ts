import { defineConfig } from 'vitest/config';

/**
 * One suite: unit tests against fakes, integration tests against real WireMock (started once
 * by the global setup) and PostgreSQL: embedded PGlite per test file by default, the server
 * named by TEST_DATABASE_URL when it is set.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/test-env.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
