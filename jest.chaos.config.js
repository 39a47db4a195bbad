/**
 * `npm run test:chaos`: the chaos scenarios of test/chaos (*.chaos.ts), minutes each, against one
 * Temporal dev server for the run (test/harness/global-setup.ts), as the main suite does. Kept out of
 * `npm test`: jest.config.js matches only *.test.ts.
 * @type {import('jest').Config}
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config extending the main one
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/chaos'],
  testMatch: ['**/*.chaos.ts'],
  setupFiles: ['<rootDir>/test/chaos/setup.ts'],
  // The outage scenario alone keeps HeyGen away for 5 minutes (CHAOS_OUTAGE_MS).
  testTimeout: 10 * 60_000,
  // Two cores: the files run two at a time against the one dev server, the outage first.
  maxWorkers: 2,
  testSequencer: '<rootDir>/test/chaos/sequencer.cjs',
  verbose: true,
};
