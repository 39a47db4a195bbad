/**
 * A checkpoint (phases `reviewing` and `waiting_for_input`): the review packet is presented and the
 * session waits, without polling, for a decision (a person's, an automatic one, or the deadline's), then
 * sends it to HeyGen once. A decision HeyGen refuses leaves the checkpoint standing.
 */
import * as wf from '@temporalio/workflow';
import { SESSION_FAILURE } from '../../contract/failures';
import type { ReviewWaitDecision } from '../../contract/metrics';
import type { Phase } from '../../contract/session';
import { recordReviewWait } from '../metrics';
import type { Decision, SessionRun } from './context';
import { continueAsNewIfSuggested } from './continue-as-new';
import { recordAction, settle, settleWaitingDecisions, systemDecision } from './decisions';
import { describeFailure, isRejection } from './failures';
import { callHeyGen } from './heygen-calls';
import { stopImageLoads } from './images';
import { slotForDecision } from './slot';
import { expired, type Step } from './steps';

/** autoApprove decides at most this many checkpoints; a confused agent then needs a person. */
const AUTO_APPROVE_LIMIT = 5;
/** Storyboards kept for comparison once the session has moved past them. */
const MAX_EARLIER_STORYBOARDS = 10;

export async function checkpointStep(run: SessionRun): Promise<Step> {
  const { state, input } = run;
  const review = state.review!;
  /** What ended the wait for a reviewer (null: the session decided by itself, nobody was waited for). */
  let waitEnded: ReviewWaitDecision | null = null;
  let decision = run.decisions.shift();
  if (decision) waitEnded = reviewerDecision(decision);
  decision ??= automaticDecision(run);
  if (!decision) {
    const remaining = Date.parse(review.deadline) - Date.now();
    await wf.condition(() => run.decisions.length > 0 || wf.workflowInfo().continueAsNewSuggested, Math.max(remaining, 1), {
      summary: 'wait for a reviewer',
    });
    decision = run.decisions.shift();
    if (decision) waitEnded = reviewerDecision(decision);
    if (!decision) {
      if (Date.parse(review.deadline) > Date.now()) {
        await continueAsNewIfSuggested(run);
        return state.phase;
      }
      if (input.review.onTimeout === 'stop') {
        recordAction(run, 'review_timeout', null, 'system', 'applied', `no decision by ${review.deadline}; session stopped`);
        recordReviewWait(review.kind, 'timeout', Date.now() - Date.parse(review.since));
        return expired(`No review decision before the deadline (${review.deadline})`, SESSION_FAILURE.reviewDeadlinePassed);
      }
      decision = systemDecision(run, 'review_timeout', `no decision by ${review.deadline}; approved by policy`);
      waitEnded = 'timeout';
    }
  }
  const next = await apply(run, decision);
  // The wait is over once the decision reached HeyGen; one HeyGen refused leaves the checkpoint standing.
  if (waitEnded && state.review === null) {
    const endedAt = waitEnded === 'timeout' ? Date.now() : Date.parse(decision.action.at);
    recordReviewWait(review.kind, waitEnded, endedAt - Date.parse(review.since));
  }
  return next;
}

/** A person's decision as the review wait's metric names it. */
function reviewerDecision(decision: Decision): ReviewWaitDecision {
  return decision.kind === 'approve' ? 'approve' : 'message';
}

function automaticDecision(run: SessionRun): Decision | undefined {
  if (run.input.autoApprove) {
    if (run.autoApprovals >= AUTO_APPROVE_LIMIT) return undefined;
    run.autoApprovals++;
    return systemDecision(run, 'approve', 'autoApprove');
  }
  if (run.state.phase === 'reviewing' && run.lastSentWasApproval && run.reapprovals < run.timing.maxReapprovals) {
    // We approved, and HeyGen came back with a storyboard: it read the approval as feedback.
    run.reapprovals++;
    return systemDecision(run, 'reapprove', 'HeyGen answered the approval with a new storyboard; approving again');
  }
  return undefined;
}

/**
 * Sends a decision to HeyGen (once: its key is derived from the request id). The next phase: HeyGen's
 * work on it, or the checkpoint again when HeyGen refused it.
 */
async function apply(run: SessionRun, decision: Decision): Promise<Phase> {
  const { state } = run;
  const key = decision.requestId ?? `action-${run.actionCount}-${decision.kind}`;
  run.applying = decision;
  try {
    if (state.heygen.slot === 'released') await slotForDecision(run); // given back while parked (HEYGEN_HOLD_SLOT_IN_REVIEW=false)
    await callHeyGen(
      run,
      'sendHeyGenMessage',
      [
        {
          sessionId: run.sessionId(),
          message: decision.message,
          autoProceed: decision.autoProceed,
          avatarId: decision.avatarId,
          voiceId: decision.voiceId,
          files: decision.files,
          idempotencyKey: run.idempotencyKey(`message:${key}`),
        },
      ],
      { kind: 'write', deadline: Date.now() + run.timing.maxThinking, what: `sending the ${decision.kind}` },
    );
  } catch (error) {
    run.applying = undefined;
    if (isRejection(error)) {
      // HeyGen refused this message (e.g. it is busy): the checkpoint stands; the next decision may follow.
      settle(run, decision.action, 'failed', (error as wf.ActivityFailure).cause!.message);
      return state.phase;
    }
    settle(run, decision.action, 'failed', describeFailure(error));
    throw error;
  }
  run.applying = undefined;
  stopImageLoads(run);
  settle(run, decision.action, 'applied');
  settleWaitingDecisions(run, `superseded: the ${decision.kind} by ${decision.by ?? 'system'} was applied first and the session left the checkpoint`);
  run.lastSentWasApproval = decision.autoProceed;
  run.awaitingReplyAfterSeq = run.nextSeq - 1;
  keepEarlierStoryboard(run);
  state.review = null;
  return decision.autoProceed ? 'generating' : 'thinking';
}

/** The storyboard being left stays in view beside the ones that follow. */
function keepEarlierStoryboard(run: SessionRun): void {
  const packet = run.state.review;
  if (packet?.kind !== 'storyboard') return;
  const { revision, resources, since } = packet;
  const earlier = run.state.earlierStoryboards;
  earlier.push({ revision, resources, since });
  if (earlier.length > MAX_EARLIER_STORYBOARDS) earlier.shift();
}
