/**
 * Issue #14: the production shape of docker-compose.yml, run natively (`npm run test:cluster`): the
 * Temporal server on PostgreSQL (persistence and SQL visibility), two workers and two API instances
 * sharing it, the HeyGen simulator. 30 sessions go through both APIs: every create is repeated with its
 * Idempotency-Key on the other instance, every approval goes through the instance that did not create the
 * session, sessions are found by listing by status and tenant (visibility), and one worker is killed with
 * SIGKILL while sessions render. Everything completes, and HeyGen saw exactly one session and one approval
 * per workflow. The counts are printed.
 */
import path from 'node:path';
import pino from 'pino';
import { startSimulator, type RunningSimulator } from '../../src/simulator/app';
import { loadSimulatorConfig } from '../../src/simulator/config';
import { findFreePort } from '../../src/temporal/dev-server';
import { scratchDir, startCluster, type Cluster } from '../harness/cluster';
import { parseExposition, sumOf, type Exposition } from '../harness/metrics';
import { PROJECT_ROOT, startProcess, tsNode, type RunningProcess } from '../harness/processes';
import { countBy } from '../harness/counts';
import { eventually } from '../harness/wait';

const SESSIONS = 30;
const TOKENS = [
  { name: 'acme-tool', token: 'tok_cluster_acme_5e1f0a9b7c3d2e41', scopes: ['sessions:create', 'sessions:read', 'sessions:review', 'sessions:stop'], tenant: 'acme' },
  { name: 'globex-tool', token: 'tok_cluster_globex_8a2b4c6d0e1f3a57', scopes: ['sessions:create', 'sessions:read', 'sessions:review', 'sessions:stop'], tenant: 'globex' },
] as const;
type Token = (typeof TOKENS)[number];

let cluster: Cluster;
let simulator: RunningSimulator;
let archive: ReturnType<typeof scratchDir>;
let serviceEnv: NodeJS.ProcessEnv;
const workers: RunningProcess[] = [];
const workerMetricsUrls: string[] = [];
const apis: { process: RunningProcess; url: string }[] = [];
const log = (line: string) => process.stdout.write(`[cluster] ${line}\n`);

beforeAll(async () => {
  cluster = await startCluster(log);
  simulator = await startSimulator(loadSimulatorConfig({ SIMULATOR_PORT: '0', SIMULATOR_TIME_SCALE: '1000' }), pino({ level: 'warn' }));
  archive = scratchDir('vao-cluster-archive-');
  serviceEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'video-agent',
    HEYGEN_BASE_URL: simulator.url,
    HEYGEN_MAX_CONCURRENT: '10',
    SESSION_TIMING: JSON.stringify({ pollInitial: 50, pollMax: 500, videoPollInterval: 50 }),
    // One archive folder shared by every worker and API instance, as compose's video-archive volume.
    ARCHIVE_DIR: archive.dir,
    API_TOKENS: JSON.stringify(TOKENS),
    // Shared by both API instances, so a listing cursor from one works on the other.
    API_CURSOR_SECRET: 'cluster-cursor-secret-0123456789abcdef',
    API_RATE_LIMIT: '100000',
    API_DECISION_WAIT: '10s',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  };
  for (const key of ['HEYGEN_API_KEY', 'API_TOKENS_FILE', 'HEYGEN_WEBHOOK_URL', 'HEYGEN_WEBHOOK_SECRET']) delete serviceEnv[key];
  for (let i = 0; i < 2; i++) await startWorker();
  for (let i = 0; i < 2; i++) await startApi();
  log(`simulator ${simulator.url}; workers pid ${workers.map((w) => w.child.pid).join(', ')}; APIs ${apis.map((a) => a.url).join(', ')}`);
}, 20 * 60_000);

afterAll(async () => {
  for (const child of [...apis.map((api) => api.process), ...workers]) {
    if (child.child.exitCode === null && child.child.signalCode === null) {
      child.child.kill('SIGTERM');
      await child.exited;
    }
  }
  await simulator?.close();
  archive?.remove();
  await cluster?.stop();
}, 120_000);

/** `npm run worker`, as a process with a metrics port of its own; kept in `workers` at once, so afterAll stops it whatever happens. */
async function startWorker(): Promise<void> {
  const metricsPort = await findFreePort();
  const worker = startProcess(...tsNode(path.join(PROJECT_ROOT, 'src', 'worker.ts')), { ...serviceEnv, WORKER_METRICS_PORT: String(metricsPort), WORKER_METRICS_COUNT_INTERVAL: '1s' });
  workers.push(worker);
  workerMetricsUrls.push(`http://127.0.0.1:${metricsPort}/metrics`);
  await worker.waitForLine(/"msg":"worker running"/, 90_000);
}

/** One worker's metrics, as Prometheus would scrape them. */
async function scrapeWorker(index: number): Promise<Exposition> {
  return parseExposition(await (await fetch(workerMetricsUrls[index]!)).text());
}


/** `npm run api`, as a process on a port of its own. */
async function startApi(): Promise<void> {
  const port = await findFreePort();
  const api = startProcess(...tsNode(path.join(PROJECT_ROOT, 'src', 'api', 'main.ts')), { ...serviceEnv, HOST: '127.0.0.1', PORT: String(port) });
  apis.push({ process: api, url: `http://127.0.0.1:${port}` });
  await api.waitForLine(/"msg":"API listening"/, 90_000);
}

async function call<T = Record<string, unknown>>(apiIndex: number, token: Token, method: string, route: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${apis[apiIndex]!.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token.token}`, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
}

interface Listed {
  sessions: { id: string; status: string }[];
  nextCursor: string | null;
}

/** Every session of the token's tenant in `status`, paging with cursors alternately on both instances. */
async function listAll(token: Token, status: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; ; page++) {
    const query: string = `/v1/sessions?status=${status}&limit=7${cursor ? `&cursor=${cursor}` : ''}`;
    const listed = await call<Listed>(page % 2, token, 'GET', query);
    if (listed.status !== 200) throw new Error(`listing ${status}: ${listed.status} ${JSON.stringify(listed.body)}`);
    ids.push(...listed.body.sessions.map((session) => session.id));
    cursor = listed.body.nextCursor;
    if (!cursor) return ids;
  }
}

/** How many sessions of both tenants the listing shows in each phase. */
async function phaseCounts(phases: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const phase of phases) counts[phase] = (await Promise.all(TOKENS.map((token) => listAll(token, phase)))).reduce((sum, ids) => sum + ids.length, 0);
  return counts;
}

test('30 sessions through two APIs and two workers on PostgreSQL, one worker killed mid-flight: all complete, one HeyGen session and one approval each', async () => {
  const started = Date.now();
  const sessions: { id: string; token: Token; createdOn: number }[] = [];
  const counts = { created: 0, repeatsSameId: 0, approvals: 0, approvalAnswers: {} as Record<number, number>, listings: 0 };

  // Creates: alternately on each instance, each repeated with its key on the other instance.
  for (let i = 0; i < SESSIONS; i++) {
    const token = TOKENS[i % 2]!;
    const createdOn = Math.floor(i / 2) % 2;
    const request = { body: { prompt: `Cluster session ${i} [[sim think=100s generate=2h]]` }, headers: { 'idempotency-key': `cluster-${i}` } };
    const first = await call<{ id: string }>(createdOn, token, 'POST', '/v1/sessions', request);
    expect(first.status).toBe(201);
    const repeat = await call<{ id: string }>(1 - createdOn, token, 'POST', '/v1/sessions', request);
    expect([repeat.status, repeat.body.id]).toEqual([200, first.body.id]);
    counts.created++;
    counts.repeatsSameId++;
    sessions.push({ id: first.body.id, token, createdOn });
  }
  const byId = new Map(sessions.map((session) => [session.id, session]));

  // Approvals: whatever the listing by status shows at review, through the other instance. HeyGen's cap
  // (10 jobs) lets only 10 work at once, so the rest wait in the governor's queue until earlier ones end.
  const approved = new Set<string>();
  let killed: number | undefined;
  await eventually(
    async () => {
      for (const token of TOKENS) {
        const reviewing = await listAll(token, 'reviewing');
        counts.listings++;
        for (const id of reviewing) {
          const session = byId.get(id);
          expect(session?.token.tenant).toBe(token.tenant);
          if (approved.has(id)) continue;
          const answer = await call(1 - session!.createdOn, token, 'POST', `/v1/sessions/${id}/approve`, { body: {}, headers: { 'idempotency-key': `approve-${id}` } });
          counts.approvalAnswers[answer.status] = (counts.approvalAnswers[answer.status] ?? 0) + 1;
          if (answer.status === 200 || answer.status === 202) {
            approved.add(id);
            counts.approvals++;
          }
        }
      }
      // Mid-flight: a third of the sessions approved and rendering, the rest thinking or queued.
      if (killed === undefined && approved.size >= SESSIONS / 3) {
        killed = workers[0]!.child.pid;
        workers[0]!.child.kill('SIGKILL');
        await workers[0]!.exited;
        const phases = await phaseCounts(['queued', 'thinking', 'reviewing', 'generating', 'archiving', 'completed']);
        log(`killed worker pid ${killed} (SIGKILL) after ${approved.size} approvals, at ${((Date.now() - started) / 1000).toFixed(1)} s; sessions then: ${JSON.stringify(phases)}`);
      }
      return approved.size === SESSIONS;
    },
    { timeoutMs: 10 * 60_000, intervalMs: 500, what: 'every session at review and approved' },
  );
  expect(killed).toBeDefined();

  // Completion, seen through visibility: each tenant lists its own 15, and none of the other's.
  const completed = await eventually(
    async () => {
      const lists = await Promise.all(TOKENS.map((token) => listAll(token, 'completed')));
      return lists.every((ids) => ids.length === SESSIONS / 2) && lists;
    },
    { timeoutMs: 10 * 60_000, intervalMs: 1_000, what: 'every session completed' },
  );
  for (const [index, token] of TOKENS.entries()) {
    expect(new Set(completed[index]!)).toEqual(new Set(sessions.filter((session) => session.token === token).map((session) => session.id)));
  }

  // HeyGen's side: one session per workflow, one approval message each, every job finished.
  const stats = (await (await fetch(`${simulator.url}/__sim/stats`)).json()) as {
    max_active_jobs: number;
    sessions: { callback_id: string | null; status: string; messages: unknown[] }[];
  };
  const heygenSessionsPer = sessions.map((session) => stats.sessions.filter((s) => s.callback_id === session.id).length);
  const approvalsPer = sessions.map((session) => stats.sessions.filter((s) => s.callback_id === session.id).reduce((sum, s) => sum + s.messages.length, 0));
  const archivedFiles = await Promise.all(
    sessions.map(async (session, index) => (await call<{ archive: { status: string } }>(index % 2, session.token, 'GET', `/v1/sessions/${session.id}/video`)).body.archive?.status),
  );
  log(
    [
      `${SESSIONS} sessions in ${((Date.now() - started) / 1000).toFixed(1)} s on Temporal ${cluster.version} + PostgreSQL:`,
      `created ${counts.created} (each repeated on the other API instance: ${counts.repeatsSameId} × 200 with the same id)`,
      `approved ${counts.approvals} through the other instance (answers ${JSON.stringify(counts.approvalAnswers)}), found by ${counts.listings} listings by status`,
      `worker killed: pid ${killed}; completed per tenant: ${completed.map((ids) => ids.length).join(' + ')}`,
      `HeyGen sessions per workflow: ${JSON.stringify(countBy(heygenSessionsPer))}; approval messages per session: ${JSON.stringify(countBy(approvalsPer))}; HeyGen jobs at once, at most: ${stats.max_active_jobs}`,
      `archive: ${JSON.stringify(countBy(archivedFiles.map(String)))}`,
    ].join('\n  '),
  );
  // What an operator's Prometheus scrapes from the surviving worker: the SDK's metrics and ours.
  const metrics = await scrapeWorker(1);
  log(
    `surviving worker's metrics: ${metrics.samples.length} samples; SDK workflow completions ${sumOf(metrics, 'temporal_workflow_completed_total')}, ` +
      `HeyGen requests by outcome ${JSON.stringify(Object.fromEntries(['success', 'server_error', 'rate_limited'].map((outcome) => [outcome, sumOf(metrics, 'vao_heygen_requests_total', { outcome })])))}, ` +
      `phase entries completed ${sumOf(metrics, 'vao_session_phase_entries_total', { phase: 'completed' })}, review waits observed ${sumOf(metrics, 'vao_review_wait_seconds_count')}`,
  );
  expect(sumOf(metrics, 'temporal_workflow_completed_total')).toBeGreaterThan(0);
  expect(sumOf(metrics, 'vao_heygen_requests_total', { outcome: 'success' })).toBeGreaterThan(0);
  expect(sumOf(metrics, 'vao_session_phase_entries_total', { phase: 'completed' })).toBeGreaterThan(0);
  expect(heygenSessionsPer).toEqual(sessions.map(() => 1));
  expect(approvalsPer).toEqual(sessions.map(() => 1));
  expect(stats.max_active_jobs).toBeLessThanOrEqual(10);
  expect(archivedFiles).toEqual(sessions.map(() => 'archived'));
  // The setup steps the compose file runs did their work here: a fresh namespace, our search attributes.
  expect(cluster.setupLog.join('\n')).toMatch(/namespace default created, search attributes added: VideoAgentStatus, HeyGenSessionId, VideoAgentTenant, VideoAgentRequestedBy/);
}, 25 * 60_000);
