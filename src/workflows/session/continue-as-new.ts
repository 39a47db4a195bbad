/**
 * Continue-as-new: a session whose history grew long hands its state to a fresh run, at a point where
 * nothing is in flight but background deliveries and image reads (which the next run resumes).
 */
import * as wf from '@temporalio/workflow';
import type { SessionInput, SessionResult } from '../../contract/session';
import { followsStopped } from './cancelled-follows';
import type { CarriedState, SessionRun } from './context';

type SessionWorkflow = (input: SessionInput, carried?: CarriedState) => Promise<SessionResult>;

export async function continueAsNewIfSuggested(run: SessionRun): Promise<void> {
  if (!wf.workflowInfo().continueAsNewSuggested) return;
  await wf.condition(wf.allHandlersFinished);
  await followsStopped(run);
  if (run.decisions.length) return; // a decision arrived meanwhile: apply it in this run
  const carried = run.carry();
  wf.log.info('continuing as new', { historyLength: wf.workflowInfo().historyLength, runs: run.state.runs });
  // The next run starts on the deployment's current build (where the server supports it: Temporal 1.32
  // does; 1.29 keeps the run on this build), so a long session moves to new code at a point where only
  // its carried state crosses over: CarriedState is a contract between builds.
  await wf.makeContinueAsNewFunc<SessionWorkflow>({ initialVersioningBehavior: 'AUTO_UPGRADE' })(run.rawInput, carried);
}

