/**
 * How a session ends. Each ending leaves a true state: the phase and its typed error, the search
 * attribute in step, HeyGen told to stop whatever may still run, the slot given back, decisions still
 * waiting settled, and the last notifications given their retry window.
 */
import * as wf from '@temporalio/workflow';
import { SESSION_FAILURE } from '../../contract/failures';
import type { SessionResult } from '../../contract/session';
import { followsStopped } from './cancelled-follows';
import { iso, type SessionRun } from './context';
import { recordAction, settleWaitingDecisions } from './decisions';
import { classifyFailure, describeFailure } from './failures';
import { callHeyGen } from './heygen-calls';
import { stopImageLoads } from './images';
import { deliveriesSettled } from './notifications';
import { enterPhase } from './phases';
import { confirmsStopBeforeRelease } from './legacy';
import { releaseSlot } from './slot';
import type { Ending, UnsuccessfulEnding } from './steps';

/** How long a stop is retried while HeyGen cannot be reached (a job left running keeps billing). */
const STOP_RETRY_WINDOW_MS = 24 * 3_600_000;
/**
 * HeyGen statuses in which a stopped session no longer counts toward the account's job cap: ended, or
 * paused at a checkpoint, where HeyGen's stop ("halts at its next checkpoint") has taken effect
 * (docs/heygen-contract.md, stop). Anything else, an unknown status included, may still be working.
 */
const HALTED_STATUSES: readonly string[] = ['completed', 'failed', 'waiting_for_input', 'reviewing'];
/**
 * The longest wait between two reads that confirm a stop: a halt comes at HeyGen's next checkpoint, in
 * moments or minutes, and the slot stays taken until it is read, so a session timed to poll rarely (up to
 * 365 days between reads) must not hold it that long.
 */
const CONFIRM_MAX_WAIT_MS = 60_000;
/** The first wait before reading a stop again: HeyGen's checkpoint is often moments away. */
const CONFIRM_FIRST_WAIT_MS = 5_000;

/** Ends the session as a step said; a failure is thrown as the workflow's failure. */
export async function endWith(run: SessionRun, ending: Ending): Promise<SessionResult> {
  switch (ending.end) {
    case 'completed':
      return endCompleted(run);
    case 'archive_failed':
      return endArchiveFailed(run);
    case 'expired':
      return wf.CancellationScope.nonCancellable(() => endExpired(run, ending));
    case 'failed':
      throw await wf.CancellationScope.nonCancellable(() => endFailed(run, ending));
  }
}

async function endCompleted(run: SessionRun): Promise<SessionResult> {
  stopImageLoads(run);
  // The slot first, so the phase turns `completed` in the workflow task that completes the workflow.
  await releaseSlot(run, 'completed');
  enterPhase(run, 'completed');
  settleWaitingDecisions(run, 'the session has completed');
  await deliveriesSettled(run);
  await followsStopped(run);
  return run.state;
}

/** Nobody retried in time: the session ends `archive_failed`, the video info and any archived files kept. */
async function endArchiveFailed(run: SessionRun): Promise<SessionResult> {
  await releaseSlot(run, 'archive_failed');
  settleWaitingDecisions(run, 'the session has ended');
  await deliveriesSettled(run);
  await followsStopped(run);
  return run.state;
}

export async function endExpired(run: SessionRun, expiry: UnsuccessfulEnding): Promise<SessionResult> {
  await endUnsuccessfully(run, 'expired', { reason: expiry.reason, type: expiry.type }, `the session expired: ${expiry.reason}`);
  return run.state;
}

/** The workflow was cancelled (the API's stop, `temporal workflow cancel`, the Web UI). */
export async function endStopped(run: SessionRun): Promise<void> {
  recordAction(run, 'stop', null, null, 'applied', 'workflow cancelled');
  await endUnsuccessfully(run, 'stopped', { reason: 'Stopped on request (the workflow was cancelled)', type: SESSION_FAILURE.stopped }, 'the session was stopped');
}

/** Ends the session as failed and returns the failure the workflow fails with. */
export async function endFailed(run: SessionRun, failure: { reason: string; type: string }): Promise<wf.ApplicationFailure> {
  const { type, reason } = failure;
  await endUnsuccessfully(run, 'failed', { reason, type }, `the session failed: ${reason}`);
  return wf.ApplicationFailure.nonRetryable(reason, type, { heygenSessionId: run.state.heygenSessionId });
}

/** An error nobody turned into an ending (a bug, a refusal by HeyGen): the session fails with its typed error. */
export function endFailedWithError(run: SessionRun, error: unknown): Promise<wf.ApplicationFailure> {
  return endFailed(run, classifyFailure(error));
}

/** The true state first, then HeyGen told to stop and the slot given back. */
async function endUnsuccessfully(run: SessionRun, phase: 'failed' | 'stopped' | 'expired', error: { reason: string; type: string }, settleReason: string): Promise<void> {
  stopImageLoads(run);
  run.state.error = error;
  enterPhase(run, phase);
  settleWaitingDecisions(run, settleReason);
  if ((await stopHeyGen(run)) && confirmsStopBeforeRelease()) await confirmHalted(run);
  await releaseSlot(run, phase);
  await deliveriesSettled(run);
  await followsStopped(run);
}

/**
 * Stops the HeyGen session once, if one exists and may still be running; retried while HeyGen cannot
 * be reached (for a day). A stop that never gets through is recorded, and the ending goes on. True when
 * HeyGen took the stop.
 */
async function stopHeyGen(run: SessionRun): Promise<boolean> {
  const { state } = run;
  const status = state.heygenStatus;
  if (!state.heygenSessionId || status === 'completed' || status === 'failed' || state.heygen.stopRequestedAt) return false;
  state.heygen.stopRequestedAt = iso(Date.now());
  try {
    await callHeyGen(run, 'stopHeyGenSession', [state.heygenSessionId], { kind: 'write', deadline: Date.now() + STOP_RETRY_WINDOW_MS, what: 'stopping the session' });
    return true;
  } catch (error) {
    state.heygen.lastError = `stop failed: ${describeFailure(error)}`;
    wf.log.error('HeyGen could not be told to stop', { error: state.heygen.lastError });
    run.touch();
    return false;
  }
}

/**
 * Reads the stopped HeyGen session until it no longer works: HeyGen's stop takes effect at the next
 * checkpoint, and until then the job still counts toward the account's cap, so its slot is not free.
 * Given up (and the slot given back) only after a day of HeyGen not answering.
 */
async function confirmHalted(run: SessionRun): Promise<void> {
  const { state, timing } = run;
  const deadline = Date.now() + STOP_RETRY_WINDOW_MS;
  let wait = Math.min(timing.pollInitial, CONFIRM_FIRST_WAIT_MS);
  try {
    for (;;) {
      const snapshot = await callHeyGen(run, 'getHeyGenSession', [{ sessionId: run.sessionId(), messagesSince: run.cursor }], {
        kind: 'read',
        deadline,
        what: 'confirming the stop',
      });
      state.heygenStatus = snapshot.status;
      if (HALTED_STATUSES.includes(snapshot.status)) return;
      await wf.sleep(wait);
      wait = Math.min(wait * timing.pollBackoff, timing.pollMax, CONFIRM_MAX_WAIT_MS);
    }
  } catch (error) {
    state.heygen.lastError = `stop not confirmed: ${describeFailure(error)}`;
    wf.log.error('HeyGen never read as stopped', { error: state.heygen.lastError });
    run.touch();
  }
}
