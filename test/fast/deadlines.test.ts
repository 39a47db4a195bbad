/**
 * @module Deadlines on skipped time: the review deadline (`review.timeout`, `onTimeout: stop` and
 * `approve`), the queue deadline (`timing.maxQueued`, and a grant that comes with it), the thinking and
 * rendering deadlines (`timing.maxThinking`, `timing.maxGenerating`), the finished video's
 * (`timing.maxVideoWait`) and the archive's retry window. Days pass in moments on the time-skipping server
 * (awaiting the result lets its clock jump to the next timer). Each ending is checked as a reader finds
 * it: the phase, the typed error, the `VideoAgentStatus` search attribute, and HeyGen told to stop
 * whenever its session may still be running (never when there is none, or it finished).
 *
 * A scripted follow "works" until its stretch ends by letting the server's clock run to the follow's
 * `until`: the way the real one returns HeyGen's state when its stretch is over. It cannot heartbeat
 * through skipped time, so those sessions give activities a heartbeat timeout longer than a stretch.
 */
import { ApplicationFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { FollowInput } from '../../src/activities';
import { ARCHIVE_FAILURE, SESSION_FAILURE } from '../../src/contract/failures';
import type { Phase, SessionState } from '../../src/contract/session';
import { slotGrantedSignal } from '../../src/contract/governor';
import { ScriptedHeyGen, startFastHarness, taskThatDelivered, type FastHarness } from '../harness/time-skipping';

let h: FastHarness;
beforeAll(async () => {
  h = await startFastHarness();
});
afterAll(() => h?.close());

const HOUR = 3_600_000;

/** How the session ended, as its readers see it: the state, the workflow's failure type, the search attribute. */
async function ending(handle: WorkflowHandle) {
  const startedAt = Date.now();
  const failureType = await handle.result().then(
    () => null,
    (error: unknown) => (error instanceof WorkflowFailedError ? ((error.cause as { type?: string } | undefined)?.type ?? 'untyped') : Promise.reject(error)),
  );
  const realMs = Date.now() - startedAt;
  const state = await h.state(handle);
  return { state, failureType, attribute: await h.statusAttribute(handle), realMs };
}

/** When the session entered a phase (the last time), in ms. */
const enteredAt = (state: SessionState, phase: Phase) => Date.parse(state.phaseHistory.filter((entry) => entry.phase === phase).at(-1)!.at);
const hours = (ms: number) => `${(ms / HOUR).toFixed(2)} h`;

describe('the review deadline', () => {
  test('with onTimeout stop: expired after 7 days, ReviewDeadlinePassed, HeyGen stopped', async () => {
    const heygen = new ScriptedHeyGen();
    await h.withWorker(heygen.activities(), async () => {
      const handle = await h.start({ prompt: 'Nobody reviews this', review: { timeout: '7d', onTimeout: 'stop' } });
      const reviewing = await h.stateWhere(handle, (s) => s.phase === 'reviewing', 'the storyboard');
      const { state, failureType, attribute, realMs } = await ending(handle);
      const waited = enteredAt(state, 'expired') - enteredAt(state, 'reviewing');
      console.log(`review stop: ${state.phase} after ${hours(waited)} at review (${realMs} ms real); HeyGen stops ${heygen.stops.length}; search attribute ${attribute}`);
      expect(state.phase).toBe('expired');
      expect(state.error?.type).toBe(SESSION_FAILURE.reviewDeadlinePassed);
      expect(failureType).toBeNull(); // an expiry is an ending, not a failure of the workflow
      expect(attribute).toBe('expired');
      expect(heygen.stops).toEqual(['sess_scripted']);
      expect(enteredAt(state, 'expired')).toBeGreaterThanOrEqual(Date.parse(reviewing.review!.deadline));
      expect(waited).toBeLessThan(7 * 24 * HOUR + 60_000);
      expect(state.actions.map((a) => `${a.kind} ${a.by}: ${a.outcome}`)).toEqual(['review_timeout system: applied']);
      expect(heygen.messages).toEqual([]);
    });
  });

  test('with onTimeout approve: approved by policy after 7 days, rendered and completed, nothing stopped', async () => {
    const heygen = new ScriptedHeyGen();
    await h.withWorker(heygen.activities(), async () => {
      const handle = await h.start({ prompt: 'Approve it if nobody does', review: { timeout: '7d', onTimeout: 'approve' } });
      await h.stateWhere(handle, (s) => s.phase === 'reviewing', 'the storyboard');
      const { state, failureType, attribute, realMs } = await ending(handle);
      const waited = enteredAt(state, 'generating') - enteredAt(state, 'reviewing');
      console.log(`review approve: ${state.phase}, rendering began ${hours(waited)} after review (${realMs} ms real); sends ${heygen.messages.length}; HeyGen stops ${heygen.stops.length}`);
      expect(state.phase).toBe('completed');
      expect(state.error).toBeNull();
      expect(failureType).toBeNull();
      expect(attribute).toBe('completed');
      expect(heygen.stops).toEqual([]);
      expect(heygen.messages.map((m) => m.autoProceed)).toEqual([true]);
      expect(waited).toBeGreaterThanOrEqual(7 * 24 * HOUR);
      expect(waited).toBeLessThan(7 * 24 * HOUR + 60_000);
      expect(state.actions).toMatchObject([{ kind: 'review_timeout', by: 'system', outcome: 'applied', reason: expect.stringContaining('approved by policy') }]);
    });
  });
});

test('the queue deadline: no slot within maxQueued, expired with VideoAgentQueueTimedOut, nothing at HeyGen to stop', async () => {
  const heygen = new ScriptedHeyGen();
  const activities = {
    ...heygen.activities(),
    // A governor that never grants (every slot held for good): the session waits in the queue.
    requestHeyGenSlot: async (request: { requestedAt: string }) => {
      asked.push(request.requestedAt);
      return { governed: true as const, account: 'acct', governorId: 'heygen-governor-none', holdSlotWhileParked: true };
    },
  };
  const asked: string[] = [];
  await h.withWorker(activities, async () => {
    const handle = await h.start({ prompt: 'Never gets a slot', timing: { maxQueued: '24h' } });
    await h.stateWhere(handle, (s) => s.phase === 'queued', 'the session queued');
    const { state, failureType, attribute, realMs } = await ending(handle);
    const waited = enteredAt(state, 'expired') - Date.parse(state.createdAt);
    console.log(`queue: ${state.phase} after ${hours(waited)} (${realMs} ms real); creates ${heygen.count('createHeyGenSession')}; HeyGen stops ${heygen.stops.length}; slot ${state.heygen.slot}`);
    expect(state.phase).toBe('expired');
    expect(state.error?.type).toBe(SESSION_FAILURE.queueTimedOut);
    expect(failureType).toBeNull();
    expect(attribute).toBe('expired');
    expect(heygen.count('createHeyGenSession')).toBe(0);
    expect(heygen.stops).toEqual([]);
    expect(state.heygen.slot).toBe('released'); // the place in the queue given back
    expect(waited).toBeGreaterThanOrEqual(24 * HOUR);
    expect(waited).toBeLessThan(24 * HOUR + 60_000);
    // Asked again every queueRecheck (10 min), always as of its start: the place in the queue is kept.
    console.log(`asked for the slot ${asked.length} times in 24 h, as of ${new Set(asked).size} time(s)`);
    expect(asked).toHaveLength(24 * 6);
    expect(new Set(asked).size).toBe(1);
  });
});

test('a slot granted in the same workflow task as the queue deadline is taken: the session goes on, nothing expires', async () => {
  const heygen = new ScriptedHeyGen();
  const activities = {
    ...heygen.activities(),
    requestHeyGenSlot: async () => ({ governed: true as const, account: 'acct', governorId: 'heygen-governor-none', holdSlotWhileParked: true }),
  };
  await h.withGatedWorkers(activities, async (gate) => {
    // No asking again before the deadline: the timer that fires is the deadline's.
    const handle = await h.start({ prompt: 'Granted as the queue deadline passes', timing: { maxQueued: '24h', queueRecheck: '48h' } });
    const queued = await h.stateWhere(handle, (s) => s.phase === 'queued', 'the session queued');
    await gate.pause();
    await h.sleepUntil(Date.parse(queued.queue!.since) + 24 * HOUR);
    await h.historyWhere(handle, (events) => events.some((event) => event.timerFiredEventAttributes), 'the queue deadline in the history');
    await handle.signal(slotGrantedSignal, { grantedAt: new Date(await h.env.currentTimeMs()).toISOString() });
    await h.historyWhere(handle, (events) => events.some((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'slotGranted'), 'the grant in the history');
    await gate.resume();
    const reviewing = await h.stateWhere(handle, (s) => s.phase === 'reviewing' || s.phase === 'expired', 'the storyboard after the grant (or the expiry)');

    const events = (await handle.fetchHistory()).events ?? [];
    const timer = events.find((event) => event.timerFiredEventAttributes)!;
    const grant = events.find((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'slotGranted')!;
    const together = taskThatDelivered(events, timer) === taskThatDelivered(events, grant);
    console.log(`grant with the queue deadline, in one workflow task: ${together}; then ${reviewing.phase}, slot ${reviewing.heygen.slot}; creates ${heygen.count('createHeyGenSession')}`);
    expect(together).toBe(true);
    expect(reviewing.phaseHistory.map((entry) => entry.phase)).toEqual(['creating', 'queued', 'creating', 'thinking', 'reviewing']);
    expect(reviewing.heygen.slot).toBe('held');
    expect(reviewing.error).toBeNull();
    expect(heygen.count('createHeyGenSession')).toBe(1);
    await handle.cancel();
    await handle.result().catch(() => undefined);
  });
});

test.each([
  { phase: 'thinking' as const, timing: { maxThinking: '45m' }, limit: 45 * 60_000, autoApprove: false },
  { phase: 'generating' as const, timing: { maxGenerating: '90m' }, limit: 90 * 60_000, autoApprove: true },
])('the $phase deadline: HeyGen still at it after the limit, failed with VideoAgentSessionTimedOut, HeyGen stopped', async ({ phase, timing, limit, autoApprove }) => {
  const heygen = new ScriptedHeyGen();
  let stretches = 0;
  heygen.onFollow = async (input: FollowInput) => {
    // The phase a follow serves comes first among its quiet statuses. Before this one: the script (a
    // storyboard, approved automatically).
    if (input.quietStatuses[0] !== phase) return;
    stretches++;
    heygen.nextFollows.push({ status: phase, progress: 30 });
    await h.sleepUntil(input.until);
  };
  await h.withWorker(heygen.activities(), async () => {
    const handle = await h.start({ prompt: `Stuck ${phase}`, autoApprove, timing: { ...timing, activityHeartbeatTimeout: '2h' } });
    const { state, failureType, attribute, realMs } = await ending(handle);
    const took = enteredAt(state, 'failed') - enteredAt(state, phase);
    console.log(`${phase}: ${state.phase} after ${hours(took)} ${phase} in ${stretches} follow stretches (${realMs} ms real); HeyGen stops ${heygen.stops.length}`);
    expect(state.phase).toBe('failed');
    expect(state.error?.type).toBe(SESSION_FAILURE.timedOut);
    expect(failureType).toBe(SESSION_FAILURE.timedOut);
    expect(attribute).toBe('failed');
    expect(heygen.stops).toEqual(['sess_scripted']);
    expect(took).toBeGreaterThanOrEqual(limit);
    expect(took).toBeLessThan(limit + 60_000);
  });
});

test('the video deadline: the finished video still processing after maxVideoWait, failed with VideoAgentSessionTimedOut, nothing to stop', async () => {
  const heygen = new ScriptedHeyGen();
  const scripted = heygen.activities();
  const activities = { ...scripted, getHeyGenVideo: async (videoId: string) => ({ ...(await scripted.getHeyGenVideo(videoId)), status: 'processing' }) };
  await h.withWorker(activities, async () => {
    const handle = await h.start({ prompt: 'A video that never finishes', autoApprove: true, timing: { maxVideoWait: '30m', videoPollInterval: '5m' } });
    const { state, failureType, attribute, realMs } = await ending(handle);
    const took = enteredAt(state, 'failed') - enteredAt(state, 'finalizing');
    console.log(`video: ${state.phase} after ${hours(took)} finalizing, ${heygen.count('getHeyGenVideo')} reads (${realMs} ms real); HeyGen stops ${heygen.stops.length}`);
    expect(state.phase).toBe('failed');
    expect(state.error?.type).toBe(SESSION_FAILURE.timedOut);
    expect(state.error?.reason).toMatch(/^The video was still processing 30m after the session completed/);
    expect(failureType).toBe(SESSION_FAILURE.timedOut);
    expect(attribute).toBe('failed');
    expect(heygen.stops).toEqual([]); // HeyGen's session is completed: nothing runs there
    expect(heygen.count('getHeyGenVideo')).toBe(30 / 5 + 1);
    expect(took).toBeGreaterThanOrEqual(30 * 60_000);
    expect(took).toBeLessThan(30 * 60_000 + 60_000);
  });
});

test('the archive retry window: archive_failed waits 7 days for retryArchive, then the workflow ends in archive_failed', async () => {
  const heygen = new ScriptedHeyGen();
  const activities = {
    ...heygen.activities(),
    archiveVideoFile: async () => {
      throw ApplicationFailure.create({ message: 'the video is gone at HeyGen', type: ARCHIVE_FAILURE.mediaMissing, nonRetryable: true });
    },
  };
  await h.withWorker(activities, async () => {
    const handle = await h.start({ prompt: 'A video we cannot copy', autoApprove: true });
    await h.stateWhere(handle, (s) => s.phase === 'archive_failed', 'archive_failed');
    const { state, failureType, attribute, realMs } = await ending(handle);
    const { closeTime, status } = await handle.describe();
    const waited = closeTime!.getTime() - enteredAt(state, 'archive_failed');
    console.log(`archive: ${state.phase}, the workflow ${status.name} ${hours(waited)} later (${realMs} ms real); HeyGen stops ${heygen.stops.length}`);
    expect(state.phase).toBe('archive_failed');
    expect(state.error?.type).toBe(ARCHIVE_FAILURE.mediaMissing);
    expect(state.video?.videoId).toBe('vid_1'); // kept
    expect(failureType).toBeNull();
    expect(status.name).toBe('COMPLETED');
    expect(attribute).toBe('archive_failed');
    expect(heygen.stops).toEqual([]);
    expect(waited).toBeGreaterThanOrEqual(7 * 24 * HOUR);
    expect(waited).toBeLessThan(7 * 24 * HOUR + 60_000);
  });
});
