/**
 * The concurrency governor on the real dev server with the simulator: sessions queue for the account's
 * HeyGen job slots, get them in order, give them back however they end, and a holder that is terminated
 * by force has its slot reclaimed.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { heygenAccountId } from '../../src/activities';
import { DEFAULT_SIMULATOR_API_KEY } from '../../src/simulator/config';
import type { SessionHandle } from '../../src/temporal/sessions';
import { governorStateQuery, governorWorkflowId, type GovernorState } from '../../src/contract/governor';
import { VideoAgentStatus } from '../../src/contract/search-attributes';
import { approveSignal } from '../../src/contract/session';
import { videoAgentSession } from '../../src/workflows/session';
import { detailsOf, FAST_TIMING, recordHistory, startSessionHarness, type SessionHarness } from '../harness/sessions';
import { uniqueId } from '../harness/temporal';
import { eventually } from '../harness/wait';

const harnesses: SessionHarness[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.close();
});

async function harness(env: Record<string, string>, simulatorEnv: Record<string, string> = {}): Promise<SessionHarness> {
  const h = await startSessionHarness({ env, simulatorEnv });
  harnesses.push(h);
  return h;
}

function governorOf(h: SessionHarness) {
  return h.client.workflow.getHandle(governorWorkflowId(heygenAccountId(h.sim.url, DEFAULT_SIMULATOR_API_KEY)));
}

const governorState = (h: SessionHarness): Promise<GovernorState> => governorOf(h).query(governorStateQuery);

async function queuedAt(h: SessionHarness, handle: SessionHandle, position: number) {
  return eventually(async () => {
    const state = await h.state(handle);
    return state.phase === 'queued' && state.queue?.position === position ? state : undefined;
  }, { what: `${handle.workflowId} queued at position ${position}`, timeoutMs: 30_000 });
}

test('a session waits in `queued` while the slots are held, and gets one when a holder ends', async () => {
  const h = await harness({ HEYGEN_MAX_CONCURRENT: '1' });
  const first = await h.start({ prompt: 'Holds the slot [[sim think=50s]]' });
  await h.waitForPhase(first, 'reviewing');
  const second = await h.start({ prompt: 'Waits for it [[sim think=50s]]' });
  const queued = await queuedAt(h, second, 1);
  expect(queued).toMatchObject({ heygenSessionId: null, queue: { position: 1, queued: 1 }, heygen: { slot: 'waiting' } });
  expect((await second.describe()).typedSearchAttributes.get(VideoAgentStatus)).toBe('queued');
  expect(await detailsOf(second)).toMatch(/^Queued: position 1 of 1 since \d\d:\d\d UTC$/);
  expect(await h.heygenSessions(second.workflowId)).toEqual([]);
  const governor = await governorState(h);
  expect(governor).toMatchObject({ limit: 1, holders: [expect.objectContaining({ sessionId: first.workflowId })], waiting: [expect.objectContaining({ sessionId: second.workflowId, position: 1 })] });

  await first.signal(approveSignal, { requestId: 'go' });
  expect((await first.result()).heygen.slot).toBe('released');
  const review = await h.waitForPhase(second, 'reviewing');
  expect(review.queue).toBeNull();
  expect(review.heygen.slot).toBe('held');
  expect(await governorState(h)).toMatchObject({ holders: [expect.objectContaining({ sessionId: second.workflowId })], waiting: [], granted: 2, released: 1 });
  console.log(`governor: ${JSON.stringify(await governorState(h))}`);
  await second.signal(approveSignal, { requestId: 'go' });
  expect((await second.result()).phase).toBe('completed');
  await recordHistory(second, 'queued');
  await recordHistory(governorOf(h), 'grants-and-releases', 'governor');
});

test('a holder terminated by force has its slot reclaimed', async () => {
  const h = await harness({ HEYGEN_MAX_CONCURRENT: '1', HEYGEN_SLOT_RECLAIM_INTERVAL: '1s' });
  const holder = await h.start({ prompt: 'Terminated while holding [[sim think=50s]]' });
  await h.waitForPhase(holder, 'reviewing');
  const waiter = await h.start({ prompt: 'Next in line [[sim think=50s]]' });
  await queuedAt(h, waiter, 1);
  await holder.terminate('an operator ends it by force');
  const review = await h.waitForPhase(waiter, 'reviewing', 30_000);
  expect(review.heygen.slot).toBe('held');
  const governor = await governorState(h);
  console.log(`reclaim: reclaimed=${governor.reclaimed}, holders=${governor.holders.map((x) => x.sessionId).join(',')}`);
  expect(governor).toMatchObject({ reclaimed: 1, holders: [expect.objectContaining({ sessionId: waiter.workflowId })] });
  await recordHistory(governorOf(h), 'reclaim', 'governor');
});

test('a session stopped while queued leaves the queue; one that waits past maxQueued expires', async () => {
  const h = await harness({ HEYGEN_MAX_CONCURRENT: '1' });
  const holder = await h.start({ prompt: 'Holds the slot [[sim think=50s]]' });
  await h.waitForPhase(holder, 'reviewing');

  const stopped = await h.start({ prompt: 'Cancelled in the queue' });
  await queuedAt(h, stopped, 1);
  await stopped.cancel();
  await expect(stopped.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  expect(await h.state(stopped)).toMatchObject({ phase: 'stopped', error: { type: 'VideoAgentSessionStopped' }, heygen: { slot: 'released' } });

  const patient = await h.start({ prompt: 'Gives up', timing: { maxQueued: '2s' } });
  const expired = await patient.result();
  expect(expired).toMatchObject({ phase: 'expired', heygenSessionId: null, error: { type: 'VideoAgentQueueTimedOut', reason: expect.stringContaining('No HeyGen job slot') } });
  expect((await patient.describe()).typedSearchAttributes.get(VideoAgentStatus)).toBe('expired');
  expect(await h.heygenSessions(stopped.workflowId)).toEqual([]);
  expect(await h.heygenSessions(patient.workflowId)).toEqual([]);
  await eventually(async () => (await governorState(h)).waiting.length === 0, { what: 'an empty queue' });
  expect((await governorState(h)).holders.map((x) => x.sessionId)).toEqual([holder.workflowId]);
});

test('with HEYGEN_HOLD_SLOT_IN_REVIEW=false a parked session gives its slot back and asks again to go on', async () => {
  const h = await harness({ HEYGEN_MAX_CONCURRENT: '1', HEYGEN_HOLD_SLOT_IN_REVIEW: 'false' });
  const a = await h.start({ prompt: 'Parked A [[sim think=50s generate=50s]]' });
  expect((await h.waitForPhase(a, 'reviewing')).heygen.slot).toBe('released');
  const b = await h.start({ prompt: 'Parked B [[sim think=50s generate=50s]]' });
  await h.waitForPhase(b, 'reviewing');
  await a.signal(approveSignal, { requestId: 'a' });
  await b.signal(approveSignal, { requestId: 'b' });
  const [ra, rb] = await Promise.all([a.result(), b.result()]);
  expect([ra.phase, rb.phase]).toEqual(['completed', 'completed']);
  expect((await governorState(h)).granted).toBe(4);
});

test('without a governor, a create that HeyGen refuses for its cap (429) is retried until a job ends', async () => {
  const h = await harness({ HEYGEN_MAX_CONCURRENT: '0' }, { SIMULATOR_CONCURRENCY_LIMIT: '1', SIMULATOR_RETRY_AFTER_SECONDS: '1' });
  const a = await h.start({ prompt: 'Takes the only job [[sim think=50s generate=50s]]' });
  await h.waitForPhase(a, 'reviewing');
  const b = await h.start({ prompt: 'Refused at first [[sim think=50s generate=50s]]', autoApprove: true });
  const refused = await eventually(async () => {
    const state = await h.state(b);
    return state.phase === 'creating' && state.heygen.lastError?.includes('Concurrent job limit') ? state : undefined;
  }, { timeoutMs: 30_000, what: 'the create refused with 429' });
  expect(refused.heygen.slot).toBe('none');
  await a.signal(approveSignal, { requestId: 'a' });
  expect((await a.result()).phase).toBe('completed');
  const done = await b.result();
  expect(done).toMatchObject({ phase: 'completed', heygen: { unreachableSince: null } });
  expect(await h.heygenSessions(b.workflowId)).toHaveLength(1);
  const stats = await h.sim.stats();
  console.log(`429 at create: ${stats.responses['create_session 429'] ?? 0} refusals, then created`);
  expect(stats.responses['create_session 429']).toBeGreaterThan(0);
});

test('a holder whose run times out has its slot reclaimed', async () => {
  const h = await harness({ HEYGEN_MAX_CONCURRENT: '1', HEYGEN_SLOT_RECLAIM_INTERVAL: '1s' });
  // Started as any Temporal client could, with a run timeout: it ends without running any code of ours.
  const holder = await h.client.workflow.start(videoAgentSession, {
    taskQueue: h.taskQueue,
    workflowId: uniqueId('session'),
    args: [{ prompt: 'Times out while holding [[sim think=50s]]', timing: FAST_TIMING }],
    workflowRunTimeout: '4s',
  });
  await eventually(async () => (await governorState(h)).holders.some((x) => x.sessionId === holder.workflowId), { what: 'the holder to be granted the slot' });
  // The waiter asks before the holder times out or after (a loaded machine may take the 4 s): either way
  // it waits in line until the governor's check finds the holder ended and gives it the slot.
  const waiter = await h.start({ prompt: 'Next in line [[sim think=50s]]' });
  const review = await h.waitForPhase(waiter, 'reviewing', 30_000);
  expect(review.heygen.slot).toBe('held');
  expect((await holder.describe()).status.name).toBe('TIMED_OUT');
  expect(await governorState(h)).toMatchObject({ reclaimed: 1, holders: [expect.objectContaining({ sessionId: waiter.workflowId })] });
  // It waited in line: told its position, then granted the slot.
  const signals = (await waiter.fetchHistory()).events!.flatMap((event) => event.workflowExecutionSignaledEventAttributes?.signalName ?? []);
  expect(signals.filter((name) => name === 'queuePosition' || name === 'slotGranted')).toEqual(['queuePosition', 'slotGranted']);
});

test('a holder reset to before its slot asks again and is told it holds it: still one slot, never two', async () => {
  const h = await harness({ HEYGEN_MAX_CONCURRENT: '1' });
  const holder = await h.start({ prompt: 'Reset while holding [[sim think=50s]]' });
  await h.waitForPhase(holder, 'reviewing');
  const waiter = await h.start({ prompt: 'Must keep waiting [[sim think=50s]]' });
  await queuedAt(h, waiter, 1);
  // Back to the end of the first workflow task: the new run replays nothing of the slot and asks again.
  const { runId } = await holder.describe();
  type ResetRequest = Parameters<typeof h.client.workflowService.resetWorkflowExecution>[0];
  await h.client.workflowService.resetWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId: holder.workflowId, runId },
    workflowTaskFinishEventId: 4,
    requestId: uniqueId('reset'),
    reason: 'test: reset a slot holder',
  } as unknown as ResetRequest);
  const reset = h.client.workflow.getHandle(holder.workflowId);
  const again = await eventually(async () => {
    const state = await h.state(reset);
    return state.heygen.slot === 'held' && state.phase !== 'queued' ? state : undefined;
  }, { timeoutMs: 30_000, what: 'the reset holder to hold its slot again' });
  expect(again.phase).not.toBe('queued');
  const governor = await governorState(h);
  console.log(`reset: holders=${governor.holders.map((x) => x.sessionId).join(',')} waiting=${governor.waiting.map((x) => x.sessionId).join(',')}`);
  expect(governor.holders.map((x) => x.sessionId)).toEqual([holder.workflowId]);
  expect(governor.waiting.map((x) => x.sessionId)).toEqual([waiter.workflowId]);
  expect((await h.state(waiter)).phase).toBe('queued');
});
