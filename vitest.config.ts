import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/**
 * Test files that exercise SQL: they run once on PostgreSQL and once on PGlite (the embedded default), so a
 * difference between the two drivers fails a test. A test inside them that needs PostgreSQL itself (several
 * instances on one database, Redis beside it) says so with `postgresAvailable()` and runs in the first only.
 */
const DATABASE_TESTS = [
  'test/analytics-api.test.ts',
  'test/analytics-functions.test.ts',
  'test/api.test.ts',
  'test/circuit-breaker-reset.test.ts',
  'test/contract.test.ts',
  'test/federation.test.ts',
  'test/gateway.test.ts',
  'test/key-cache.test.ts',
  'test/live-fan-out.test.ts',
  'test/live-registry.test.ts',
  'test/live.test.ts',
  'test/mcp-endpoint-bad-input.test.ts',
  'test/mcp-endpoint.test.ts',
  'test/metrics.test.ts',
  'test/mcp-oauth.test.ts',
  'test/migrations.test.ts',
  'test/oidc.test.ts',
  'test/registry-api.test.ts',
  'test/registry-import.test.ts',
  'test/request-log-writer.test.ts',
  'test/security.test.ts',
  'test/servers.test.ts',
  'test/tenant-isolation.test.ts',
  'test/tenant-scope.test.ts',
  'test/tool-search.test.ts',
  'test/tracing.test.ts',
  'test/users-and-keys.test.ts',
  'test/virtual-servers.test.ts',
];

export default defineConfig({
  // esbuild (vitest's default transform) emits no decorator metadata; type-graphql and MikroORM need it.
  plugins: [
    swc.vite({
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        target: 'es2022',
      },
    }),
  ],
  resolve: {
    // One graphql module instance for the app and the tests ("another module or realm" otherwise).
    alias: { graphql: 'graphql/index.js' },
  },
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // On CI a JSON report lets .ci/run print the "N passed, N failed" summary line.
    reporters: process.env.CI === 'true' ? ['default', 'json'] : ['default'],
    outputFile: { json: '.ci/test-results.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**'],
          env: { TEST_DATABASE: 'postgres' },
        },
      },
      {
        extends: true,
        test: { name: 'pglite', include: DATABASE_TESTS, env: { TEST_DATABASE: 'pglite' } },
      },
      {
        // The built server as users start it, one child process per supported configuration.
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/support/build.ts'],
          env: { TEST_DATABASE: 'postgres' },
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
