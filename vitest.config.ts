import { defineConfig } from 'vitest/config';

/**
 * The fast tests: no Java (WireMock), no database server, no bundling. `npm run test:unit`
 * runs only these, so a developer can run them on every change. Each entry outside
 * `test/unit` was checked to be as pure: the chaos run's invariants and its loopback service
 * simulator, the compose file, and the API docs served by the local gateway (no request
 * reaches a service or the database).
 */
const UNIT = [
  'test/unit/**/*.test.ts',
  'test/chaos/invariants.test.ts',
  'test/chaos/simulator.test.ts',
  'test/compose/**/*.test.ts',
  'test/integration/api-docs.test.ts',
];

/** Layer and dependency rules, read from esbuild's metafiles of the bundles (built in memory). */
const ARCHITECTURE = ['test/architecture/**/*.test.ts'];

/**
 * The CDK stack synthesized with cdk-nag. Pure too, but synthesis doubles the unit run's time,
 * and one file bundles every function.
 */
const INFRA = ['test/infra/**/*.test.ts'];

/**
 * `npm test` runs every project: the three above, and everything else against real WireMock
 * (started once by the global setup) and PostgreSQL: embedded PGlite per test file by
 * default, the server named by TEST_DATABASE_URL when it is set.
 */
export default defineConfig({
  test: {
    setupFiles: ['test/support/test-env.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'architecture', include: ARCHITECTURE } },
      { extends: true, test: { name: 'infra', include: INFRA } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...UNIT, ...ARCHITECTURE, ...INFRA],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/wiremock-env.ts'],
        },
      },
    ],
  },
});
