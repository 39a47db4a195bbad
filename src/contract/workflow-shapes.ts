/**
 * The old shapes of the session workflow still in its code, each behind the patch that introduced its
 * successor: what the old shape did, how a history shows it, and its replay fixtures. The workflow
 * (src/workflows/session/legacy.ts) takes the patch ids from here; `npm run sessions:legacy` counts the
 * sessions that still need each shape; the README's "Retiring an old shape" says what to do with one
 * nobody needs any more.
 */

/**
 * What a run that took an old shape leaves in its history, besides the patch's marker missing:
 * - `activity`: it scheduled an activity only the old shape schedules;
 * - `signal-during-activity`: the patch is asked only when this signal comes while this activity runs
 *   (or before the workflow acted on its result), so such a signal without the marker is the old shape;
 * - `at-completion`: the patch is asked at the run's last step, so an open run has not taken either shape;
 * - `cancel-during-activity`: the patch is asked when the workflow is cancelled while this activity runs,
 *   so such a cancellation without the marker is the old shape;
 * - `failed-signal`: the patch is asked when this signal to another workflow fails, so such a failure
 *   without the marker is the old shape.
 */
export type OldShapeEvidence =
  | { kind: 'activity'; activity: string }
  | { kind: 'failed-signal'; signal: string }
  | { kind: 'cancel-during-activity'; activity: string }
  | { kind: 'signal-during-activity'; signal: string; activity: string }
  | { kind: 'at-completion' };

export interface WorkflowShape {
  /** The id given to `patched()`: recorded as a marker in the history of every run that took the new path. */
  patchId: string;
  /** What runs without the marker did. */
  oldShape: string;
  /** What runs with it do. */
  newShape: string;
  /** How a history shows that its run took the old shape (and so needs the old code to replay). */
  oldShapeEvidence: OldShapeEvidence;
  /** The build that introduced the patch (commit). */
  since: string;
  /** Replay fixtures recorded by the old shape, removed with it (test/fixtures/histories/...). */
  fixtures: string;
}

export const WORKFLOW_SHAPES = {
  followInActivity: {
    patchId: 'follow-in-activity',
    oldShape: 'one status read activity and one durable timer per poll',
    newShape: 'one follow activity per stretch of HeyGen working',
    oldShapeEvidence: { kind: 'activity', activity: 'getHeyGenSession' },
    since: '2026-11 (issue 12)',
    fixtures: 'polled-with-timers/',
  },
  resourcesInOneActivity: {
    patchId: 'resources-in-one-activity',
    oldShape: "one activity per storyboard image at a checkpoint",
    newShape: "one activity for all of a checkpoint's images",
    oldShapeEvidence: { kind: 'activity', activity: 'getHeyGenResource' },
    since: '2026-11 (issue 12)',
    fixtures: 'polled-with-timers/ (the sessions with images)',
  },
  archiveMedia: {
    patchId: 'archive-media',
    oldShape: 'completes right after reading the finished video',
    newShape: "archives the video's files before completing (phase archiving)",
    oldShapeEvidence: { kind: 'at-completion' },
    since: '2026-11 (issue 13)',
    fixtures: 'polled-with-timers/ and every session fixture recorded before issue 13',
  },
  queuePositionKept: {
    patchId: 'queue-position-kept',
    oldShape: 'a queue position that came before the slot request returned was dropped (session.queued waited for the next one)',
    newShape: 'the position is kept, shown, and session.queued sent once the phase is queued',
    oldShapeEvidence: { kind: 'signal-during-activity', signal: 'queuePosition', activity: 'requestHeyGenSlot' },
    since: '2026-12 (issue 21)',
    fixtures: 'session-queue-position-dropped.json (recorded on the time-skipping server by test/fast/queue-position.test.ts)',
  },
  videoWebhookKept: {
    patchId: 'video-webhook-kept',
    oldShape: 'a heygenEvent webhook that came with a read of the finished video was dropped: the next read waited out videoPollInterval',
    newShape: 'the webhook is kept: the next read of the video comes at once',
    oldShapeEvidence: { kind: 'signal-during-activity', signal: 'heygenEvent', activity: 'getHeyGenVideo' },
    since: '2026-12 (issue 21)',
    fixtures: 'session-video-webhook-dropped.json (recorded on the time-skipping server by test/fast/webhook-race.test.ts)',
  },
  notifyInOrder: {
    patchId: 'notify-in-order',
    oldShape: "each notification retried on its own, on the sessions' task queue, for notifyRetryWindow even after the session ended",
    newShape: 'one notification at a time in sequence order on the notifications task queue; an older one is superseded once a newer one waits, and retries stop when the session ends (its last event gets an hour)',
    oldShapeEvidence: { kind: 'activity', activity: 'deliverNotification' },
    since: '2026-12 (issue 22)',
    fixtures: 'session-notified-unordered.json, session-notify-retried-unordered.json and polled-with-timers/session-notify-retried.json',
  },
  followCancelAwaited: {
    patchId: 'follow-cancel-awaited',
    oldShape: 'a run ended (or continued as new) while a follow a webhook cut short was still being cancelled: the closed run kept it as a pending activity (CANCEL_REQUESTED in the Web UI)',
    newShape: 'a run ends only once every follow it cancelled has stopped',
    oldShapeEvidence: { kind: 'at-completion' },
    since: '2026-12 (issue 22)',
    fixtures: 'session-follow-cancel-abandoned.json (recorded by test/api/webhooks.test.ts)',
  },
  releaseRevivesGovernor: {
    patchId: 'release-revives-governor',
    oldShape: 'a slot given back to a governor that no longer ran (an operator terminated it) was only logged: sessions queued at that governor waited until maxQueued',
    newShape: 'the release starts a fresh governor (activity releaseHeyGenSlot), which rebuilds its holders and queue from the sessions',
    oldShapeEvidence: { kind: 'failed-signal', signal: 'releaseSlot' },
    since: '2026-12 (issue 22)',
    fixtures: 'none recorded: no fixture had a governor terminated under it',
  },
  stopConfirmedBeforeRelease: {
    patchId: 'stop-confirmed-before-release',
    oldShape: 'an ending gave the slot back right after HeyGen took the stop, while HeyGen still counted the job until its next checkpoint',
    newShape: 'the ending reads the HeyGen session (getHeyGenSession) until it is halted or ended, then gives the slot back',
    oldShapeEvidence: { kind: 'activity', activity: 'stopHeyGenSession' },
    since: '2026-12 (issue 22)',
    fixtures: 'session-deadline-stop.json, session-cancel-review.json and every fixture that stopped HeyGen before issue 22',
  },
  createStoppedWhileRefused: {
    patchId: 'create-stopped-while-refused',
    oldShape: 'a stop during the create waited for the create to succeed (retried on 429 until maxQueued)',
    newShape: 'a stop cancels the create between attempts (an attempt under way finishes, and a session it made is stopped)',
    oldShapeEvidence: { kind: 'cancel-during-activity', activity: 'createHeyGenSession' },
    since: '2026-12 (issue 22)',
    fixtures: 'none recorded before issue 22 had a stop during the create',
  },
} as const satisfies Record<string, WorkflowShape>;

export type WorkflowShapeName = keyof typeof WORKFLOW_SHAPES;

/**
 * The old shapes of the governor workflow (src/workflows/governor.ts). The governor moves to the current
 * build at its next task (auto-upgrade), so its running history replays on new code: a change of its
 * commands goes behind a patch too. It continues as new every few thousand events, so an old shape is
 * needed only until each account's governor has continued as new once on the new build.
 */
export const GOVERNOR_SHAPES = {
  rebuildOnFreshStart: {
    patchId: 'governor-rebuilds-on-fresh-start',
    oldShape: 'a governor started afresh (first start, or after an operator terminated the last) began with no holders and no queue',
    newShape: 'it first rebuilds its holders and queue from the running sessions (activity findSlotSessions), and grants only then',
    since: '2026-12 (issue 22)',
    fixtures: 'governor-grants-and-releases.json, governor-reclaim.json (recorded before issue 22)',
  },
} as const;
