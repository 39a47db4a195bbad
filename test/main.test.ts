/**
 * The entry points as users run them (`npm start`, `npm run temporal`), as real processes: they come
 * up with the Web UI, stop cleanly on SIGINT/SIGTERM, keep state across a restart, and explain
 * start-up problems without a stack trace.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { approveSignal, stateQuery } from '../src/contract/session';
import { findFreePort } from '../src/temporal/dev-server';
import { startVideoAgentSession } from '../src/temporal/sessions';
import { portIsFree, PROJECT_ROOT, startProcess, tsNode } from './harness/processes';
import { connectClient, uniqueId } from './harness/temporal';
import { eventually } from './harness/wait';

const MAIN = path.join(PROJECT_ROOT, 'src', 'main.ts');

/** The project's Temporal CLI (the run's, from global-setup) against a server, its JSON output parsed. */
async function temporalCli(address: string, ...args: string[]): Promise<unknown> {
  const { stdout } = await promisify(execFile)(process.env.TEMPORAL_CLI_PATH!, [...args, '--address', address, '--output', 'json']);
  return JSON.parse(stdout);
}
const TEMPORAL_MAIN = path.join(PROJECT_ROOT, 'src', 'temporal', 'dev-server-main.ts');
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'vao-main-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** The environment of a fresh `npm start`: no TEMPORAL_ADDRESS (that is the test run's server). */
async function embeddedEnv(overrides: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_DEV_PORT: String(await findFreePort()),
    TEMPORAL_DEV_UI_PORT: String(await findFreePort()),
    TEMPORAL_DEV_DB: path.join(scratch, `${uniqueId('db')}.db`),
    TEMPORAL_TASK_QUEUE: uniqueId('main'),
    SIMULATOR_PORT: String(await findFreePort()),
    PORT: String(await findFreePort()),
    WORKER_METRICS_PORT: String(await findFreePort()),
    DATA_DIR: path.join(scratch, uniqueId('data')),
    SIMULATOR_TIME_SCALE: '1000',
    LOG_FORMAT: 'json',
    ...overrides,
  };
  delete env.TEMPORAL_ADDRESS;
  delete env.HEYGEN_API_KEY;
  delete env.HEYGEN_BASE_URL;
  delete env.API_TOKENS;
  delete env.API_TOKENS_FILE;
  return env;
}

/** A session parked at the storyboard review, by the running npm start: its workflow id. */
async function parkedSession(address: string, taskQueue: string): Promise<string> {
  const { client, close } = await connectClient(address);
  try {
    const session = await startVideoAgentSession(client, { prompt: 'Parked while npm start is upgraded [[sim think=1s]]', timing: { pollInitial: 20, pollMax: 100 } }, { taskQueue });
    await eventually(async () => (await session.query(stateQuery)).phase === 'reviewing', { what: 'the session parked at review' });
    return session.workflowId;
  } finally {
    await close();
  }
}

test('npm start runs sessions on embedded defaults, serves the Web UI, stops on SIGINT, and keeps workflows across a restart, onto a new build', async () => {
  const env = await embeddedEnv();
  const address = `127.0.0.1:${env.TEMPORAL_DEV_PORT}`;
  const workflowId = uniqueId('survivor');
  let parkedId: string;

  const first = startProcess(...tsNode(MAIN), env);
  await first.waitForLine(/is running/);
  expect(first.output()).toContain(`Temporal Web UI: http://127.0.0.1:${env.TEMPORAL_DEV_UI_PORT}`);
  expect(first.output()).toContain(`HeyGen:          simulator at http://127.0.0.1:${env.SIMULATOR_PORT} (no HEYGEN_API_KEY set)`);
  expect(first.output()).toContain(`Worker:          task queue ${env.TEMPORAL_TASK_QUEUE}`);
  const metricsUrl = `http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`;
  expect(first.output()).toContain(`Worker metrics:  ${metricsUrl}`);
  expect(first.output()).toContain(`API:             http://127.0.0.1:${env.PORT} (docs: http://127.0.0.1:${env.PORT}/docs)`);
  const token = /API token: +(vao_\S+)/.exec(first.output())?.[1];
  expect(token).toBeDefined();
  const listed = await fetch(`http://127.0.0.1:${env.PORT}/v1/sessions`, { headers: { authorization: `Bearer ${token}` } });
  expect(listed.status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${env.PORT}/v1/sessions`)).status).toBe(401);
  // Notifications work out of the box: a local receiver is allowed, and the printed secret verifies them.
  const secret = /Notify secret: +(whsec_\S+)/.exec(first.output())?.[1];
  expect(secret).toBeDefined();
  const received: { body: string; headers: Record<string, string> }[] = [];
  const receiver = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8'))).on('end', () => {
      received.push({ body, headers: request.headers as Record<string, string> });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const created = await fetch(`http://127.0.0.1:${env.PORT}/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        prompt: 'Tell me when done [[sim review=skip think=5s generate=5s]]',
        autoApprove: true,
        notify: { url: `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/`, events: ['session.completed'] },
      }),
    });
    expect(created.status).toBe(201);
    await eventually(() => received.length > 0, { timeoutMs: 30_000, what: 'the completed notification' });
    expect(new Webhook(secret!).verify(received[0]!.body, received[0]!.headers)).toMatchObject({ type: 'session.completed' });
  } finally {
    receiver.close();
  }
  const ui = await fetch(`http://127.0.0.1:${env.TEMPORAL_DEV_UI_PORT}/`);
  expect(ui.status).toBe(200);
  // The worker's metrics: the SDK's, for the session it ran (docs/metrics.md; test/worker-metrics.test.ts has the rest).
  const metrics = await fetch(metricsUrl);
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toMatch(new RegExp(`^temporal_workflow_task_execution_latency_count\\{[^}]*task_queue="${env.TEMPORAL_TASK_QUEUE}"[^}]*\\} [1-9]`, 'm'));
  {
    const { client, close } = await connectClient(address);
    const session = await startVideoAgentSession(
      client,
      { prompt: 'Through npm start [[sim review=skip think=50s generate=50s]]', timing: { pollInitial: 20, pollMax: 100, videoPollInterval: 20 } },
      { taskQueue: env.TEMPORAL_TASK_QUEUE! },
    );
    expect((await session.result()).phase).toBe('completed');
    await client.workflow.start('anyWorkflowType', { taskQueue: 'nobody-polls', workflowId });
    await close();
    // Worker Versioning, as an operator sees it with the Temporal CLI: the session ran pinned to the running
    // build, and that build is the deployment's current version.
    const build = /Worker: +task queue \S+, build (\S+):(\S+) \(current\)/.exec(first.output());
    expect(build).not.toBeNull();
    const [, deploymentName, buildId] = build!;
    const described = (await temporalCli(address, 'workflow', 'describe', '-w', session.workflowId)) as { workflowExecutionInfo: { versioningInfo?: { behavior?: string; deploymentVersion?: { deploymentName?: string; buildId?: string } } } };
    console.log(`npm start's session: ${JSON.stringify(described.workflowExecutionInfo.versioningInfo)}`);
    expect(described.workflowExecutionInfo.versioningInfo).toMatchObject({ behavior: 'VERSIONING_BEHAVIOR_PINNED', deploymentVersion: { deploymentName, buildId } });
    const deployments = (await temporalCli(address, 'worker', 'deployment', 'list')) as { name: string; routingConfig?: { currentVersionBuildID?: string } }[];
    console.log(`temporal worker deployment list: ${JSON.stringify(deployments.map((d) => [d.name, d.routingConfig]))}`);
    expect(deployments.map((d) => [d.name, d.routingConfig?.currentVersionBuildID])).toEqual([[deploymentName, buildId]]);
    parkedId = await parkedSession(address, env.TEMPORAL_TASK_QUEUE!);
  }
  // The banner says how to go on: the CLI, the token for curl, the Web UI's view of sessions to review.
  expect(first.output()).toContain('npx vao start --prompt "A 30 second teaser for our app" --watch');
  expect(first.output()).toContain(`export TOKEN=${token}`);
  // The CLI in this folder follows npm start to its (non-default) PORT with the token beside it, and the banner says how from elsewhere.
  expect(first.output()).toContain(`elsewhere add --url http://127.0.0.1:${env.PORT} --token <token>, or export VAO_URL and VAO_TOKEN`);
  const cliList = await promisify(execFile)(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'vao.js'), 'list'], { env: { ...process.env, DATA_DIR: env.DATA_DIR, VAO_URL: '', VAO_TOKEN: '' } });
  console.log(`vao list beside npm start on PORT ${env.PORT}:\n${cliList.stdout}`);
  expect(cliList.stdout).toMatch(/^ID\s+STATUS\s+CREATED/);
  expect(first.output()).toContain(`Sessions waiting for a reviewer: http://127.0.0.1:${env.TEMPORAL_DEV_UI_PORT}/namespaces/default/workflows?query=VideoAgentStatus%3D%22reviewing%22`);
  // No bundler statistics among the logs.
  expect(first.output()).not.toMatch(/webpack|asset workflow-bundle/);
  first.child.kill('SIGINT');
  expect(await first.exited).toEqual({ code: 0, signal: null });
  // A clean Ctrl-C: no warning on the way down, and a last line that says it stopped.
  const afterSignal = first.output().slice(first.output().indexOf('"shutting down"'));
  expect(afterSignal).not.toMatch(/"level":(40|50|60)/);
  expect(afterSignal.trim().split('\n').at(-1)).toMatch(/"msg":"stopped"/);
  expect(await portIsFree(Number(env.TEMPORAL_DEV_PORT))).toBe(true);
  expect(await portIsFree(Number(env.TEMPORAL_DEV_UI_PORT))).toBe(true);
  expect(await portIsFree(Number(env.WORKER_METRICS_PORT))).toBe(true);

  // The next start is a new build (a new commit): the session parked on the first moves to it.
  const second = startProcess(...tsNode(MAIN), { ...env, WORKER_BUILD_ID: 'next-build' });
  await second.waitForLine(/is running/);
  expect(second.output()).toMatch(/"moved":1,"msg":"open sessions of earlier builds moved to this build/);
  {
    const { client, close } = await connectClient(address);
    const parked = client.workflow.getHandle(parkedId);
    await parked.signal(approveSignal, { requestId: 'approve-after-new-build', by: 'main-test' });
    expect((await parked.result()).phase).toBe('completed');
    const tasks = ((await parked.fetchHistory()).events ?? []).flatMap((event) => event.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? []);
    console.log(`the parked session's workflow tasks, by build: ${JSON.stringify(tasks)}`);
    expect(tasks.at(-1)).toBe('next-build');
    await close();
  }
  // The generated token is kept, and not printed again.
  expect(second.output()).toContain(`API token:       in ${path.join(env.DATA_DIR!, 'api-token.json')}`);
  expect(second.output()).not.toContain(token!);
  expect((await fetch(`http://127.0.0.1:${env.PORT}/v1/sessions`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  {
    const { client, close } = await connectClient(address);
    const description = await client.workflow.getHandle(workflowId).describe();
    expect(description.status.name).toBe('RUNNING');
    await close();
  }
  second.child.kill('SIGTERM');
  expect(await second.exited).toEqual({ code: 0, signal: null });
});

test('npm start lets notifications reach a receiver of your own on loopback, never its own ports: the simulator keeps its state (issue 22, defect 9)', async () => {
  const env = await embeddedEnv();
  const run = startProcess(...tsNode(MAIN), env);
  try {
    await run.waitForLine(/is running/);
    const api = `http://127.0.0.1:${env.PORT}`;
    const token = /API token: +(vao_\S+)/.exec(run.output())![1]!;
    // The banner names the ports refused: the parts' own, and the Temporal server's HTTP API and metrics.
    const denied = /Notifications: +to any address, loopback included, never to this stack's ports \(([\d, ]+)\)/.exec(run.output())?.[1]?.split(', ').map(Number);
    console.log(`denied ports: ${JSON.stringify(denied)}`);
    expect(denied).toEqual(expect.arrayContaining([env.SIMULATOR_PORT, env.TEMPORAL_DEV_PORT, env.TEMPORAL_DEV_UI_PORT, env.WORKER_METRICS_PORT, env.PORT].map(Number)));
    expect(denied).toHaveLength(7);
    const create = (url: string, prompt = 'Tell me when done [[sim review=skip think=5s generate=5s]]') =>
      fetch(`${api}/v1/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt, autoApprove: true, notify: { url, events: ['session.completed'] } }),
      });
    const simulatorSessions = async () => ((await (await fetch(`http://127.0.0.1:${env.SIMULATOR_PORT}/__sim/stats`)).json()) as { sessions: unknown[] }).sessions.length;

    // A receiver of the user's own on loopback still receives.
    const received: string[] = [];
    const receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8'))).on('end', () => {
        received.push(body);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      expect((await create(`http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/`)).status).toBe(201);
      await eventually(() => received.length > 0, { timeoutMs: 30_000, what: "the user's receiver to be notified" });
    } finally {
      receiver.close();
    }
    const before = await simulatorSessions();

    // The API refuses the stack's own ports at create, on loopback or any other spelling of it.
    const ownPorts = { simulator: env.SIMULATOR_PORT, temporal: env.TEMPORAL_DEV_PORT, 'temporal web ui': env.TEMPORAL_DEV_UI_PORT, 'worker metrics': env.WORKER_METRICS_PORT, api: env.PORT };
    const statuses: Record<string, number> = {};
    for (const [part, port] of Object.entries(ownPorts)) statuses[part] = (await create(`http://127.0.0.1:${port}/__sim/reset`, 'Aimed at the stack [[sim think=1h]]')).status;
    statuses['simulator as localhost'] = (await create(`http://localhost:${env.SIMULATOR_PORT}/__sim/reset`, 'Aimed at the stack [[sim think=1h]]')).status;
    console.log(`creates notifying the stack's own ports: ${JSON.stringify(statuses)}`);

    // A session that names the simulator's reset without the API (started on Temporal directly): the
    // worker refuses it, and records that in its delivery log.
    const { client, close } = await connectClient(`127.0.0.1:${env.TEMPORAL_DEV_PORT}`);
    let notifications: { outcome: string; attempts: number; lastError: string | null }[];
    try {
      const session = await startVideoAgentSession(
        client,
        {
          prompt: 'Notifies the simulator reset [[sim review=skip think=5s generate=5s]]',
          autoApprove: true,
          requestedBy: 'local',
          notify: { url: `http://127.0.0.1:${env.SIMULATOR_PORT}/__sim/reset`, events: ['session.completed'] },
          timing: { pollInitial: 20, pollMax: 100, videoPollInterval: 20 },
        },
        { taskQueue: env.TEMPORAL_TASK_QUEUE! },
      );
      expect((await session.result()).phase).toBe('completed');
      notifications = (await session.query(stateQuery)).notifications;
    } finally {
      await close();
    }
    const after = await simulatorSessions();
    console.log(`delivery log of the session notifying /__sim/reset: ${JSON.stringify(notifications)}; simulator sessions before ${before}, after ${after}`);
    expect(statuses).toEqual(Object.fromEntries(Object.keys(statuses).map((part) => [part, 400])));
    expect(notifications).toEqual([expect.objectContaining({ outcome: 'failed', attempts: 1, lastError: expect.stringMatching(new RegExp(`refused: port ${env.SIMULATOR_PORT} is one of this service's own`)) })]);
    // The simulator kept its sessions: the one before, and the one just run.
    expect(after).toBeGreaterThanOrEqual(before + 1);
  } finally {
    run.child.kill('SIGINT');
    await run.exited;
  }
});

test('npm start names the variable to change when the Temporal port is taken', async () => {
  const blocker = net.createServer();
  const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
  try {
    const run = startProcess(...tsNode(MAIN), await embeddedEnv({ TEMPORAL_DEV_PORT: String(port) }));
    expect((await run.exited).code).toBe(1);
    expect(run.output()).toContain(`Port ${port} is already in use`);
    expect(run.output()).toContain('set TEMPORAL_DEV_PORT to a free port');
    expect(run.output()).not.toMatch(/^\s+at /m);
  } finally {
    blocker.close();
  }
});

test('a bad variable stops start-up with a message naming it, and no stack trace', async () => {
  const run = startProcess(...tsNode(MAIN), await embeddedEnv({ TEMPORAL_DEV_UI_PORT: 'eighty' }));
  expect((await run.exited).code).toBe(1);
  expect(run.output()).toMatch(/TEMPORAL_DEV_UI_PORT: expected an integer port number between 1 and 65535, got "eighty"/);
  expect(run.output()).not.toMatch(/^\s+at /m);
});

test('npm run temporal runs the dev server alone and stops on SIGTERM', async () => {
  const env = await embeddedEnv({ TEMPORAL_DEV_UI: 'false' });
  const run = startProcess(...tsNode(TEMPORAL_MAIN), env);
  await run.waitForLine(/gRPC: +127\.0\.0\.1:\d+/);
  expect(run.output()).not.toContain('Web UI');
  const { client, close } = await connectClient(`127.0.0.1:${env.TEMPORAL_DEV_PORT}`);
  await client.connection.workflowService.getSystemInfo({});
  await close();
  run.child.kill('SIGTERM');
  expect(await run.exited).toEqual({ code: 0, signal: null });
  expect(await portIsFree(Number(env.TEMPORAL_DEV_PORT))).toBe(true);
});
