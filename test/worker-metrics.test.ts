/**
 * The worker's metrics endpoint, scraped while sessions run: `npm run worker` as a process, with
 * WORKER_METRICS_PORT, against the run's Temporal server and the simulator over HTTP, sessions started
 * and approved through the API. The endpoint serves the Temporal SDK's metrics and ours, and ours follow
 * the sessions: the create counted once as a success, a 500 counted as a server error and its retry,
 * the governor's slot held while a session is parked, the session in `reviewing` by visibility's count,
 * the review's wait observed after the approval. Every metric the Grafana dashboard reads, and every one
 * docs/metrics.md names, is in these scrapes (the worker's or the API's).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { heygenAccountId } from '../src/activities';
import { DEFAULT_SIMULATOR_API_KEY } from '../src/contract/simulator';
import { findFreePort } from '../src/temporal/dev-server';
import { startApiHarness, waitForApiPhase, type ApiHarness } from './harness/api';
import { dashboardMetricNames, isExposed, OUR_WORKER_METRICS, parseExposition, SDK_METRICS, sumOf, valueOf, type Exposition } from './harness/metrics';
import { PROJECT_ROOT, startProcess, tsNode, type RunningProcess } from './harness/processes';
import { temporalAddress } from './harness/temporal';
import { eventually } from './harness/wait';

const WORKER = path.join(PROJECT_ROOT, 'src', 'worker.ts');
const MAX_CONCURRENT = 3;

let api: ApiHarness;
let worker: RunningProcess;
let metricsUrl: string;
let account: string;
const startedAt = Date.now();

function workerEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_TASK_QUEUE: api.sessions.taskQueue,
    HEYGEN_BASE_URL: api.sessions.sim.url,
    HEYGEN_MAX_CONCURRENT: String(MAX_CONCURRENT),
    WORKER_METRICS_COUNT_INTERVAL: '500ms',
    ARCHIVE: 'off',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

async function scrape(): Promise<Exposition> {
  const response = await fetch(metricsUrl);
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

/** Scrapes until `check` holds (the values come as the sessions move and visibility learns of them). */
async function scrapeUntil(what: string, check: (exposition: Exposition) => boolean): Promise<Exposition> {
  return eventually(
    async () => {
      const exposition = await scrape();
      return check(exposition) && exposition;
    },
    { timeoutMs: 20_000, intervalMs: 250, what },
  );
}

beforeAll(async () => {
  api = await startApiHarness({ sessions: { worker: false } });
  const port = await findFreePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  account = heygenAccountId(api.sessions.sim.url, DEFAULT_SIMULATOR_API_KEY);
  worker = startProcess(...tsNode(WORKER), workerEnv({ WORKER_METRICS_PORT: String(port) }));
  await worker.waitForLine(/"msg":"worker running"/);
  expect(worker.output()).toContain(`"metrics":"${metricsUrl}"`);
});

afterAll(async () => {
  if (worker) {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
  await api?.close();
});

test('a session through review: SDK metrics and ours, with the values the session gives them', async () => {
  const queue = api.sessions.taskQueue;
  const created = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'A metrics teaser [[sim think=5s generate=5s]]' } });
  expect(created.status).toBe(201);
  const id = created.body.id;
  const parked = await waitForApiPhase(api, id, 'reviewing');
  const heygenSessionId = parked.heygenSessionId as string;

  // Parked at the storyboard: it holds one of the account's slots, and visibility counts it as reviewing.
  // (A round of counts that ran while the session moved may count it in two phases: the next one is right.)
  const atReview = await scrapeUntil('the parked session in vao_sessions and the governor', (m) => {
    const total = sumOf(m, 'vao_sessions', { task_queue: queue });
    return valueOf(m, 'vao_sessions', { phase: 'reviewing', task_queue: queue }) === 1 && total === 1 && valueOf(m, 'vao_governor_slots_in_use', { account }) === 1;
  });
  expect(valueOf(atReview, 'vao_sessions', { phase: 'thinking', task_queue: queue })).toBe(0);
  expect(valueOf(atReview, 'vao_governor_slots_limit', { account })).toBe(MAX_CONCURRENT);
  expect(valueOf(atReview, 'vao_governor_queue_length', { account })).toBe(0);
  expect(valueOf(atReview, 'vao_governor_updated_timestamp_seconds', { account })).toBeGreaterThanOrEqual(Math.floor(startedAt / 1000));
  // The governor's gauges carry the workflow's labels; the account is a fingerprint, not the key.
  expect(atReview.samples.find((s) => s.name === 'vao_governor_slots_in_use')?.labels).toEqual({
    account,
    namespace: 'default',
    taskQueue: queue,
    workflowType: 'heygenGovernor',
  });
  // HeyGen calls: the create once, a success; reads by their route pattern.
  const create = { method: 'POST', route: '/v3/video-agents', outcome: 'success' };
  expect(valueOf(atReview, 'vao_heygen_requests_total', create)).toBe(1);
  expect(valueOf(atReview, 'vao_heygen_request_duration_seconds_count', create)).toBe(1);
  expect(valueOf(atReview, 'vao_heygen_request_duration_seconds_bucket', { ...create, le: '+Inf' })).toBe(1);
  expect(valueOf(atReview, 'vao_heygen_requests_total', { method: 'GET', route: '/v3/video-agents/{session_id}', outcome: 'success' })).toBeGreaterThanOrEqual(1);
  expect(valueOf(atReview, 'vao_session_phase_entries_total', { phase: 'reviewing', taskQueue: queue, workflowType: 'videoAgentSession' })).toBe(1);
  // The SDK's own, for this task queue.
  expect(valueOf(atReview, 'temporal_workflow_task_execution_latency_count', { task_queue: queue, workflow_type: 'videoAgentSession' })).toBeGreaterThan(0);
  expect(valueOf(atReview, 'temporal_worker_task_slots_available', { task_queue: queue, worker_type: 'ActivityWorker' })).toBeGreaterThan(0);
  expect(valueOf(atReview, 'temporal_activity_execution_latency_count', { task_queue: queue, activity_type: 'createHeyGenSession' })).toBe(1);
  // Nothing is waited for yet.
  expect(atReview.samples.filter((s) => s.name.startsWith('vao_review_wait_seconds'))).toEqual([]);

  // HeyGen answers the approval with a 500 once: counted as a server error, then a retry that succeeds.
  await api.sessions.sim.fault({ endpoint: 'send_message', fault: '500', session_id: heygenSessionId });
  const approved = await api.call('POST', `/v1/sessions/${id}/approve`, { body: {} });
  expect([200, 202]).toContain(approved.status);
  await waitForApiPhase(api, id, 'completed');
  const approvedAt = Date.now();

  const done = await scrapeUntil('the slot given back and the session out of the count', (m) => {
    return valueOf(m, 'vao_governor_slots_in_use', { account }) === 0 && valueOf(m, 'vao_sessions', { phase: 'reviewing', task_queue: queue }) === 0;
  });
  const message = { method: 'POST', route: '/v3/video-agents/{session_id}' };
  expect(valueOf(done, 'vao_heygen_requests_total', { ...message, outcome: 'server_error' })).toBe(1);
  expect(valueOf(done, 'vao_heygen_requests_total', { ...message, outcome: 'success' })).toBe(1);
  expect(valueOf(done, 'vao_heygen_retries_total', { activityType: 'sendHeyGenMessage' })).toBe(1);
  expect(valueOf(done, 'temporal_activity_execution_failed_total', { task_queue: queue, activity_type: 'sendHeyGenMessage' })).toBe(1);
  // The review's wait: one, ended by the approval, within the time the test has taken.
  const wait = { kind: 'storyboard', decision: 'approve', taskQueue: queue };
  expect(valueOf(done, 'vao_review_wait_seconds_count', wait)).toBe(1);
  expect(valueOf(done, 'vao_review_wait_seconds_sum', wait)).toBeGreaterThan(0);
  expect(valueOf(done, 'vao_review_wait_seconds_sum', wait)).toBeLessThanOrEqual((approvedAt - startedAt) / 1000);
  expect(valueOf(done, 'vao_session_phase_entries_total', { phase: 'completed', taskQueue: queue })).toBe(1);
  expect(valueOf(done, 'vao_session_phase_entries_total', { phase: 'generating', taskQueue: queue })).toBe(1);
  expect(valueOf(done, 'temporal_workflow_completed_total', { task_queue: queue, workflow_type: 'videoAgentSession' })).toBe(1);

  // No label value names a session, a HeyGen id, the prompt or the key.
  const text = await (await fetch(metricsUrl)).text();
  for (const secretOrId of [id, heygenSessionId, 'A metrics teaser', DEFAULT_SIMULATOR_API_KEY]) expect(text).not.toContain(secretOrId);
});

test('a session that fails is counted as failed, by the SDK and by phase', async () => {
  const queue = api.sessions.taskQueue;
  const created = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Doomed [[sim fail=thinking]]' } });
  expect(created.status).toBe(201);
  await waitForApiPhase(api, created.body.id, 'failed');
  const failed = await scrapeUntil('the failed session', (m) => valueOf(m, 'temporal_workflow_failed_total', { task_queue: queue, workflow_type: 'videoAgentSession' }) === 1);
  expect(valueOf(failed, 'vao_session_phase_entries_total', { phase: 'failed', taskQueue: queue })).toBe(1);
});

// After the sessions above, which gave every metric a value (the SDK's failure counters included).
test('every metric the dashboard reads or docs/metrics.md names is in these scrapes (the worker\'s or the API\'s)', async () => {
  const worker = await scrape();
  const apiMetrics = await api.call<string>('GET', '/metrics', { token: null });
  expect(apiMetrics.status).toBe(200);
  const served = new Map([...parseExposition(apiMetrics.body).families, ...worker.families]);
  const missing = dashboardMetricNames().filter((name) => !isExposed(name, served));
  expect(missing).toEqual([]);
  for (const [name, kind] of Object.entries({ ...OUR_WORKER_METRICS, ...SDK_METRICS })) expect([name, worker.families.get(name)]).toEqual([name, kind]);
  // docs/metrics.md names (a name ending in `_` is a prefix, as in `vao_process_*`).
  const documented = [...new Set([...readFileSync(path.join(PROJECT_ROOT, 'docs', 'metrics.md'), 'utf8').matchAll(/\b(?:vao|temporal)_[a-z0-9_]*/g)].map((m) => m[0]))];
  expect(documented.length).toBeGreaterThan(20);
  const undocumentedOrGone = documented.filter((name) => (name.endsWith('_') ? ![...served.keys()].some((family) => family.startsWith(name)) : !isExposed(name, served)));
  expect(undocumentedOrGone).toEqual([]);
});

test('a metrics port already taken stops the worker, naming the variable to change', async () => {
  const taken = Number(new URL(metricsUrl).port);
  const second = startProcess(...tsNode(WORKER), workerEnv({ WORKER_METRICS_PORT: String(taken) }));
  expect((await second.exited).code).toBe(1);
  expect(second.output()).toContain(`cannot serve its metrics on 127.0.0.1:${taken}`);
  expect(second.output()).toContain('Set WORKER_METRICS_PORT to a free port');
  expect(second.output()).not.toMatch(/^\s+at /m);
});
