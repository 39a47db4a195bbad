/**
 * Runs the longest chaos scenario (the 5-minute HeyGen outage) first, so the other files share the
 * second worker meanwhile and `npm run test:chaos` ends within minutes of it, cache or no cache.
 */
const FIRST = ['outage.chaos.ts'];

const rank = (test) => {
  const index = FIRST.findIndex((name) => test.path.endsWith(name));
  return index < 0 ? FIRST.length : index;
};

class ChaosSequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  }
  shard(tests) {
    return tests;
  }
  allFailedTests(tests) {
    return tests;
  }
  cacheResults() {}
}

module.exports = ChaosSequencer;
