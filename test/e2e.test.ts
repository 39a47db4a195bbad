/**
 * The product as a user runs it: the process tree of `npm start` (on free ports), driven with the `vao`
 * CLI: a session to review, approved, rendering; the whole tree stopped mid-render and started again;
 * the session finishes, and the simulated HeyGen saw one session, one approval.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../src/temporal/dev-server';
import { PROJECT_ROOT, startProcess, tsNode, type RunningProcess } from './harness/processes';
import { uniqueId } from './harness/temporal';

const MAIN = path.join(PROJECT_ROOT, 'src', 'main.ts');
const VAO = path.join(PROJECT_ROOT, 'bin', 'vao.js');
let scratch: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'vao-e2e-'));
  env = {
    ...process.env,
    TEMPORAL_DEV_PORT: String(await findFreePort()),
    TEMPORAL_DEV_UI_PORT: String(await findFreePort()),
    SIMULATOR_PORT: String(await findFreePort()),
    PORT: String(await findFreePort()),
    DATA_DIR: scratch,
    TEMPORAL_TASK_QUEUE: uniqueId('e2e'),
    SIMULATOR_TIME_SCALE: '1000',
    SESSION_TIMING: JSON.stringify({ pollInitial: 50, pollMax: 500, videoPollInterval: 50 }),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
  };
  for (const key of ['TEMPORAL_ADDRESS', 'HEYGEN_API_KEY', 'HEYGEN_BASE_URL', 'API_TOKENS', 'API_TOKENS_FILE', 'VAO_TOKEN']) delete env[key];
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function vao(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VAO, ...args], { env: { ...env, VAO_URL: `http://127.0.0.1:${env.PORT}` }, timeout: 90_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function startTree(): Promise<RunningProcess> {
  const tree = startProcess(...tsNode(MAIN), env);
  await tree.waitForLine(/Press Ctrl-C to stop/, 90_000);
  return tree;
}

async function stopTree(tree: RunningProcess): Promise<void> {
  tree.child.kill('SIGINT');
  expect(await tree.exited).toEqual({ code: 0, signal: null });
}

test('review with the CLI, approve with the CLI, survive a restart mid-render, finish once', async () => {
  let tree = await startTree();
  let id: string;
  try {
    expect(tree.output()).toMatch(/API token: +vao_/);
    // Rendering takes about 7 s here (2 simulated hours at 1000x): time to restart the tree meanwhile.
    const started = await vao('start', '--prompt', 'End to end [[sim think=100s generate=2h]]', '--watch', '--interval', '200ms');
    expect(started.code).toBe(10);
    id = /Started: session (\S+)/.exec(started.stdout)![1]!;
    expect((await vao('status', id)).stdout).toMatch(/Storyboard 1/);
    const approved = await vao('approve', id);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/^Approved\. The session is now generating/);
  } finally {
    await stopTree(tree);
  }

  tree = await startTree();
  try {
    expect(tree.output()).toMatch(/API token: +in /);
    const watched = await vao('watch', id, '--interval', '200ms');
    expect(watched.code).toBe(0);
    expect((await vao('video', id)).stdout).toMatch(/video\.mp4/);

    const stats = (await (await fetch(`http://127.0.0.1:${env.SIMULATOR_PORT}/__sim/stats?callback_id=${id}`)).json()) as {
      sessions: { calls: { message: number }; messages: unknown[]; status: string }[];
    };
    expect(stats.sessions).toHaveLength(1);
    expect(stats.sessions[0]).toMatchObject({ status: 'completed', calls: { message: 1 } });
    expect(stats.sessions[0]!.messages).toHaveLength(1);
  } finally {
    await stopTree(tree);
  }
});
