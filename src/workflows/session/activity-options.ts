/**
 * The activities a session calls, with their timeouts and retry policies. HeyGen calls get a few quick
 * attempts here; one still failing then is retried patiently (heygen-calls.ts).
 */
import * as wf from '@temporalio/workflow';
import type { ArchiveActivities, GovernorActivities, HeyGenActivities, NotifyActivities } from '../../activities';
import { HEYGEN_FAILURE } from '../../contract/failures';
import { NOTIFY_ACTIVITY_TIMEOUT_MS, NOTIFY_HEARTBEAT_TIMEOUT_MS, notificationTaskQueue } from '../../contract/notifications';
import type { Timing } from '../../contract/session';

export type HeyGenCallKind = 'read' | 'write';

/** A call's quick attempts before the session reports HeyGen unreachable and retries patiently. */
export const QUICK_ATTEMPTS = 4;
/** Backoff cap of the patient retries (one minute, so a recovered HeyGen is noticed within one). */
const PATIENT_MAX_INTERVAL = '1 minute';
/** How long one file's archival is retried (a download resumes on retry) before the phase turns `archive_failed`. */
const ARCHIVE_RETRY_FOR = '1 hour';

export function heygenActivityOptions(timing: Timing, kind: HeyGenCallKind): wf.ActivityOptions {
  // Writes wait up to 120 s for HeyGen (creates run to a p99 of ~31 s).
  return { startToCloseTimeout: kind === 'write' ? '150 seconds' : '1 minute', heartbeatTimeout: timing.activityHeartbeatTimeout };
}

export function heygenRetryPolicy() {
  return {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: [HEYGEN_FAILURE.accessDenied, HEYGEN_FAILURE.rejected],
  };
}

/** What one call may set beyond its kind's defaults. */
export interface HeyGenCallOverrides {
  startToCloseTimeout?: number;
  /**
   * WAIT_CANCELLATION_COMPLETED: a cancelled call settles only once the activity has stopped. Unset, the
   * SDK's proxies use TRY_CANCEL (whatever its doc comment says), which settles at once.
   */
  cancellationType?: wf.ActivityCancellationType;
}

function overridden({ startToCloseTimeout, cancellationType }: HeyGenCallOverrides): Partial<wf.ActivityOptions> {
  return { ...(startToCloseTimeout === undefined ? {} : { startToCloseTimeout }), ...(cancellationType === undefined ? {} : { cancellationType }) };
}

/** HeyGen activities for a few quick attempts, optionally with options of their own. */
export function quickHeyGenActivities(timing: Timing, kind: HeyGenCallKind, overrides: HeyGenCallOverrides = {}): HeyGenActivities {
  return wf.proxyActivities<HeyGenActivities>({
    ...heygenActivityOptions(timing, kind),
    ...overridden(overrides),
    retry: { ...heygenRetryPolicy(), maximumAttempts: QUICK_ATTEMPTS },
  });
}

/** HeyGen activities retried with backoff capped at a minute, for `withinMs` at most. */
export function patientHeyGenActivities(timing: Timing, kind: HeyGenCallKind, withinMs: number, overrides: HeyGenCallOverrides = {}): HeyGenActivities {
  return wf.proxyActivities<HeyGenActivities>({
    ...heygenActivityOptions(timing, kind),
    ...overridden(overrides),
    scheduleToCloseTimeout: Math.max(withinMs, 1_000),
    retry: { ...heygenRetryPolicy(), initialInterval: '2s', maximumInterval: PATIENT_MAX_INTERVAL },
  });
}

export function createSessionActivities(timing: Timing) {
  return {
    quickReads: quickHeyGenActivities(timing, 'read'),
    quickWrites: quickHeyGenActivities(timing, 'write'),
    // Temporal itself, not HeyGen: retried until it answers.
    governor: wf.proxyActivities<GovernorActivities>({ startToCloseTimeout: '30 seconds', retry: { initialInterval: '1s', maximumInterval: '30s' } }),
    // One attempt per call: the workflow retries, so the delivery log shows every attempt.
    notifier: wf.proxyActivities<NotifyActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 1 } }),
    // Since `notify-in-order`: on the notifications' own task queue (slots apart from the session's), and
    // heartbeating, so a timeout or the end of the workflow reaches the attempt and stops it.
    notifierApart: wf.proxyActivities<NotifyActivities>({
      taskQueue: notificationTaskQueue(wf.workflowInfo().taskQueue),
      startToCloseTimeout: NOTIFY_ACTIVITY_TIMEOUT_MS,
      heartbeatTimeout: NOTIFY_HEARTBEAT_TIMEOUT_MS,
      retry: { maximumAttempts: 1 },
    }),
    // A download heartbeats its progress; a retry (another worker, or after a crash) resumes it.
    archiver: wf.proxyActivities<ArchiveActivities>({
      startToCloseTimeout: '1 hour',
      scheduleToCloseTimeout: ARCHIVE_RETRY_FOR,
      heartbeatTimeout: timing.activityHeartbeatTimeout,
      retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
    }),
  };
}

export type SessionActivities = ReturnType<typeof createSessionActivities>;
