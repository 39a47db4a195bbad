/**
 * Continue-as-new: on a server that suggests it after 60 history events, a long-polled session hands
 * its whole state from run to run and, to its users, nothing changes: the same id, one HeyGen session,
 * one approval, a complete message history.
 */
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { approveSignal } from '../../src/workflows/session';
import { startSessionHarness, type SessionHarness } from '../harness/sessions';
import { eventually } from '../harness/wait';

let server: DevServer;
let h: SessionHarness;

beforeAll(async () => {
  server = await startDevServer({
    cliPath: process.env.TEMPORAL_CLI_PATH!,
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 60 },
  });
  h = await startSessionHarness({ address: server.address });
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
