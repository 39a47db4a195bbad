/**
 * `npm run test:chaos`: the chaos scenarios of test/chaos (*.chaos.ts), minutes each, against one
 * Temporal dev server for the run (test/harness/global-setup.ts), as the main suite does. Kept out of
 * `npm test`: jest.config.js matches only *.test.ts.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  // zod keeps its config on a global; Jest 30's global clean-up between files would warn about it.
  testEnvironmentOptions: { globalsCleanup: 'off' },
  roots: ['<rootDir>/test/chaos'],
  testMatch: ['**/*.chaos.ts'],
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|cookie|@apidevtools/json-schema-ref-parser)/)'],
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  setupFiles: ['<rootDir>/test/chaos/setup.ts'],
  // The outage scenario alone keeps HeyGen away for 5 minutes (CHAOS_OUTAGE_MS).
  testTimeout: 10 * 60_000,
  // Two cores: the files run two at a time against the one dev server, the outage first.
  maxWorkers: 2,
  testSequencer: '<rootDir>/test/chaos/sequencer.cjs',
  verbose: true,
};
