/**
 * The run loop: each phase has a step that does the phase's work and returns the next phase (its own to
 * stay) or how the session ends; the loop makes every phase change, checked against the transition
 * table, and turns every ending, cancellation and unexpected error into a true final state.
 */
import * as wf from '@temporalio/workflow';
import { SESSION_FAILURE } from '../../contract/failures';
import { CHECKPOINT_PHASES, type Phase, type SessionResult } from '../../contract/session';
import { checkpointStep } from './checkpoint';
import type { SessionRun } from './context';
import { createStep } from './create';
import { endFailedWithError, endStopped, endWith } from './endings';
import { archiveFailedStep, archiveStep, finalizeStep } from './finalize';
import { followStep } from './follow';
import { resumeImageLoads } from './images';
import { announce, enterPhase } from './phases';
import { queuedStep, releaseSlot } from './slot';
import { isEnding, SessionEnding, type Ending, type Step } from './steps';

const STEPS: Partial<Record<Phase, (run: SessionRun) => Promise<Step>>> = {
  queued: queuedStep,
  creating: createStep,
  thinking: followStep,
  generating: followStep,
  reviewing: checkpointStep,
  waiting_for_input: checkpointStep,
  finalizing: finalizeStep,
  archiving: archiveStep,
  archive_failed: archiveFailedStep,
};

export async function runSession(run: SessionRun): Promise<SessionResult> {
  if (run.state.runs === 1) announce(run);
  resumeImageLoads(run);
  let ending: Ending;
  try {
    ending = await runPhases(run);
    if (ending.end === 'completed' || ending.end === 'archive_failed') return await endWith(run, ending);
  } catch (error) {
    if (error instanceof wf.ContinueAsNew) throw error;
    if (wf.isCancellation(error)) {
      await wf.CancellationScope.nonCancellable(() => endStopped(run));
      throw error;
    }
    if (!(error instanceof SessionEnding)) throw await wf.CancellationScope.nonCancellable(() => endFailedWithError(run, error));
    ending = error.ending;
  }
  return endWith(run, ending);
}

async function runPhases(run: SessionRun): Promise<Ending> {
  for (;;) {
    const { phase } = run.state;
    const step = STEPS[phase];
    if (!step) throw wf.ApplicationFailure.nonRetryable(`session in unexpected phase ${phase}`, SESSION_FAILURE.internal);
    const next = await step(run);
    if (isEnding(next)) return next;
    if (next === phase) continue;
    enterPhase(run, next);
    // With HEYGEN_HOLD_SLOT_IN_REVIEW=false a session parked for people gives its HeyGen slot back.
    if (CHECKPOINT_PHASES.includes(next) && !run.holdSlotWhileParked) await releaseSlot(run, 'parked at a checkpoint');
  }
}
