/**
 * The old shapes: how sessions started by earlier builds did things, kept so that their histories
 * replay. Each is behind the patch that introduced its successor (src/contract/workflow-shapes.ts lists
 * them, `npm run sessions:legacy` counts the sessions that still need each, and the README's
 * "Retiring an old shape" says when one moves to `deprecatePatch` and when it goes, with its fixtures).
 * Nothing else in the session calls `wf.patched`.
 */
import * as wf from '@temporalio/workflow';
import type { SessionSnapshot } from '../../activities';
import type { ReviewPacket } from '../../contract/session';
import { GOVERNOR_SHAPES, WORKFLOW_SHAPES } from '../../contract/workflow-shapes';
import type { SessionRun } from './context';
import { continueAsNewIfSuggested } from './continue-as-new';
import { describeFailure, isTransient } from './failures';
import { callHeyGen } from './heygen-calls';
import { fillResource, loadImageLater, pendingResource } from './images';
import type { Step } from './steps';

/** Since `follow-in-activity`: HeyGen is followed by one activity per stretch, not one read and one timer per poll. */
export function followsInActivity(): boolean {
  return wf.patched(WORKFLOW_SHAPES.followInActivity.patchId);
}

/** Since `resources-in-one-activity`: a checkpoint's images are read in one activity, not one each. */
export function resourcesInOneActivity(): boolean {
  return wf.patched(WORKFLOW_SHAPES.resourcesInOneActivity.patchId);
}

/** Since `archive-media`: a session archives its video before it completes. */
export function archivesBeforeCompleting(): boolean {
  return wf.patched(WORKFLOW_SHAPES.archiveMedia.patchId);
}

/**
 * Since `queue-position-kept`: a queue position that came before the slot request returned is kept (and
 * `session.queued` sent for it). Asked only when such a position came, so other histories get no marker;
 * the old shape dropped it, and so notified the next position instead.
 */
export function keepsEarlyQueuePosition(): boolean {
  return wf.patched(WORKFLOW_SHAPES.queuePositionKept.patchId);
}

/**
 * Since `video-webhook-kept`: a webhook that came with a read of the finished video (or while the session
 * acted on it) makes the next read come at once. Asked only when such a webhook came, so other histories
 * get no marker; the old shape dropped it and waited out `videoPollInterval`.
 */
export function keepsWebhookAtVideoRead(): boolean {
  return wf.patched(WORKFLOW_SHAPES.videoWebhookKept.patchId);
}

/**
 * Since `notify-in-order`: notifications go one at a time, in sequence order, on their own task queue, and
 * stop when the session ends. Asked only by sessions that notify, at their first notification (or when a
 * run resumes the previous run's deliveries); the old shape retried each on its own for its whole window.
 */
export function notifiesInOrder(): boolean {
  return wf.patched(WORKFLOW_SHAPES.notifyInOrder.patchId);
}

/**
 * Since `follow-cancel-awaited`: a run ends (or continues as new) only once the follows it cancelled have
 * stopped. Asked only when one is still being cancelled at the end; the old shape ended at once, and its
 * closed run kept the follow pending for good.
 */
export function awaitsCancelledFollows(): boolean {
  return wf.patched(WORKFLOW_SHAPES.followCancelAwaited.patchId);
}

/**
 * Since `release-revives-governor`: a slot given back to a governor that no longer runs starts a fresh one,
 * which rebuilds its holders and queue from the sessions. Asked only when the release signal failed.
 */
export function releaseRevivesGovernor(): boolean {
  return wf.patched(WORKFLOW_SHAPES.releaseRevivesGovernor.patchId);
}

/**
 * Since `stop-confirmed-before-release`: an ending that stopped HeyGen reads the session until it is
 * halted before it gives the slot back. Asked once HeyGen took the stop.
 */
export function confirmsStopBeforeRelease(): boolean {
  return wf.patched(WORKFLOW_SHAPES.stopConfirmedBeforeRelease.patchId);
}

/**
 * Since `create-stopped-while-refused`: a stop cancels a create between its attempts. Asked only when
 * the session is cancelled while it creates.
 */
export function stopsWaitingCreate(): boolean {
  return wf.patched(WORKFLOW_SHAPES.createStoppedWhileRefused.patchId);
}

/**
 * The governor's (src/workflows/governor.ts), since `governor-rebuilds-on-fresh-start`: a governor that
 * starts afresh rebuilds its holders and queue from the sessions before it grants. Asked once, at the
 * start of a fresh run.
 */
export function governorRebuildsOnFreshStart(): boolean {
  return wf.patched(GOVERNOR_SHAPES.rebuildOnFreshStart.patchId);
}

/** What the follow step lends the old loop: how a read is taken in and acted on, and the phase's deadline. */
export interface FollowHooks {
  /** Folds a read into the state; true when HeyGen replied to our last message. */
  absorb: (snapshot: SessionSnapshot) => boolean;
  /** The next step once following is over or the phase changed; null to go on. */
  settle: (snapshot: SessionSnapshot, replied: boolean) => Promise<Step | null>;
  phaseDeadline: () => number;
  timedOut: () => Step;
}

/**
 * Before `follow-in-activity`: one read activity per poll, a durable timer between. Called with the
 * phase's time left (taken before the continue-as-new check) after a change of phase, it goes on where
 * its loop stood then: with the wait before the next read.
 */
export async function followWithTimers(run: SessionRun, remainingAtResume: number | null, hooks: FollowHooks): Promise<Step> {
  const { timing, state } = run;
  let interval = timing.pollInitial;
  let lastStatus = state.heygenStatus;
  let remaining = remainingAtResume;
  for (;;) {
    if (remaining !== null) {
      run.poked = false;
      const wait = state.phase === 'generating' && run.callsBack ? Math.max(interval, timing.pollWhileCalledBack) : interval;
      await wf.condition(() => run.poked, Math.min(wait, remaining), { summary: 'wait for the next HeyGen status read' });
      interval = Math.min(interval * timing.pollBackoff, timing.pollMax);
    }
    const snapshot = await callHeyGen(run, 'getHeyGenSession', [{ sessionId: run.sessionId(), messagesSince: run.cursor }], {
      kind: 'read',
      deadline: hooks.phaseDeadline(),
      what: state.phase === 'generating' ? 'following the render' : 'following the agent',
    });
    const replied = hooks.absorb(snapshot);
    if (snapshot.status !== lastStatus) interval = timing.pollInitial;
    lastStatus = snapshot.status;
    const next = await hooks.settle(snapshot, replied);
    if (next !== null) return next;
    remaining = hooks.phaseDeadline() - Date.now();
    if (remaining <= 0) return hooks.timedOut();
    await continueAsNewIfSuggested(run);
  }
}

/** Before `resources-in-one-activity`: each image read on its own. */
export async function readResourcesOneByOne(run: SessionRun, packet: ReviewPacket, resourceIds: string[]): Promise<void> {
  const reads = await Promise.allSettled(resourceIds.map((resourceId) => run.activities.quickReads.getHeyGenResource({ sessionId: run.sessionId(), resourceId })));
  reads.forEach((read, index) => {
    if (read.status === 'fulfilled') return fillResource(run, packet, read.value);
    const resourceId = resourceIds[index]!;
    if (isTransient(read.reason)) {
      fillResource(run, packet, pendingResource(resourceId, 'loading', `HeyGen did not answer yet (${describeFailure(read.reason)}); retrying`));
      loadImageLater(run, packet, resourceId);
    } else {
      fillResource(run, packet, pendingResource(resourceId, 'unavailable', describeFailure(read.reason)));
    }
  });
}
