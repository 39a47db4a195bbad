/**
 * One of the account's HeyGen job slots, from the governor (src/workflows/governor.ts): asked for before
 * the create (phase `queued` while all are held), held while HeyGen works, given back however the
 * session ends, and, with HEYGEN_HOLD_SLOT_IN_REVIEW=false, while it is parked at a checkpoint.
 */
import * as wf from '@temporalio/workflow';
import { formatDuration } from '../../contract/duration';
import { SESSION_FAILURE } from '../../contract/failures';
import { queuePositionSignal, releaseSlotSignal, slotGrantedSignal, type QueuePosition } from '../../contract/governor';
import { iso, type SessionRun } from './context';
import { keepsEarlyQueuePosition, releaseRevivesGovernor } from './legacy';
import { continueAsNewIfSuggested } from './continue-as-new';
import { notify } from './notifications';
import { refreshDetails } from './phases';
import { SessionEnding, type Step } from './steps';

export function registerSlotHandlers(run: SessionRun): void {
  wf.setHandler(slotGrantedSignal, () => {
    run.slotGranted = true;
  });
  wf.setHandler(queuePositionSignal, (position) => onQueuePosition(run, position));
}

function onQueuePosition(run: SessionRun, { position, queued }: QueuePosition): void {
  const { state } = run;
  if (!state.queue) {
    // The governor answers the request at once, so its first position may come before the request's
    // result: kept for the queue about to begin (it sends a position only when it changes).
    if (state.heygen.slot !== 'held') run.earlyPosition = { position, queued };
    return;
  }
  // Every session passes through `queued` for a moment; only one that really waits is worth a word.
  const firstPosition = state.queue.position === null;
  state.queue.position = position;
  state.queue.queued = queued;
  state.queue.updatedAt = iso(Date.now());
  refreshDetails(run);
  if (firstPosition && state.phase === 'queued') notify(run, 'session.queued');
}

/**
 * Asks the governor for a slot. 'go' when the session may call HeyGen (the slot is held, or no governor
 * is configured), 'wait' when it must wait for the slot ({@link waitForSlot}).
 */
export async function requestSlot(run: SessionRun): Promise<'go' | 'wait'> {
  const { state } = run;
  // A first slot is asked for as of the session's start (FIFO by start, whenever the request arrives);
  // across continue-as-new the place in the queue and its deadline stay as they were.
  const info = wf.workflowInfo();
  const since = state.queue ? Date.parse(state.queue.since) : state.heygen.slot === 'none' ? info.startTime.getTime() : Date.now();
  run.slotRequested = true;
  const ticket = await run.activities.governor.requestHeyGenSlot({ sessionId: info.workflowId, tenant: state.tenant, requestedAt: iso(since) });
  if (!ticket.governed) return 'go';
  run.governorId = ticket.governorId;
  run.holdSlotWhileParked = ticket.holdSlotWhileParked;
  if (run.slotGranted) {
    holdSlot(run);
    return 'go';
  }
  if (state.heygen.slot !== 'waiting') state.heygen.slotSince = iso(since);
  state.heygen.slot = 'waiting';
  if (!state.queue) {
    const early = run.earlyPosition && keepsEarlyQueuePosition() ? run.earlyPosition : undefined;
    state.queue = { account: ticket.account, position: early?.position ?? null, queued: early?.queued ?? null, since: iso(since), updatedAt: early ? iso(Date.now()) : null };
    // Told once the phase is `queued`, as a position that comes later would be.
    run.queuedNoticeDue = early !== undefined;
  }
  run.earlyPosition = undefined;
  return 'wait';
}

/**
 * Waits for the slot asked for, until the queue deadline (then the session expires), asking again every
 * `queueRecheck`: should the governor have vanished, the asking starts a fresh one, which finds this
 * session among the waiting. (Histories from before `queueRecheck` never woke before the deadline, so
 * they replay unchanged: the timer's length is not part of a history's commands.)
 */
export async function waitForSlot(run: SessionRun): Promise<void> {
  const deadline = Date.parse(run.state.queue!.since) + run.timing.maxQueued;
  for (;;) {
    // Position updates add history while a session waits: a long wait continues as new.
    const wait = Math.min(Math.max(deadline - Date.now(), 1), run.timing.queueRecheck);
    await wf.condition(() => run.slotGranted || wf.workflowInfo().continueAsNewSuggested, wait, {
      summary: 'wait for a HeyGen job slot',
    });
    if (run.slotGranted) break;
    if (Date.now() >= deadline) {
      throw new SessionEnding({
        end: 'expired',
        reason: `No HeyGen job slot became free within ${formatDuration(run.timing.maxQueued)}`,
        type: SESSION_FAILURE.queueTimedOut,
      });
    }
    await continueAsNewIfSuggested(run);
    if (!run.slotGranted) await askAgain(run);
  }
  holdSlot(run);
}

/** Asks for the slot once more, as of the same time: a place in the queue is kept, a grant told again. */
async function askAgain(run: SessionRun): Promise<void> {
  const { state } = run;
  const ticket = await run.activities.governor.requestHeyGenSlot({ sessionId: wf.workflowInfo().workflowId, tenant: state.tenant, requestedAt: state.queue!.since });
  if (!ticket.governed) run.slotGranted = true;
  else run.governorId = ticket.governorId;
}

/** Phase `queued`: waits for the slot (asking for it first in a run that has not), then creates. */
export async function queuedStep(run: SessionRun): Promise<Step> {
  if (run.state.heygen.slot === 'held') return 'creating';
  if (!run.slotRequested) {
    if ((await requestSlot(run)) === 'go') return 'creating';
    refreshDetails(run);
  }
  if (run.queuedNoticeDue) {
    run.queuedNoticeDue = false;
    notify(run, 'session.queued');
  }
  await waitForSlot(run);
  return 'creating';
}

/** At a checkpoint whose slot was given back: the slot again before a decision goes to HeyGen. */
export async function slotForDecision(run: SessionRun): Promise<void> {
  if ((await requestSlot(run)) === 'go') return;
  refreshDetails(run);
  await waitForSlot(run);
}

/** Gives the slot (or the place in the queue) back to the governor. */
export async function releaseSlot(run: SessionRun, reason: string): Promise<void> {
  const { heygen } = run.state;
  if (!run.governorId || (heygen.slot !== 'held' && heygen.slot !== 'waiting')) return;
  run.slotGranted = false;
  heygen.slot = 'released';
  heygen.slotSince = iso(Date.now());
  run.state.queue = null;
  const release = { sessionId: wf.workflowInfo().workflowId, reason };
  try {
    await wf.getExternalWorkflowHandle(run.governorId).signal(releaseSlotSignal, release);
  } catch (error) {
    // No governor runs (an operator ended it): it holds no slot of ours, but sessions it queued still wait.
    // A fresh one rebuilds its holders and queue from the sessions and serves them.
    wf.log.warn('the governor could not be told of a released slot; starting a fresh one', { error: String(error) });
    if (releaseRevivesGovernor()) await run.activities.governor.releaseHeyGenSlot(release);
  }
}

function holdSlot(run: SessionRun): void {
  const { state } = run;
  run.earlyPosition = undefined;
  run.queuedNoticeDue = false;
  state.heygen.slot = 'held';
  state.heygen.slotSince = iso(Date.now());
  state.queue = null;
  refreshDetails(run);
}
