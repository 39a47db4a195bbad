/**
 * The activities a session calls, with their timeouts and retry policies. HeyGen calls get a few quick
 * attempts here; one still failing then is retried patiently (heygen-calls.ts).
 */
import * as wf from '@temporalio/workflow';
import type { ArchiveActivities, GovernorActivities, HeyGenActivities, NotifyActivities } from '../../activities';
import { HEYGEN_FAILURE } from '../../contract/failures';
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

/**
 * Options of one call beyond its kind: a start-to-close timeout of its own, and whether a cancelled call
 * waits for the attempt under way to end (its result then says what it did) instead of returning at once.
 */
export interface HeyGenCallExtras {
  startToCloseTimeout?: number;
  waitForAttempt?: boolean;
}

function extraOptions({ startToCloseTimeout, waitForAttempt }: HeyGenCallExtras): Partial<wf.ActivityOptions> {
  return {
    ...(startToCloseTimeout === undefined ? {} : { startToCloseTimeout }),
    ...(waitForAttempt ? { cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {}),
  };
}

/** HeyGen activities for a few quick attempts, optionally with a start-to-close timeout of their own. */
export function quickHeyGenActivities(timing: Timing, kind: HeyGenCallKind, extras: HeyGenCallExtras = {}): HeyGenActivities {
  return wf.proxyActivities<HeyGenActivities>({
    ...heygenActivityOptions(timing, kind),
    ...extraOptions(extras),
    retry: { ...heygenRetryPolicy(), maximumAttempts: QUICK_ATTEMPTS },
  });
}

/** HeyGen activities retried with backoff capped at a minute, for `withinMs` at most. */
export function patientHeyGenActivities(timing: Timing, kind: HeyGenCallKind, withinMs: number, extras: HeyGenCallExtras = {}): HeyGenActivities {
  return wf.proxyActivities<HeyGenActivities>({
    ...heygenActivityOptions(timing, kind),
    ...extraOptions(extras),
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
