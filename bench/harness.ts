/**
 * What every benchmark scenario runs on: its own Temporal dev server (free ports, so the bench runs next
 * to `npm start`), a HeyGen simulator, a worker in this process and the HTTP API, all real, over real
 * connections. Scenarios add what they need (more workers, a worker process, a second simulator).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { buildApi } from '../src/api/app';
import type { ApiToken } from '../src/api/tokens';
import { createLogger, type Logger } from '../src/logging';
import { DEFAULT_SIMULATOR_WEBHOOK_SECRET } from '../src/contract/simulator';
import { loadConfig, type Config } from '../src/service-config';
import { startSimulator } from '../src/simulator/app';
import { loadSimulatorConfig } from '../src/simulator/config';
import { ensureTemporalCli } from '../src/temporal/cli';
import { findFreePort, startDevServer } from '../src/temporal/dev-server';
import { installTemporalRuntime } from '../src/temporal/runtime';
import { createVideoAgentWorker, type VideoAgentWorker } from '../src/worker';
import { becomeCurrentIfFirst } from '../src/temporal/worker-deployment';

export const BENCH_TOKEN: ApiToken = { name: 'bench', token: 'tok_bench_0123456789abcdef', scopes: ['admin'] };

export interface Stats {
  n: number;
  min: number;
  median: number;
  p99: number;
  max: number;
}

export function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  return { n: sorted.length, min: sorted[0] ?? NaN, median: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

/** One measured figure of the report: what, its statistics, and the target it is held to. */
export interface Figure {
  scenario: string;
  name: string;
  unit: string;
  value: Stats;
  /** The same measure of the baseline, in the same run, when there is one. */
  baseline?: { name: string; value: Stats };
  /** The figure the target is about (e.g. a ratio of medians), and whether it holds. */
  target?: { text: string; actual: number; met: boolean };
}

export interface BenchContext {
  quick: boolean;
  /** The smallest sizes, for the test suite's check that the bench still runs. */
  smoke?: boolean;
  logger: Logger;
  /** The Temporal server's address. */
  address: string;
  client: Client;
  log: (line: string) => void;
}

export async function startBenchContext(options: { quick: boolean; temporalPort?: number }): Promise<BenchContext & { close: () => Promise<void> }> {
  const logger = createLogger({ level: (process.env.BENCH_LOG_LEVEL ?? 'error') as 'error', format: 'json' });
  installTemporalRuntime(logger, { shutdownSignals: [] });
  const cli = await ensureTemporalCli({ logger });
  const server = await startDevServer({ cliPath: cli.path, port: options.temporalPort, ui: false });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  return {
    quick: options.quick,
    logger,
    address: server.address,
    client,
    log: (line) => process.stdout.write(`${line}\n`),
    close: async () => {
      await connection.close();
      await server.stop();
    },
  };
}

export interface Stack {
  config: Config;
  simulatorUrl: string;
  apiUrl: string;
  /** The API in this process; undefined when it runs as a process of its own (`apiProcess`). */
  api: FastifyInstance | undefined;
  worker: VideoAgentWorker | undefined;
  /** POST/GET to the API with the bench token. */
  call: <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;
  close: () => Promise<void>;
}

/**
 * A simulator (time scaled by `timeScale`), a worker on a task queue of its own and an API, on the
 * context's Temporal server. `env` adds service variables (e.g. SESSION_TIMING). The API runs in this
 * process (as `npm start` runs everything), or with `apiProcess` as a process of its own (`npm run api`,
 * as deployed: its HTTP work then does not share an event loop with the worker and the simulator).
 */
export async function startStack(
  ctx: BenchContext,
  name: string,
  options: { timeScale: number; env?: Record<string, string>; simulatorEnv?: Record<string, string>; webhooks?: boolean; noWorker?: boolean; apiProcess?: boolean },
): Promise<Stack> {
  const simulator = await startSimulator(
    loadSimulatorConfig({ SIMULATOR_PORT: '0', SIMULATOR_TIME_SCALE: String(options.timeScale), SIMULATOR_CONCURRENCY_LIMIT: '0', ...options.simulatorEnv }),
    ctx.logger,
  );
  // With webhooks, HeyGen (the simulator) calls our API back, signed with its secret.
  const apiPort = options.webhooks || options.apiProcess ? await findFreePort() : 0;
  const webhookEnv: Record<string, string> = options.webhooks
    ? { HEYGEN_WEBHOOK_URL: `http://127.0.0.1:${apiPort}/v1/webhooks/heygen`, HEYGEN_WEBHOOK_SECRET: DEFAULT_SIMULATOR_WEBHOOK_SECRET }
    : {};
  // Archived videos go to a folder of this stack's own, removed at close.
  const archiveDir = mkdtempSync(path.join(os.tmpdir(), 'vao-bench-archive-'));
  const env = {
    ...webhookEnv,
    ARCHIVE_DIR: archiveDir,
    TEMPORAL_ADDRESS: ctx.address,
    TEMPORAL_TASK_QUEUE: `bench-${name}-${Date.now()}`,
    HEYGEN_BASE_URL: simulator.url,
    HEYGEN_MAX_CONCURRENT: '10000',
    API_TOKENS: JSON.stringify([BENCH_TOKEN]),
    API_RATE_LIMIT: '10000000',
    LOG_LEVEL: 'error',
    ...options.env,
  };
  const config = loadConfig(env);
  const connection = await NativeConnection.connect({ address: ctx.address });
  const worker = options.noWorker ? undefined : await createVideoAgentWorker({ config, logger: ctx.logger, connection });
  const running = worker?.run();
  // As deployed: a versioned worker, whose build the deployment's first worker makes current.
  if (worker && config.deployment.versioning) await becomeCurrentIfFirst(connection, 'default', config.deployment, ctx.logger, { waitMs: 60_000 });
  let api: FastifyInstance | undefined;
  let apiClient: Client | undefined;
  let apiChild: ChildProcess | undefined;
  let apiUrl: string;
  if (options.apiProcess) {
    apiChild = await startApiProcess({ ...env, HOST: '127.0.0.1', PORT: String(apiPort) });
    apiUrl = `http://127.0.0.1:${apiPort}`;
  } else {
    apiClient = new Client({ connection: await Connection.connect({ address: ctx.address }), namespace: 'default' });
    api = await buildApi({ config, logger: ctx.logger, client: apiClient, tokens: [BENCH_TOKEN] });
    await api.listen({ host: '127.0.0.1', port: apiPort });
    const address = api.server.address();
    apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }
  const call: Stack['call'] = async (method, path, body) => {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${BENCH_TOKEN.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as never };
  };
  return {
    config,
    simulatorUrl: simulator.url,
    apiUrl,
    api,
    worker,
    call,
    close: async () => {
      await api?.close();
      await apiClient?.connection.close();
      if (apiChild) await stopProcess(apiChild);
      worker?.shutdown();
      await running;
      await connection.close();
      await simulator.close();
      await rm(archiveDir, { recursive: true, force: true });
    },
  };
}

export interface SimSessionStats {
  session_id: string;
  callback_id: string | null;
  status: string;
  calls: Record<string, number>;
  messages: { message: string; auto_proceed: boolean | null; at: string }[];
  steps: { type: string; at: string }[];
  videos_ready_at: (string | null)[];
}

/** The simulator's record of every HeyGen session (calls, messages received with their wall-clock time). */
export async function simulatorSessions(simulatorUrl: string): Promise<SimSessionStats[]> {
  const response = await fetch(`${simulatorUrl}/__sim/stats`);
  return ((await response.json()) as { sessions: SimSessionStats[] }).sessions;
}

/** `npm run api`'s entry point as a child process, once it listens. */
async function startApiProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'src', 'api', 'main.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('API listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`bench: the API process exited (${code}) before listening:\n${output}`)));
  });
  return child;
}

/** SIGTERM, then waits for the process to exit. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `intervalMs` until it is true, or throws after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 300_000, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}
