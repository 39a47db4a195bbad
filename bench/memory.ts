/**
 * Target 2 of issue #12: memory and reads at scale. A worker process of its own (so its RSS is its own)
 * runs sessions parked at review: its RSS at 100 parked next to its RSS at N parked; GET
 * /v1/sessions/:id warm, with a raw state query as the baseline; then the worker is restarted and the
 * first GET of each session (a replay in the worker) is timed, and any 5xx counted. How the worker's
 * memory splits (bench/memory-probe.cjs) is logged at both sizes. BENCH_MEMORY_PARKED sets the larger
 * size (default 10,000; 300 in a quick run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { buildApi } from '../src/api/app';
import { stateQuery } from '../src/contract/session';
import { createLogger } from '../src/logging';
import { findFreePort } from '../src/temporal/dev-server';
import { parkSessions } from './approvals';
import { BENCH_TOKEN, sleep, startStack, stats, stopProcess, until, type BenchContext, type Figure, type Stack } from './harness';

const SCENARIO = 'memory';
const ROOT = path.join(__dirname, '..');

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

const PROBE_FILE = path.join(os.tmpdir(), `vao-memory-probe-${process.pid}.json`);

async function startWorkerProcess(stack: Stack, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--expose-gc', '--require', path.join(__dirname, 'memory-probe.cjs'), '--import', 'tsx', path.join(ROOT, 'src', 'worker.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      MEMORY_PROBE_FILE: PROBE_FILE,
      TEMPORAL_ADDRESS: stack.config.temporal.address,
      TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue,
      HEYGEN_BASE_URL: stack.config.heygen.baseUrl,
      HEYGEN_MAX_CONCURRENT: '10000',
      // Metrics on, as deployed, on a port of its own: the default (9464) may be npm start's.
      WORKER_METRICS_PORT: String(await findFreePort()),
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

/** RSS once it has stopped moving (a few readings a second apart within 2%). */
async function settledRss(pid: number): Promise<number> {
  let last = rssMiB(pid);
  for (let i = 0; i < 20; i++) {
    await sleep(1_000);
    const now = rssMiB(pid);
    if (Math.abs(now - last) / last < 0.02) return now;
    last = now;
  }
  return last;
}

/** The worker's memory split (MiB), as its probe reports it: main-thread heap, native, file-backed. */
async function memorySplit(pid: number): Promise<string> {
  const before = Date.now();
  process.kill(pid, 'SIGUSR2');
  await until('the worker to report its memory', async () => {
    try {
      return (await import('node:fs')).statSync(PROBE_FILE).mtimeMs >= before;
    } catch {
      return false;
    }
  }, 10_000, 100);
  const split = JSON.parse(readFileSync(PROBE_FILE, 'utf8')) as Record<string, number>;
  const rest = split.rss! - split.mainHeapTotal! - split.external! - split.fileBacked!;
  return `${Object.entries(split).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}; rest (workflow threads, SDK core, allocator) ${rest.toFixed(0)}`;
}

/** Times `count` sequential calls of `read` over `ids`, each id once (cycling if fewer). */
async function timeReads(ids: string[], count: number, read: (id: string) => Promise<number>): Promise<{ ms: number[]; statuses: Record<string, number> }> {
  const ms: number[] = [];
  const statuses: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const id = ids[i % ids.length]!;
    const start = performance.now();
    const status = await read(id);
    ms.push(performance.now() - start);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  return { ms, statuses };
}

/** Another API instance on the same Temporal, with nothing read yet. */
async function startApiInstance(stack: Stack): Promise<{ get: (id: string) => Promise<number>; close: () => Promise<void> }> {
  const client = new Client({ connection: await Connection.connect({ address: stack.config.temporal.address }), namespace: stack.config.temporal.namespace });
  const app = await buildApi({ config: stack.config, logger: createLogger({ level: 'error', format: 'json' }), client, tokens: [BENCH_TOKEN] });
  return {
    get: async (id) => (await app.inject({ method: 'GET', url: `/v1/sessions/${id}`, headers: { authorization: `Bearer ${BENCH_TOKEN.token}` } })).statusCode,
    close: async () => {
      await app.close();
      await client.connection.close();
    },
  };
}

/** Sessions started at a time while parking: each wave parks before the next starts. */
const PARK_WAVE = 500;

export async function memoryScenario(ctx: BenchContext): Promise<Figure[]> {
  const large = Number(process.env.BENCH_MEMORY_PARKED ?? (ctx.quick ? 300 : 10_000));
  const small = 100;
  const workerEnv = process.env.BENCH_WORKER_ENV ? (JSON.parse(process.env.BENCH_WORKER_ENV) as Record<string, string>) : {};
  // The API (in this process) has no worker of its own here: the worker process is the only one.
  const stack = await startStack(ctx, SCENARIO, {
    timeScale: 1000,
    noWorker: true,
    env: { SESSION_TIMING: JSON.stringify({ pollInitial: '500ms', pollMax: '2s', videoPollInterval: '2s' }), API_QUERY_TIMEOUT: '10s' },
  });
  let worker = await startWorkerProcess(stack, workerEnv);
  try {
    ctx.log(`memory: parking ${small} sessions…`);
    const first = await parkSessions(ctx, stack, small, 'Parked [[sim think=10s]]');
    const rssSmall = await settledRss(worker.pid!);
    ctx.log(`memory: worker RSS ${rssSmall.toFixed(0)} MiB at ${small} parked (${await memorySplit(worker.pid!)}); parking ${large - small} more…`);
    const rest = await parkSessions(ctx, stack, large - small, 'Parked [[sim think=10s]]', large, PARK_WAVE);
    const rssLarge = await settledRss(worker.pid!);
    ctx.log(`memory: worker RSS ${rssLarge.toFixed(0)} MiB at ${large} parked (${await memorySplit(worker.pid!)})`);
    const ids = [...first, ...rest];

    const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(ids.length / 300)) === 0);
    const api = (id: string) => stack.call('GET', `/v1/sessions/${id}`).then((r) => r.status);
    const raw = (id: string) => ctx.client.workflow.getHandle(id).query(stateQuery).then(() => 200);
    // Warm: each read twice, the second timed (the first may have replayed an evicted session).
    await timeReads(sample, sample.length, api);
    const warmApi = await timeReads(sample, sample.length, api);
    const warmRaw = await timeReads(sample, sample.length, raw);

    // Cold: a new worker process, nothing cached; the first read of each session replays it.
    await stopProcess(worker);
    worker = await startWorkerProcess(stack, workerEnv);
    await until('the new worker to answer', async () => (await api(sample[0]!)) === 200, 120_000, 500);
    const cold = await timeReads(sample.slice(1), sample.length - 1, api);
    // And an API that has read nothing yet (restarted too): each first read is a query the new worker
    // answers by replaying the session.
    const freshApi = await startApiInstance(stack);
    const coldest = await timeReads(sample.slice(1), sample.length - 1, (id) => freshApi.get(id));
    await freshApi.close();
    const fiveHundreds = [cold, coldest].flatMap((reads) => Object.entries(reads.statuses)).filter(([status]) => Number(status) >= 500).reduce((a, [, n]) => a + n, 0);
    ctx.log(`memory: reads after a worker restart answered ${JSON.stringify(cold.statuses)}; through a restarted API too ${JSON.stringify(coldest.statuses)}`);

    const warm = stats(warmApi.ms);
    const coldStats = stats(cold.ms);
    return [
      {
        scenario: SCENARIO,
        name: `worker RSS at ${large} sessions parked`,
        unit: 'MiB',
        value: stats([rssLarge]),
        baseline: { name: `at ${small} parked`, value: stats([rssSmall]) },
        target: { text: '≤ 1.2 × RSS at 100 parked', actual: rssLarge / rssSmall, met: rssLarge <= 1.2 * rssSmall },
      },
      {
        scenario: SCENARIO,
        name: `GET /v1/sessions/:id, warm, ${large} parked`,
        unit: 'ms',
        value: warm,
        baseline: { name: 'raw state query', value: stats(warmRaw.ms) },
        target: { text: 'p99 ≤ 50 ms', actual: warm.p99, met: warm.p99 <= 50 },
      },
      {
        scenario: SCENARIO,
        name: `GET /v1/sessions/:id, first read after a worker restart, ${large} parked`,
        unit: 'ms',
        value: coldStats,
        target: { text: 'p99 ≤ 200 ms', actual: coldStats.p99, met: coldStats.p99 <= 200 },
      },
      {
        scenario: SCENARIO,
        name: `GET /v1/sessions/:id, first read after a worker and API restart (the worker replays each), ${large} parked`,
        unit: 'ms',
        value: stats(coldest.ms),
        target: { text: 'p99 ≤ 200 ms', actual: stats(coldest.ms).p99, met: stats(coldest.ms).p99 <= 200 },
      },
      {
        scenario: SCENARIO,
        name: '5xx answers to reads after a worker restart',
        unit: 'answers',
        value: stats([fiveHundreds]),
        target: { text: '0', actual: fiveHundreds, met: fiveHundreds === 0 },
      },
    ];
  } finally {
    await stopProcess(worker);
    await stack.close();
  }
}
