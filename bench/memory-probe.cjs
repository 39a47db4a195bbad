/**
 * Preloaded into the memory scenario's worker process (NODE_OPTIONS=--require): on SIGUSR2 it writes how
 * the process's memory splits to MEMORY_PROBE_FILE, after a full GC of the main thread. The workflow
 * threads' heaps are not visible from here: they are in what is left of the RSS.
 */
const { readFileSync, writeFileSync } = require('node:fs');
const v8 = require('node:v8');

const MiB = 2 ** 20;
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') global.gc();
  const usage = process.memoryUsage();
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) / 1024;
  const heap = v8.getHeapStatistics();
  writeFileSync(
    process.env.MEMORY_PROBE_FILE,
    JSON.stringify({
      rss: usage.rss / MiB,
      mainHeapUsed: usage.heapUsed / MiB,
      mainHeapTotal: usage.heapTotal / MiB,
      external: usage.external / MiB,
      arrayBuffers: usage.arrayBuffers / MiB,
      mainMalloced: heap.malloced_memory / MiB,
      anonymous: kib('Anonymous'),
      fileBacked: kib('Rss') - kib('Anonymous'),
    }),
  );
});
