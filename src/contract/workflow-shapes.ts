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
 * - `at-completion`: the patch is asked at the run's last step, so an open run has not taken either shape.
 */
export type OldShapeEvidence =
  | { kind: 'activity'; activity: string }
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
} as const satisfies Record<string, WorkflowShape>;

export type WorkflowShapeName = keyof typeof WORKFLOW_SHAPES;
