/**
 * The one place a session's phase changes: checked against the transition table, recorded in the
 * state's phase history, the search attribute, the phase metric and the status line, and told to the
 * caller when the phase is worth a notification.
 */
import * as wf from '@temporalio/workflow';
import { SESSION_FAILURE } from '../../contract/failures';
import { VideoAgentRequestedBy, VideoAgentStatus, VideoAgentTenant } from '../../contract/search-attributes';
import type { NotifyEvent, Phase } from '../../contract/session';
import { countPhaseEntry } from '../metrics';
import { iso, type SessionRun } from './context';
import { notify } from './notifications';
import { statusLine } from './status-line';
import { isAllowedTransition } from './transitions';

/** Phase changes kept in the state, for live streams that read it now and then. */
const MAX_PHASE_HISTORY = 30;

/** Which phases are worth telling the caller about, as which event (`session.queued`: when a wait has a position). */
const EVENT_OF_PHASE: Partial<Record<Phase, NotifyEvent>> = {
  reviewing: 'session.awaiting_review',
  waiting_for_input: 'session.awaiting_answer',
  completed: 'session.completed',
  failed: 'session.failed',
  stopped: 'session.stopped',
  expired: 'session.expired',
  archive_failed: 'session.archive_failed',
};

/** Moves the session to `phase`, which the transition table must allow from where it is. */
export function enterPhase(run: SessionRun, phase: Phase): void {
  const { state } = run;
  if (phase === state.phase) return refreshDetails(run);
  if (!isAllowedTransition(state.phase, phase)) {
    throw wf.ApplicationFailure.nonRetryable(`a session cannot go from ${state.phase} to ${phase}`, SESSION_FAILURE.internal);
  }
  state.phase = phase;
  state.phaseSince = iso(Date.now());
  const history = state.phaseHistory;
  history.push({ seq: (history.at(-1)?.seq ?? 0) + 1, phase, at: state.phaseSince });
  if (history.length > MAX_PHASE_HISTORY) history.splice(0, history.length - MAX_PHASE_HISTORY);
  run.touch();
  wf.upsertSearchAttributes([{ key: VideoAgentStatus, value: phase }]);
  countPhaseEntry(phase);
  wf.setCurrentDetails(statusLine(state));
  logMilestone(run, phase);
  const event = EVENT_OF_PHASE[phase];
  if (event) notify(run, event);
}

/** The state changed within its phase: the status line follows. */
export function refreshDetails(run: SessionRun): void {
  run.touch();
  wf.setCurrentDetails(statusLine(run.state));
}

/** First run only: the static facts operators search and read. */
export function announce(run: SessionRun): void {
  const { input, state } = run;
  const attributes: Parameters<typeof wf.upsertSearchAttributes>[0] = [{ key: VideoAgentStatus, value: state.phase }];
  if (input.requestedBy) attributes.push({ key: VideoAgentRequestedBy, value: input.requestedBy });
  if (input.tenant) attributes.push({ key: VideoAgentTenant, value: input.tenant });
  wf.upsertSearchAttributes(attributes);
  wf.upsertMemo({ promptSummary: state.promptSummary });
  wf.setCurrentDetails(statusLine(state));
  countPhaseEntry(state.phase);
}

/** The moments an operator looks for in the log (ids and numbers only: no prompt, no credential). */
function logMilestone(run: SessionRun, phase: Phase): void {
  const { state } = run;
  if (phase === 'reviewing') wf.log.info('storyboard ready for review', { revision: state.review?.revision ?? state.revisions + 1, deadline: state.review?.deadline });
  else if (phase === 'waiting_for_input') wf.log.info('question from the agent awaiting an answer', { deadline: state.review?.deadline });
  else if (phase === 'completed') wf.log.info('session completed', { videoId: state.video?.videoId ?? null, archived: state.archive?.status ?? null, revisions: state.revisions });
}
