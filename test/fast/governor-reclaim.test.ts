/**
 * @module Governor reclaim: a slot whose holder closed without giving it back (terminated by force, its
 * run timed out) is taken back by the governor's check, made every reclaim interval while sessions wait
 * and every slot is held, and the waiter gets it; a grant to a session that no longer runs is taken
 * back at once and goes to the next in line. One slot, never two.
 *
 * The real governor workflow and its real activities run against the time-skipping server, with HeyGen
 * scripted for each session. The interval passes on the server's clock (`env.sleep`), so a check comes
 * exactly when the test lets the time pass, never by chance; the slow versions on the real server are in
 * test/workflows/governor.test.ts.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { createGovernorActivities } from '../../src/activities/governor';
import { governorStateQuery, governorWorkflowId } from '../../src/contract/governor';
import { approveSignal, type SessionInput } from '../../src/contract/session';
import { testLogger, uniqueId } from '../harness/temporal';
import { ScriptedHeyGenPerSession, startFastHarness, type FastHarness } from '../harness/time-skipping';

/** These tests are about the governor's reclaim: the waiters do not ask again meanwhile (test/fast/deadlines.test.ts covers that). */
const RECLAIM_ONLY = { queueRecheck: '48h' };

let h: FastHarness;
beforeAll(async () => {
  h = await startFastHarness();
});
afterAll(() => h?.close());

const RECLAIM_CHECK_MS = 5 * 60_000;
/** On top of an interval: the check's own work and the grant, which run on the clock at real speed. */
const SLACK_MS = 60_000;
const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;

/** One account with one slot, its own governor, HeyGen scripted per session; the governor's checks counted. */
function account() {
  const name = uniqueId('acct');
  const heygen = new ScriptedHeyGenPerSession();
  const governor = createGovernorActivities({
    client: h.env.client,
    account: name,
    settings: { maxConcurrent: 1, holdSlotWhileParked: true, reclaimCheckMs: RECLAIM_CHECK_MS },
    logger: testLogger,
  });
  const checks: string[][] = [];
  const activities = {
    ...heygen.activities(),
    ...governor,
    // The time-skipping server has no visibility to list sessions from; these tests start each governor
    // before any session holds a slot, so a fresh one has nothing to rebuild (test/chaos/governor-lost covers that).
    findSlotSessions: async () => ({ holders: [], waiting: [] }),
    findEndedSessions: async (input: { sessionIds: string[] }) => {
      const ended = await governor.findEndedSessions(input);
      checks.push(ended);
      return ended;
    },
  };
  const governorState = () => h.env.client.workflow.getHandle(governorWorkflowId(name)).query(governorStateQuery);
  return { activities, checks, governorState };
}

const holding = (handle: WorkflowHandle) => h.stateWhere(handle, (s) => s.phase === 'reviewing' && s.heygen.slot === 'held', `${handle.workflowId} at review, holding the slot`);
const queuedFirst = (handle: WorkflowHandle) => h.stateWhere(handle, (s) => s.phase === 'queued' && s.queue?.position === 1, `${handle.workflowId} queued at position 1`);
const closedAt = async (handle: WorkflowHandle) => (await handle.describe()).closeTime!.getTime();

test('a holder terminated by force: the next check takes its slot back and the waiter gets it', async () => {
  const { activities, checks, governorState } = account();
  await h.withWorker(activities, async () => {
    const holder = await h.start({ prompt: 'Holds the slot', timing: RECLAIM_ONLY });
    await holding(holder);
    const waiter = await h.start({ prompt: 'Next in line', timing: RECLAIM_ONLY });
    await queuedFirst(waiter);
    await holder.terminate('an operator ends it by force');
    const endedAt = await closedAt(holder);
    expect(checks).toEqual([]); // no check yet: the interval has not passed
    await h.env.sleep(RECLAIM_CHECK_MS);
    const review = await holding(waiter);
    const governor = await governorState();
    const waited = Date.parse(review.heygen.slotSince!) - endedAt;
    console.log(
      `terminated holder: checks ${checks.length} (found ended: ${checks.filter((c) => c.length).length}); reclaimed ${governor.reclaimed}, granted ${governor.granted}, released ${governor.released}; the waiter got the slot ${minutes(waited)} after the holder ended`,
    );
    expect(checks).toEqual([[holder.workflowId]]);
    expect(governor).toMatchObject({ reclaimed: 1, granted: 2, released: 0, waiting: [] });
    expect(governor.holders.map((x) => x.sessionId)).toEqual([waiter.workflowId]);
    expect(waited).toBeLessThanOrEqual(RECLAIM_CHECK_MS + SLACK_MS);
    expect(review.queue).toBeNull();
  });
});

test('a holder whose run times out: a check after it ended takes its slot back and the waiter gets it', async () => {
  const { activities, checks, governorState } = account();
  await h.withWorker(activities, async () => {
    // Started as any Temporal client could, with a run timeout: it ends without running any code of ours.
    const input: SessionInput = { prompt: 'Times out while holding' };
    const holder = await h.env.client.workflow.start('videoAgentSession', { taskQueue: h.taskQueue, workflowId: uniqueId('session'), args: [input], workflowRunTimeout: '1h' });
    await holding(holder);
    const waiter = await h.start({ prompt: 'Next in line', timing: RECLAIM_ONLY });
    await queuedFirst(waiter);
    await h.env.sleep(60 * 60_000 + RECLAIM_CHECK_MS);
    const review = await holding(waiter);
    const { status } = await holder.describe();
    const endedAt = await closedAt(holder);
    const governor = await governorState();
    const waited = Date.parse(review.heygen.slotSince!) - endedAt;
    console.log(
      `timed-out holder (${status.name}): checks ${checks.length} (found ended: ${checks.filter((c) => c.length).length}); reclaimed ${governor.reclaimed}, granted ${governor.granted}; the waiter got the slot ${minutes(waited)} after the holder ended`,
    );
    expect(status.name).toBe('TIMED_OUT');
    expect(checks.filter((ended) => ended.length)).toEqual([[holder.workflowId]]);
    expect(checks.length).toBeGreaterThanOrEqual(60 / 5); // every interval while the waiter waited
    expect(governor).toMatchObject({ reclaimed: 1, granted: 2, released: 0, waiting: [] });
    expect(governor.holders.map((x) => x.sessionId)).toEqual([waiter.workflowId]);
    expect(waited).toBeLessThanOrEqual(RECLAIM_CHECK_MS + SLACK_MS);
  });
});

test('a grant to a waiter that no longer runs is taken back at once and goes to the next in line', async () => {
  const { activities, checks, governorState } = account();
  await h.withWorker(activities, async () => {
    const holder = await h.start({ prompt: 'Holds the slot, then finishes', timing: RECLAIM_ONLY });
    await holding(holder);
    const gone = await h.start({ prompt: 'First in line, terminated while waiting', timing: RECLAIM_ONLY });
    await queuedFirst(gone);
    const next = await h.start({ prompt: 'Second in line', timing: RECLAIM_ONLY });
    await h.stateWhere(next, (s) => s.phase === 'queued' && s.queue?.position === 2, 'the second waiter at position 2');
    await gone.terminate('an operator ends it by force');
    await holder.signal(approveSignal, { requestId: 'go' });
    expect((await holder.result()).phase).toBe('completed');
    const review = await holding(next);
    const governor = await governorState();
    console.log(`grant to a gone waiter: reclaimed ${governor.reclaimed}, granted ${governor.granted}, released ${governor.released}; checks ${checks.length}`);
    expect(governor).toMatchObject({ reclaimed: 1, granted: 3, released: 1, waiting: [] });
    expect(governor.holders.map((x) => x.sessionId)).toEqual([next.workflowId]);
    expect(checks).toEqual([]); // taken back when its grant could not be delivered, with no check
    expect(review.heygen.slot).toBe('held');
  });
});
