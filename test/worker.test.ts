/**
 * `npm run worker` as a process: it runs sessions, stops on SIGTERM after letting in-flight HeyGen calls
 * finish, and explains an unreachable Temporal server.
 */
import path from 'node:path';
import { findFreePort } from '../src/temporal/dev-server';
import { PROJECT_ROOT, startProcess, tsNode, type RunningProcess } from './harness/processes';
import { startSessionHarness, type SessionHarness } from './harness/sessions';
import { temporalAddress } from './harness/temporal';
import { eventually } from './harness/wait';

const WORKER = path.join(PROJECT_ROOT, 'src', 'worker.ts');
let h: SessionHarness;

beforeAll(async () => {
  h = await startSessionHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});
/** Every worker a test started ends with it, passed or failed (a failed one left running outlives the run). */
const started: RunningProcess[] = [];
afterEach(async () => {
  for (const worker of started.splice(0)) {
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) continue;
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
});

function startWorker(env: NodeJS.ProcessEnv): RunningProcess {
  const worker = startProcess(...tsNode(WORKER), env);
  started.push(worker);
  return worker;
}

function workerEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_TASK_QUEUE: h.taskQueue,
    HEYGEN_BASE_URL: h.sim.url,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

test('runs a session, and on SIGTERM lets the in-flight HeyGen call finish before exiting', async () => {
  const worker = startWorker(workerEnv());
  await worker.waitForLine(/"msg":"worker running"/);
  const handle = await h.start({ prompt: 'Graceful [[sim think=5000s]]' });
  const sessionId = (await h.waitForPhase(handle, 'thinking')).heygenSessionId!;
  await h.sim.configure({ slowMs: 1_500 });
  await h.sim.fault({ endpoint: 'get_session', fault: 'slow', session_id: sessionId });
  const answered = (await h.sim.stats()).responses['get_session 200'] ?? 0;
  // The next status read is now being held by the simulator: stop the worker in the middle of it.
  await eventually(async () => (await h.sim.stats()).faults_injected.slow === 1);
  worker.child.kill('SIGTERM');
  expect(await worker.exited).toEqual({ code: 0, signal: null });
  expect(worker.output()).toMatch(/"msg":"shutting down"/);
  // The held read was answered and its result recorded by this worker before it left.
  expect((await h.sim.stats()).responses['get_session 200']).toBeGreaterThan(answered);
  const events = (await handle.fetchHistory()).events ?? [];
  const lastScheduled = events.filter((e) => e.activityTaskScheduledEventAttributes).at(-1)!;
  const completion = events.find((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === lastScheduled.eventId?.toString());
  expect(completion?.activityTaskCompletedEventAttributes?.identity).toContain(`:${worker.child.pid}`);
  await handle.terminate('test over');
});

test('Ctrl-C during a render says at once what happens and that a second Ctrl-C forces the stop; the second one does', async () => {
  const worker = startWorker(workerEnv());
  await worker.waitForLine(/"msg":"worker running"/);
  const handle = await h.start({ prompt: 'Rendering when stopped [[sim review=skip think=1ms generate=300000s]]', timing: { pollInitial: '1s', pollMax: '20s' } });
  await h.waitForPhase(handle, 'generating');
  // The follow activity is asleep between reads: a clean stop waits for it (WORKER_SHUTDOWN_GRACE).
  await eventually(async () => ((await handle.describe()).raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'followHeyGenSession'));
  const before = worker.output().length;
  worker.child.kill('SIGINT');
  const said = await worker.waitForLine(/Ctrl-C again/, 10_000).catch(() => null);
  const stillRunning = worker.child.exitCode === null;
  console.log(`after the first Ctrl-C, still running: ${stillRunning}; printed: ${JSON.stringify(worker.output().slice(before).trim().split('\n').slice(0, 3))}`);
  expect(said).toMatch(/Stopping/);
  expect(stillRunning).toBe(true);
  worker.child.kill('SIGINT');
  expect(await worker.exited).toEqual({ code: 130, signal: null });
  await handle.terminate('test over');
});

test('an unreachable Temporal server is reported with the variable to check', async () => {
  const port = await findFreePort();
  const worker = startWorker(workerEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }));
  expect((await worker.exited).code).toBe(1);
  expect(worker.output()).toContain(`Cannot reach Temporal at 127.0.0.1:${port}`);
  expect(worker.output()).toContain('Check TEMPORAL_ADDRESS');
  expect(worker.output()).not.toMatch(/^\s+at /m);
});
