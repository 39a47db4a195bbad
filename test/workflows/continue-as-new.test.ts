/**
 * Continue-as-new: on a server that suggests it after 30 history events (few enough for a follow or two), a long-polled session hands
 * its whole state from run to run and, to its users, nothing changes: the same id, one HeyGen session,
 * one approval, a complete message history.
 */
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { heygenAccountId } from '../../src/activities';
import { DEFAULT_SIMULATOR_API_KEY } from '../../src/simulator/config';
import { governorStateQuery, governorWorkflowId } from '../../src/contract/governor';
import { approveSignal } from '../../src/contract/session';
import { startSessionHarness, type SessionHarness } from '../harness/sessions';
import { eventually } from '../harness/wait';

let server: DevServer;
let h: SessionHarness;

beforeAll(async () => {
  server = await startDevServer({
    cliPath: process.env.TEMPORAL_CLI_PATH!,
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 30 },
  });
  h = await startSessionHarness({ address: server.address, env: { HEYGEN_MAX_CONCURRENT: '1' } });
});
afterAll(async () => {
  await h?.close();
  await server?.stop();
});

test('a session continues as new while polling and at review, and completes as one session', async () => {
  const handle = await h.start({ prompt: 'Long one [[sim think=2500s ask=1 revise=1500s]]', timing: { pollInitial: 20, pollMax: 40 } });
  await h.waitForPhase(handle, 'waiting_for_input');
  await handle.signal('sendMessage', { requestId: 'answer', message: 'Warm voice' });
  const review = await h.waitForPhase(handle, 'reviewing');
  expect(review.runs).toBeGreaterThan(1);

  await handle.signal(approveSignal, { requestId: 'approve', by: 'frank' });
  const result = await handle.result();
  expect(result.phase).toBe('completed');
  expect(result.runs).toBeGreaterThan(review.runs - 1);
  expect(result.actions.map((a) => [a.kind, a.requestId, a.outcome])).toEqual([
    ['message', 'answer', 'applied'],
    ['approve', 'approve', 'applied'],
  ]);
  // Each message of the conversation exactly once, in order, across every run.
  expect(result.messages.map((m) => m.seq)).toEqual(result.messages.map((_, index) => index + 1));
  expect(result.messages.map((m) => `${m.role}:${m.type}`)).toEqual([
    'user:text',
    'model:text', // the question
    'user:text', // the answer
    'model:text', // the storyboard
    'user:text', // the approval
    'model:text', // generating
    'model:resource', // the video
  ]);

  const sessions = await h.heygenSessions(handle.workflowId);
  expect(sessions).toHaveLength(1);
  expect(sessions[0]!.messages.map((m) => m.message)).toEqual(['Warm voice', expect.stringContaining('Approved')]);

  const runs = await eventually(async () => {
    let count = 0;
    for await (const execution of h.client.workflow.list({ query: `WorkflowId="${handle.workflowId}"` })) count += execution ? 1 : 0;
    return count > 1 ? count : undefined;
  });
  expect(runs).toBe(result.runs);
});

async function runsOf(workflowId: string): Promise<number> {
  let count = 0;
  for await (const execution of h.client.workflow.list({ query: `WorkflowId="${workflowId}"` })) count += execution ? 1 : 0;
  return count;
}

test('the governor and a long-queued session continue as new without losing a place or a slot', async () => {
  const governorId = governorWorkflowId(heygenAccountId(h.sim.url, DEFAULT_SIMULATOR_API_KEY));
  const before = await h.client.workflow.getHandle(governorId).query(governorStateQuery);
  // A session parked at review holds the only slot until all 20 are queued, so the order is theirs alone.
  const blocker = await h.start({ prompt: 'Holds the slot [[sim think=50s generate=50s]]' });
  await h.waitForPhase(blocker, 'reviewing');
  const sessions = [];
  for (let i = 0; i < 20; i++) sessions.push(await h.start({ prompt: `Queue ${i} [[sim think=50s generate=50s]]`, autoApprove: true }));
  await eventually(async () => (await h.client.workflow.getHandle(governorId).query(governorStateQuery)).waiting.length === 20, { what: '20 queued' });
  await blocker.signal(approveSignal, { requestId: 'go' });
  const results = await Promise.all(sessions.map((handle) => handle.result()));
  expect(results.map((r) => r.phase)).toEqual(sessions.map(() => 'completed'));
  // The last in line hears of every move up the queue: enough history to continue as new while queued.
  const last = results.at(-1)!;
  const governor = await h.client.workflow.getHandle(governorId).query(governorStateQuery);
  const governorRuns = await eventually(async () => runsOf(governorId));
  const stats = await h.sim.stats();
  console.log(`queue across continue-as-new: last session ran ${last.runs} runs, governor ${governorRuns} runs, granted ${governor.granted}, max_active_jobs ${stats.max_active_jobs}`);
  expect(last.runs).toBeGreaterThan(1);
  expect(governorRuns).toBeGreaterThan(1);
  expect(governor).toMatchObject({ granted: before.granted + 21, released: before.released + 21, reclaimed: 0, holders: [], waiting: [] });
  expect(stats.max_active_jobs).toBe(1);
  // Granted in the order they asked: HeyGen saw the sessions created in start order.
  const created = [...stats.sessions].sort((a, b) => a.created_at.localeCompare(b.created_at)).map((s) => s.callback_id);
  expect(created.slice(-20)).toEqual(sessions.map((handle) => handle.workflowId));
});
