/**
 * `npm run test:cluster`: the production shape (test/cluster/*.cluster.ts) on its own PostgreSQL and a
 * Temporal server built from its Go module, so without the dev server the main suite's global setup
 * starts. Kept out of `npm test`: jest.config.js matches only *.test.ts.
 * @type {import('jest').Config}
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config extending the main one
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/cluster'],
  testMatch: ['**/*.cluster.ts'],
  globalSetup: undefined,
  globalTeardown: undefined,
  // The first run builds the server from source (minutes on a cold Go cache), inside the suite's setup.
  testTimeout: 25 * 60_000,
  maxWorkers: 1,
  verbose: true,
};
