/**
 * Follows a webhook cut short. A follow is cancelled WAIT_CANCELLATION_COMPLETED:
 * its promise settles once the activity has stopped (it learns of the cancellation at its next
 * heartbeat). The step that cancelled it goes on at once; the run ends (or continues as new) only once
 * each has stopped, so that no closed run keeps an activity pending (CANCEL_REQUESTED) for good.
 */
import * as wf from '@temporalio/workflow';
import type { SessionRun } from './context';
import { awaitsCancelledFollows } from './legacy';

export function trackUntilStopped(run: SessionRun, follow: Promise<unknown>): void {
  const stopped: Promise<void> = follow.then(
    () => undefined,
    () => undefined,
  );
  run.cancellingFollows.add(stopped);
  void stopped.then(() => run.cancellingFollows.delete(stopped));
}

/**
 * Before a run ends or continues as new: waits until every follow it cancelled has stopped. Bounded by
 * the follows' heartbeat timeout, should their worker be gone.
 */
export async function followsStopped(run: SessionRun): Promise<void> {
  if (run.cancellingFollows.size === 0 || !awaitsCancelledFollows()) return;
  await wf.CancellationScope.nonCancellable(() => Promise.all([...run.cancellingFollows]));
}
