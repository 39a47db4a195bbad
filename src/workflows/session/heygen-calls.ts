/**
 * Calling HeyGen through its bad days: a few quick attempts, then, while HeyGen cannot be reached (or
 * refuses with 429), patient retries with backoff capped at a minute until the deadline of the phase the
 * call serves, the state and the status line saying so meanwhile. Refusals (4xx) fail at once.
 */
import * as wf from '@temporalio/workflow';
import type { HeyGenActivities } from '../../activities';
import { SESSION_FAILURE } from '../../contract/failures';
import { patientHeyGenActivities, quickHeyGenActivities, type HeyGenCallKind } from './activity-options';
import { clock, iso, type SessionRun } from './context';
import { describeFailure, httpStatusOf, isRejection, isTransient } from './failures';
import { refreshDetails } from './phases';
import { SessionEnding } from './steps';

export interface HeyGenCallOptions {
  kind: HeyGenCallKind;
  /** Ms since the epoch: patient retries stop here. */
  deadline: number;
  /** What the call does, for the reason a session gives when HeyGen stays unreachable. */
  what: string;
  /** When the deadline passes the session fails as `HeyGenUnreachable`, or expires (the queue deadline of a create). */
  onDeadline?: 'fail' | 'expire';
  startToCloseTimeout?: number;
  /** A cancelled call waits for the attempt under way to end (a create: its answer says whether it made a session). */
  waitForAttempt?: boolean;
}

type ActivityResult<K extends keyof HeyGenActivities> = Awaited<ReturnType<HeyGenActivities[K]>>;

/**
 * Calls a HeyGen activity. Throws the activity's failure for a refusal or a cancellation, and a
 * {@link SessionEnding} once HeyGen stayed unreachable until the deadline.
 */
export async function callHeyGen<K extends keyof HeyGenActivities>(
  run: SessionRun,
  name: K,
  args: Parameters<HeyGenActivities[K]>,
  options: HeyGenCallOptions,
): Promise<ActivityResult<K>> {
  type Call = (...a: Parameters<HeyGenActivities[K]>) => Promise<ActivityResult<K>>;
  const { kind, startToCloseTimeout, waitForAttempt } = options;
  const { quickReads, quickWrites } = run.activities;
  const extras = { startToCloseTimeout, waitForAttempt };
  const quickActivities =
    startToCloseTimeout === undefined && !waitForAttempt ? (kind === 'write' ? quickWrites : quickReads) : quickHeyGenActivities(run.timing, kind, extras);
  const quick = quickActivities[name] as unknown as Call;
  let patientArgs = args;
  const firstAttemptAt = Date.now();
  try {
    const result = await quick(...args);
    markReachable(run);
    return result;
  } catch (error) {
    if (!isTransient(error)) throw error;
    markUnreachable(run, error);
    if (name === 'sendHeyGenMessage') {
      // An attempt may have landed: the patient sender checks HeyGen's messages before sending again.
      patientArgs = [{ ...(args[0] as object), firstAttemptAt }] as typeof args;
    }
  }
  const remaining = options.deadline - Date.now();
  try {
    if (remaining <= 0) throw new Error('deadline already passed');
    const patient = patientHeyGenActivities(run.timing, kind, remaining, extras)[name] as unknown as Call;
    const result = await patient(...patientArgs);
    markReachable(run);
    return result;
  } catch (error) {
    if (wf.isCancellation(error) || isRejection(error)) throw error;
    const { heygen } = run.state;
    const reason = `HeyGen could not be reached while ${options.what} (since ${clock(Date.parse(heygen.unreachableSince ?? iso(Date.now())))}, last error: ${heygen.lastError ?? describeFailure(error)})`;
    const end = options.onDeadline === 'expire' ? 'expired' : 'failed';
    throw new SessionEnding({ end, reason, type: end === 'expired' ? SESSION_FAILURE.queueTimedOut : SESSION_FAILURE.heygenUnreachable });
  }
}

/** A call keeps failing: HeyGen cannot be reached, or (429) refuses for now; either way we retry. */
function markUnreachable(run: SessionRun, error: unknown): void {
  const { heygen } = run.state;
  if (httpStatusOf(error) !== 429) heygen.unreachableSince ??= iso(Date.now());
  heygen.lastError = describeFailure(error);
  wf.log.warn('HeyGen calls keep failing; retrying', { error: heygen.lastError });
  refreshDetails(run);
}

function markReachable(run: SessionRun): void {
  const { heygen } = run.state;
  if (heygen.unreachableSince === null && heygen.lastError === null) return;
  heygen.unreachableSince = null;
  heygen.lastError = null;
  refreshDetails(run);
}
