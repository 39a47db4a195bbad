/**
 * `videoAgentSession`: one HeyGen Video Agent session, start to finish, durably.
 *
 * queued (wait for one of the account's HeyGen job slots, from the governor) → creating → (thinking |
 * generating: follow HeyGen through activities, cut short by a `heygenEvent` signal) → (reviewing |
 * waiting_for_input: build a review packet, then wait, without polling, for `approve` / `sendMessage`
 * or the review deadline) → ... → finalizing (read the video) → archiving → completed. The phases a
 * session may go through are declared in transitions.ts; docs/session-workflow.md maps the modules.
 *
 * HeyGen's bad days are waited out: a call that keeps failing is retried without an attempt cap until
 * the deadline of the phase it serves, and the state says HeyGen is unreachable meanwhile. Every ending
 * is true: `failed`, `stopped` or `expired` with a typed error, the search attribute in step, HeyGen
 * told to stop whatever may still run, and the slot given back.
 *
 * Signals are idempotent by `requestId` and only act at a checkpoint; a decision that arrives while
 * another is applied waits its turn and is then applied or ignored with the reason, never left pending.
 * Every HeyGen write carries an Idempotency-Key derived from this execution.
 */
import * as wf from '@temporalio/workflow';
import { SESSION_FAILURE } from '../../contract/failures';
import { checkSessionInput, describeProblems, resolveTiming } from '../../contract/session-checks';
import { stateQuery, type SessionInput, type SessionResult } from '../../contract/session';
import { SessionRun, type CarriedState } from './context';
import { registerDecisionHandlers } from './decisions';
import { registerArchiveHandlers } from './finalize';
import { registerFollowHandlers } from './follow';
import { registerReviewLinkHandlers } from './review-links';
import { resumeDeliveries } from './notifications';
import { runSession } from './run';
import { registerSlotHandlers } from './slot';
import { whenVersioned } from '../versioning';

export type { CarriedState } from './context';
export { DEFAULT_APPROVAL_MESSAGE } from './decisions';
export { failureReason } from './failures';

/** The session workflow. `carried` is internal: the state one run hands to the next. */
export async function videoAgentSession(input: SessionInput, carried?: CarriedState): Promise<SessionResult> {
  const parsed = checkSessionInput(input);
  if (!parsed.ok) throw wf.ApplicationFailure.nonRetryable(`invalid session input: ${describeProblems(parsed.problems)}`, SESSION_FAILURE.invalidInput);
  const run = new SessionRun(input, parsed.value, resolveTiming(parsed.value.timing), carried);
  resumeDeliveries(run);
  wf.setHandler(stateQuery, () => run.state);
  registerDecisionHandlers(run);
  registerArchiveHandlers(run);
  registerFollowHandlers(run);
  registerSlotHandlers(run);
  registerReviewLinkHandlers(run);
  return runSession(run);
}

// A session stays on the build that started it, parked or not: a new build never replays its history.
// Continue-as-new is its one move to the current build (continue-as-new.ts).
wf.setWorkflowOptions(whenVersioned('PINNED'), videoAgentSession);
