/**
 * Session workflows end to end in one test file: the run's Temporal dev server, a simulator over real
 * HTTP, and a worker (in this process, with the real activities) on a task queue of the file's own.
 */
import { mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig, type Config } from '../../src/service-config';
import type { HeyGenClient } from '../../src/heygen/client';
import { startVideoAgentSession, type SessionHandle } from '../../src/temporal/sessions';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { createVideoAgentWorker, type VideoAgentWorker } from '../../src/worker';
import type { Phase, SessionInput, SessionState } from '../../src/contract/session';
import { stateQuery } from '../../src/contract/session';
import { startTestSimulator, type TestSimulator } from './simulator';
import { connectClient, temporalAddress, testLogger, uniqueId, workflowBundle } from './temporal';
import { eventually } from './wait';

/** Fast polling for simulated sessions that run 1000x faster than real ones. */
export const FAST_TIMING = {
  pollInitial: 20,
  pollMax: 200,
  pollBackoff: 2,
  videoPollInterval: 20,
  activityHeartbeatTimeout: '3s',
} as const;

export interface SessionHarness {
  sim: TestSimulator;
  client: Client;
  taskQueue: string;
  config: Config;
  /** The environment behind `config`, to derive other configs from. */
  configEnv: Record<string, string>;
  start: (input: SessionInput, options?: { workflowId?: string; taskQueue?: string }) => Promise<SessionHandle>;
  state: (handle: SessionHandle) => Promise<SessionState>;
  waitForPhase: (handle: SessionHandle, phase: Phase | Phase[], timeoutMs?: number) => Promise<SessionState>;
  /** The simulator's record of the HeyGen session(s) a workflow created. */
  heygenSessions: (workflowId: string) => Promise<Awaited<ReturnType<TestSimulator['stats']>>['sessions']>;
  /** Starts another worker on the same queue (e.g. after killing one). */
  startWorker: (overrides?: Partial<Config['heygen']>, taskQueue?: string, heygen?: HeyGenClient) => Promise<{ worker: VideoAgentWorker; stop: () => Promise<void> }>;
  close: () => Promise<void>;
}

export interface SessionHarnessOptions {
  simulatorEnv?: Record<string, string>;
  /** Start an in-process worker (default true); crash tests run workers as processes instead. */
  worker?: boolean;
  /** A Temporal server other than the run's shared one. */
  address?: string;
  /** More service variables (e.g. HEYGEN_MAX_CONCURRENT). */
  env?: Record<string, string>;
}

export async function startSessionHarness(options: SessionHarnessOptions = {}): Promise<SessionHarness> {
  const address = options.address ?? temporalAddress();
  const sim = await startTestSimulator({ SIMULATOR_CONCURRENCY_LIMIT: '0', ...options.simulatorEnv });
  const { client, close: closeClient } = await connectClient(address);
  const taskQueue = uniqueId('sessions');
  // The governor runs as in production, with room enough that sessions a test leaves parked never
  // hold up the next test (each simulator is an account of its own); tests of the cap set their own.
  // Each harness archives its videos into a folder of its own, removed at close.
  const archiveDir = mkdtempSync(path.join(os.tmpdir(), 'vao-test-archive-'));
  const configEnv = {
    ARCHIVE_DIR: archiveDir,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    HEYGEN_BASE_URL: sim.url,
    LOG_LEVEL: 'warn',
    HEYGEN_MAX_CONCURRENT: '1000',
    HEYGEN_SLOT_RECLAIM_INTERVAL: '1s',
    // Each file's workers poll a task queue of its own, unversioned: Worker Versioning has tests of its own
    // (test/versioning), and the processes tests start run versioned, as deployed.
    WORKER_VERSIONING: 'false',
    ...options.env,
  };
  const config = loadConfig(configEnv);
  const bundle = await workflowBundle(require.resolve('../../src/workflows'));
  const workers: { stop: () => Promise<void> }[] = [];

  const startWorker = async (overrides: Partial<Config['heygen']> = {}, queue = taskQueue, heygen?: HeyGenClient) => {
    // Installed only with a worker: a Runtime no worker ever used keeps the process from exiting.
    installTemporalRuntime(testLogger, { shutdownSignals: [] });
    const connection = await NativeConnection.connect({ address });
    const worker = await createVideoAgentWorker({
      config: { ...config, heygen: { ...config.heygen, ...overrides } },
      logger: testLogger,
      connection,
      workflowBundle: bundle,
      taskQueue: queue,
      heygen,
    });
    const running = worker.run();
    let stopped: Promise<void> | undefined;
    const entry = {
      worker,
      // Once, however many times it is asked (a test, then the harness's close).
      stop: () =>
        (stopped ??= (async () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running.catch(() => undefined);
          await connection.close();
        })()),
    };
    workers.push(entry);
    return entry;
  };
  if (options.worker !== false) await startWorker();

  const state = (handle: SessionHandle) => handle.query(stateQuery);
  return {
    sim,
    client,
    taskQueue,
    config,
    configEnv,
    start: (input, options = {}) =>
      startVideoAgentSession(
        client,
        { ...input, timing: { ...FAST_TIMING, ...input.timing } },
        { taskQueue: options.taskQueue ?? taskQueue, workflowId: options.workflowId ?? uniqueId('session') },
      ),
    state,
    waitForPhase: (handle, phase, timeoutMs = 20_000) => {
      const phases = Array.isArray(phase) ? phase : [phase];
      return eventually(
        async () => {
          const current = await state(handle);
          return phases.includes(current.phase) ? current : undefined;
        },
        { timeoutMs, intervalMs: 25, what: `session ${handle.workflowId} to reach ${phases.join('|')}` },
      );
    },
    heygenSessions: async (workflowId) => (await sim.stats({ callback_id: workflowId })).sessions,
    startWorker,
    close: async () => {
      for (const worker of workers) await worker.stop();
      await closeClient();
      await sim.close();
      await rm(archiveDir, { recursive: true, force: true });
    },
  };
}

const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');

/**
 * With RECORD_HISTORIES=1, saves the workflow's history as a replay fixture
 * (test/fixtures/histories/<kind>-<name>.json); test/workflows/replay.test.ts replays them all.
 */
export async function recordHistory(handle: { fetchHistory: SessionHandle['fetchHistory'] }, name: string, kind: 'session' | 'governor' = 'session'): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  await writeFile(path.join(HISTORIES, `${kind}-${name}.json`), `${historyToJSON(await handle.fetchHistory())}\n`);
}

/**
 * Waits until a workflow has nothing in flight: no workflow task and no activity pending, so it waits on
 * a timer or a signal and its state stays as it is until one comes (a condition, where a pause of a fixed
 * time would be too short on a loaded machine).
 */
export async function settled(handle: { describe: SessionHandle['describe']; workflowId: string }): Promise<void> {
  await eventually(
    async () => {
      const { raw } = await handle.describe();
      return !raw.pendingWorkflowTask && (raw.pendingActivities ?? []).length === 0;
    },
    { what: `${handle.workflowId} to have no workflow task or activity pending` },
  );
}

/** The Web UI's status line of a workflow (its current details), read through the metadata query. */
export async function detailsOf(handle: { query: (name: string) => Promise<unknown> }): Promise<string> {
  const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
  return metadata.currentDetails ?? '';
}
