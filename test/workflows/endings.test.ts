/**
 * Every way a session can end leaves a true state: the phase, a typed error from the failure-type
 * registry, the VideoAgentStatus search attribute in step, HeyGen told to stop (once) whatever may
 * still run, the job slot given back, and no decision left pending. One table, one check.
 */
import { WorkflowFailedError, type WorkflowExecutionDescription } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { HeyGenClient } from '../../src/heygen/client';
import { DEFAULT_SIMULATOR_API_KEY } from '../../src/simulator/config';
import type { SessionHandle } from '../../src/temporal/sessions';
import { SESSION_FAILURE } from '../../src/contract/failures';
import { VideoAgentStatus } from '../../src/contract/search-attributes';
import { approveSignal } from '../../src/contract/session';
import type { SessionInput, SessionState } from '../../src/contract/session';
import { detailsOf, recordHistory, startSessionHarness, type SessionHarness } from '../harness/sessions';
import { uniqueId } from '../harness/temporal';

let h: SessionHarness;
const queues = { badKey: uniqueId('bad-key'), buggy: uniqueId('buggy') };
beforeAll(async () => {
  h = await startSessionHarness();
  await h.startWorker({ apiKey: 'not-a-valid-key' }, queues.badKey);
  await h.startWorker({}, queues.buggy, new BuggyHeyGenClient({ baseUrl: h.sim.url, apiKey: DEFAULT_SIMULATOR_API_KEY }));
});
afterAll(async () => {
  await h?.close();
});

/** A bug of ours: reading the session throws as code with a mistake in it would. */
class BuggyHeyGenClient extends HeyGenClient {
  override async getSession(): Promise<never> {
    throw new TypeError("Cannot read properties of undefined (reading 'status')");
  }
}

interface Ending {
  name: string;
  input: SessionInput;
  taskQueue?: string;
  /** What happens after start (a decision, a cancel, a fault). */
  drive?: (handle: SessionHandle) => Promise<void>;
  phase: 'failed' | 'stopped' | 'expired';
  type: string;
  /** Whether HeyGen may still have been running, and so must be told to stop. */
  stops: 0 | 1;
  /** Kept as a replay fixture under this name. */
  record?: string;
}

const ENDINGS: Ending[] = [
  { name: 'HeyGen fails while thinking', input: { prompt: 'x [[sim fail=thinking think=50s]]' }, phase: 'failed', type: SESSION_FAILURE.heygenFailed, stops: 0 },
  {
    name: 'HeyGen fails while rendering',
    input: { prompt: 'x [[sim fail=generating think=50s generate=50s]]', autoApprove: true },
    phase: 'failed',
    type: SESSION_FAILURE.heygenFailed,
    stops: 0,
  },
  { name: 'the video fails after completion', input: { prompt: 'x [[sim fail=video review=skip think=50s]]' }, phase: 'failed', type: SESSION_FAILURE.heygenFailed, stops: 0 },
  {
    name: 'thinking outlasts maxThinking',
    input: { prompt: 'x [[sim stuck=thinking]]', timing: { maxThinking: '1s' } },
    phase: 'failed',
    type: SESSION_FAILURE.timedOut,
    stops: 1,
  },
  {
    name: 'HeyGen keeps reporting an unknown status',
    input: { prompt: 'x [[sim unknown_status=queued think=1h]]', timing: { unknownStatusLimit: 2 } },
    phase: 'failed',
    type: SESSION_FAILURE.unknownStatus,
    stops: 1,
  },
  {
    name: 'HeyGen unreachable past the phase deadline (retries exhausted)',
    input: { prompt: 'x [[sim think=1h]]', timing: { maxThinking: '6s' } },
    drive: async (handle) => {
      const thinking = await h.waitForPhase(handle, 'thinking');
      await h.sim.fault({ endpoint: 'get_session', fault: '503', count: 10_000, session_id: thinking.heygenSessionId! });
      // Failed, HeyGen told to stop: the slot is kept until a read shows HeyGen halted (it may still count
      // the job), so HeyGen answering again is what lets the workflow end.
      await h.waitForPhase(handle, 'failed', 60_000);
      await fetch(`${h.sim.url}/__sim/faults`, { method: 'DELETE' });
    },
    phase: 'failed',
    type: SESSION_FAILURE.heygenUnreachable,
    stops: 1,
    record: 'unreachable-until-deadline',
  },
  { name: 'HeyGen refuses our key', input: { prompt: 'x' }, taskQueue: queues.badKey, phase: 'failed', type: SESSION_FAILURE.heygenRejected, stops: 0 },
  { name: 'a bug in our code', input: { prompt: 'x [[sim think=1h]]' }, taskQueue: queues.buggy, phase: 'failed', type: SESSION_FAILURE.internal, stops: 1, record: 'internal-error' },
  {
    name: 'no review decision before the deadline (onTimeout stop)',
    input: { prompt: 'x [[sim think=50s]]', review: { timeout: '1s', onTimeout: 'stop' } },
    phase: 'expired',
    type: SESSION_FAILURE.reviewDeadlinePassed,
    stops: 1,
  },
  {
    name: 'stopped on request at review',
    input: { prompt: 'x [[sim think=50s]]' },
    drive: async (handle) => {
      await h.waitForPhase(handle, 'reviewing');
      await handle.cancel();
    },
    phase: 'stopped',
    type: SESSION_FAILURE.stopped,
    stops: 1,
  },
  {
    name: 'stopped while a decision waits behind another',
    input: { prompt: 'x [[sim think=50s generate=1h]]' },
    drive: async (handle) => {
      await h.waitForPhase(handle, 'reviewing');
      await h.sim.configure({ latencyMs: 1_500 });
      await handle.signal(approveSignal, { requestId: 'first' });
      await handle.signal(approveSignal, { requestId: 'second' });
      await handle.cancel();
    },
    phase: 'stopped',
    type: SESSION_FAILURE.stopped,
    stops: 1,
    record: 'stopped-with-decisions-waiting',
  },
];

test.each(ENDINGS)('$name → $phase ($type)', async (ending) => {
  await h.sim.configure({ latencyMs: 0 });
  const handle = await h.start(ending.input, { taskQueue: ending.taskQueue });
  await ending.drive?.(handle);
  const outcome = await handle.result().then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  await h.sim.configure({ latencyMs: 0 });
  const state: SessionState = 'result' in outcome ? outcome.result : await h.state(handle);
  const description: WorkflowExecutionDescription = await handle.describe();
  const [heygen] = await h.heygenSessions(handle.workflowId);
  const stops = heygen?.calls.stop ?? 0;
  console.log(
    `${ending.name}: phase=${state.phase} type=${state.error?.type} attribute=${description.typedSearchAttributes.get(VideoAgentStatus)} ` +
      `workflow=${description.status.name} stops=${stops} slot=${state.heygen.slot} reason="${state.error?.reason}"`,
  );

  expect(state.phase).toBe(ending.phase);
  expect(state.error?.type).toBe(ending.type);
  expect(state.error?.reason).toEqual(expect.any(String));
  expect(state.error?.reason).not.toMatch(/^Activity task failed$/);
  expect(description.typedSearchAttributes.get(VideoAgentStatus)).toBe(ending.phase);
  expect(stops).toBe(ending.stops);
  expect(state.heygen.stopRequestedAt !== null).toBe(ending.stops === 1);
  expect(state.heygen.slot).toBe('released');
  expect(state.actions.filter((action) => action.outcome === 'pending')).toEqual([]);
  expect(await detailsOf(handle)).not.toBe('');
  if (ending.record) await recordHistory(handle, ending.record);

  if (ending.phase === 'failed') {
    expect(outcome).toHaveProperty('error');
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect([cause.type, cause.message]).toEqual([state.error!.type, state.error!.reason]);
    expect(description.status.name).toBe('FAILED');
  } else if (ending.phase === 'stopped') {
    expect(description.status.name).toBe('CANCELLED');
  } else {
    expect(description.status.name).toBe('COMPLETED');
  }
});
