/**
 * One Temporal dev server is started for the whole run (test/harness/global-setup.ts) unless
 * TEMPORAL_ADDRESS names one; tests isolate themselves by task queue and workflow id.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  // zod keeps its config on a global; Jest 30's global clean-up between files would warn about it.
  testEnvironmentOptions: { globalsCleanup: 'off' },
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // ESM-only dependencies (of @fastify/swagger-ui, light-my-request, swagger-parser): Jest's CommonJS loader needs them compiled.
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|cookie|@apidevtools/json-schema-ref-parser)/)'],
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  // Tests log to .test-logs/<test file>.log, not to this output; a failed test's part of its log is
  // printed after jest's report of it (test/harness/test-log.ts).
  setupFilesAfterEnv: ['<rootDir>/test/harness/log-setup.ts'],
  reporters: ['default', '<rootDir>/test/harness/log-reporter.cjs'],
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  // Starting servers, bundling workflows and waiting on real timers take seconds, not milliseconds.
  testTimeout: 90_000,
  // Two cores here: more workers than that only adds contention against the one dev server.
  maxWorkers: 2,
  verbose: false,
};
