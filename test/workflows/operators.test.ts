/**
 * What operators do with the Temporal CLI, against running sessions: find parked sessions by
 * VideoAgentStatus, read the status line, read the state, approve with a signal, cancel.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startSessionHarness, type SessionHarness } from '../harness/sessions';
import { temporalAddress } from '../harness/temporal';
import { eventually } from '../harness/wait';

const run = promisify(execFile);
let h: SessionHarness;

beforeAll(async () => {
  h = await startSessionHarness();
});
afterAll(async () => {
  await h?.close();
});

async function temporal(...args: string[]): Promise<string> {
  const { stdout } = await run(process.env.TEMPORAL_CLI_PATH!, [...args, '--address', temporalAddress()]);
  return stdout;
}

test('find a parked session by VideoAgentStatus, read its status line and state, approve it by signal', async () => {
  const handle = await h.start({ prompt: 'Operator demo [[sim think=50s generate=50s]]', requestedBy: 'ops-team' });
  await h.waitForPhase(handle, 'reviewing');
  const id = handle.workflowId;

  const listed = await eventually(async () => {
    const rows = JSON.parse(await temporal('workflow', 'list', '--query', `VideoAgentStatus="reviewing" AND WorkflowId="${id}"`, '-o', 'json')) as {
      execution: { workflowId: string };
    }[];
    return rows.length === 1 ? rows : undefined;
  });
  expect(listed[0]!.execution.workflowId).toBe(id);
  const byRequester = JSON.parse(await temporal('workflow', 'list', '--query', `VideoAgentRequestedBy="ops-team" AND WorkflowId="${id}"`, '-o', 'json')) as unknown[];
  expect(byRequester).toHaveLength(1);

  // `describe` of CLI 1.9 prints the static summary; the live status line is the workflow's metadata.
  expect(await temporal('workflow', 'describe', '-w', id)).toContain('Video Agent: Operator demo');
  const metadata = await temporal('workflow', 'metadata', '-w', id);
  expect(metadata).toMatch(/Awaiting review of storyboard 1\*\* since \d\d:\d\d UTC, decide by \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
  // The static details (the Web UI's) say the review policy in words, not as a riddle.
  expect(await (await handle.describe()).staticDetails()).toContain('**Review:** a person approves each storyboard; with no decision within 7d, the session is stopped');

  const state = JSON.parse(await temporal('workflow', 'query', '-w', id, '--name', 'state', '-o', 'json')) as { queryResult: [{ phase: string }] };
  expect(state.queryResult[0].phase).toBe('reviewing');

  await temporal('workflow', 'signal', '-w', id, '--name', 'approve', '--input', '{"requestId":"cli-approve","by":"ops"}');
  const result = await handle.result();
  expect(result.actions).toEqual([expect.objectContaining({ kind: 'approve', requestId: 'cli-approve', by: 'ops', outcome: 'applied' })]);
  expect(await temporal('workflow', 'metadata', '-w', id)).toMatch(/Completed: video [0-9a-f]+ \(30 s\)/);
});

test('temporal workflow cancel stops the HeyGen session and the run ends as Cancelled', async () => {
  const handle = await h.start({ prompt: 'Cancel from the CLI [[sim think=1h]]' });
  await h.waitForPhase(handle, 'thinking');
  await temporal('workflow', 'cancel', '-w', handle.workflowId);
  await eventually(async () => (await handle.describe()).status.name === 'CANCELLED');
  expect(await temporal('workflow', 'describe', '-w', handle.workflowId)).toMatch(/Status\s+CANCELED/);
  expect((await h.heygenSessions(handle.workflowId))[0]!.calls.stop).toBe(1);
  expect((await h.state(handle)).phase).toBe('stopped');
});
