/**
 * Decisions: `approve` and `sendMessage` signals, idempotent by `requestId` and acted on only at a
 * checkpoint, and the `decisionOutcome` update that answers what became of one. Every decision is
 * recorded as an action and settled (applied, ignored, failed), never left pending.
 */
import * as wf from '@temporalio/workflow';
import { checkApproveSignal, checkDecisionOutcomeInput, checkSendMessageSignal, describeProblems } from '../../contract/session-checks';
import {
  approveSignal,
  decisionOutcomeUpdate,
  sendMessageSignal,
  CHECKPOINT_PHASES,
  REQUEST_ID_MAX,
  type Action,
  type ApproveSignal,
  type DecisionOutcome,
  type SendMessageSignal,
} from '../../contract/session';
import { iso, type Decision, type SessionRun } from './context';

/** What an approval says to HeyGen when the reviewer gives no text of their own. */
export const DEFAULT_APPROVAL_MESSAGE = 'Approved. Please go ahead and generate the video.';

const MAX_ACTIONS = 200;

export function registerDecisionHandlers(run: SessionRun): void {
  wf.setHandler(approveSignal, (raw) => onDecision(run, 'approve', raw));
  wf.setHandler(sendMessageSignal, (raw) => onDecision(run, 'message', raw));
  wf.setHandler(decisionOutcomeUpdate, ({ requestId }) => decisionOutcome(run, requestId), {
    validator: (input) => {
      const checked = checkDecisionOutcomeInput(input);
      if (!checked.ok) throw new Error(`invalid decisionOutcome input: ${describeProblems(checked.problems)}`);
    },
  });
}

function onDecision(run: SessionRun, kind: 'approve' | 'message', raw: unknown): void {
  const parsed = kind === 'approve' ? checkApproveSignal(raw) : checkSendMessageSignal(raw);
  // Even a malformed signal is recorded under its request id, so whoever sent it can learn the outcome.
  const rawRequestId = (raw as { requestId?: unknown } | undefined)?.requestId;
  const requestId = parsed.ok ? (parsed.value.requestId ?? null) : typeof rawRequestId === 'string' ? rawRequestId.slice(0, REQUEST_ID_MAX) : null;
  const by = parsed.ok ? (parsed.value.by ?? null) : null;
  if (requestId !== null && run.seenRequestIds.has(requestId)) return; // a repeat: nothing to do
  if (requestId !== null) run.seenRequestIds.add(requestId);
  const action = recordAction(run, kind, requestId, by, 'pending', null);
  if (!parsed.ok) return settle(run, action, 'ignored', `invalid ${kind} signal: ${describeProblems(parsed.problems)}`);
  if (!CHECKPOINT_PHASES.includes(run.state.phase)) {
    return settle(run, action, 'ignored', `not awaiting input (phase ${run.state.phase})`);
  }
  const decision: Decision = { kind, message: DEFAULT_APPROVAL_MESSAGE, autoProceed: kind === 'approve', requestId, by, action };
  if (kind === 'approve') {
    decision.message = (parsed.value as ApproveSignal).message ?? DEFAULT_APPROVAL_MESSAGE;
  } else {
    const { message, avatarId, voiceId, files } = parsed.value as SendMessageSignal;
    Object.assign(decision, { message, avatarId, voiceId, files });
  }
  if (run.applying) action.reason = `waiting: the ${run.applying.kind} by ${run.applying.by ?? 'system'} is being sent to HeyGen first`;
  run.decisions.push(decision);
}

/**
 * Resolves once the decision with this request id has an outcome. Every recorded decision is settled
 * (applied, ignored, failed; the endings settle what still waits), so this never waits past it. A
 * request id with no action (never signalled, or long gone from the log) is answered at once: waiting
 * for a signal that may never come would hold up continue-as-new, which waits for every handler.
 */
async function decisionOutcome(run: SessionRun, requestId: string): Promise<DecisionOutcome> {
  const action = () => run.state.actions.find((a) => a.requestId === requestId);
  await wf.condition(() => action()?.outcome !== 'pending');
  return { action: action() ?? null, state: run.state };
}

export function recordAction(run: SessionRun, kind: Action['kind'], requestId: string | null, by: string | null, outcome: Action['outcome'], reason: string | null): Action {
  const { state } = run;
  const action: Action = { at: iso(Date.now()), kind, requestId, by, outcome, reason, phase: state.phase };
  run.actionCount++;
  state.actions.push(action);
  if (state.actions.length > MAX_ACTIONS) state.actions.splice(0, state.actions.length - MAX_ACTIONS);
  run.touch();
  return action;
}

/** A decision the session takes itself (autoApprove, a re-approval, the review deadline's policy). */
export function systemDecision(run: SessionRun, kind: Action['kind'], reason: string): Decision {
  const action = recordAction(run, kind, null, 'system', 'pending', reason);
  return { kind, message: DEFAULT_APPROVAL_MESSAGE, autoProceed: true, requestId: null, by: 'system', action };
}

export function settle(run: SessionRun, action: Action, outcome: Action['outcome'], reason?: string): void {
  action.outcome = outcome;
  if (reason !== undefined) action.reason = reason;
  run.touch();
  if (outcome === 'ignored') wf.log.info('signal recorded without effect', { kind: action.kind, reason });
}

/** Decisions still waiting when the checkpoint is over (or the session ends) are settled, never left pending. */
export function settleWaitingDecisions(run: SessionRun, reason: string): void {
  for (const decision of run.decisions.splice(0)) settle(run, decision.action, 'ignored', reason);
}
