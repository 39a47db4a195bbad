/**
 * What an operator reads in the worker's log as a session goes: a line at info when a storyboard is ready
 * for review and when the session completes (ids and numbers, never a prompt, token or secret).
 */
import { approveSignal } from '../../src/contract/session';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { capturingLogger } from '../harness/logs';
import { startSessionHarness, type SessionHarness } from '../harness/sessions';
import { eventually } from '../harness/wait';

const { logger, lines } = capturingLogger('info');
let h: SessionHarness;
beforeAll(async () => {
  // The first Runtime of the process wins: this one keeps what the workflows log.
  installTemporalRuntime(logger);
  h = await startSessionHarness();
});
afterAll(async () => {
  await h?.close();
});

test('a storyboard ready and a session completed are logged at info', async () => {
  const handle = await h.start({ prompt: 'Logged along the way, secret words here [[sim think=50s generate=50s]]' });
  await h.waitForPhase(handle, 'reviewing');
  await handle.signal(approveSignal, { requestId: 'approve-logged', by: 'test' });
  await handle.result();
  // The worker hands the last workflow task's log lines on shortly after the result.
  await eventually(() => lines.some((line) => line.includes('"session completed"')), { what: 'the completion to be logged' }).catch(() => undefined);
  const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.workflowId === handle.workflowId && line.level === 30);
  const wanted = logged.filter((line) => line.msg === 'storyboard ready for review' || line.msg === 'session completed');
  console.log(`info lines of the session: ${logged.length}; phase lines: ${JSON.stringify(wanted.map(({ msg, revision, videoId }) => ({ msg, revision, videoId })))}`);
  expect(wanted.map((line) => line.msg)).toEqual(['storyboard ready for review', 'session completed']);
  expect(wanted[0]).toMatchObject({ revision: 1 });
  expect(JSON.stringify(logged)).not.toContain('secret words');
});
