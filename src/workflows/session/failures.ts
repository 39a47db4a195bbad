/**
 * Reading the failures activities report: which are HeyGen refusing, which are worth another try, what
 * a failed session's reason and type are. Pure functions of the error.
 */
import * as wf from '@temporalio/workflow';
import type { VideoDetails } from '../../activities';
import { ARCHIVE_FAILURE, HEYGEN_FAILURE, SESSION_FAILURE } from '../../contract/failures';
import type { ChatMessage } from '../../contract/session';

/** The HeyGen failure behind an activity failure, if that is what it is. */
export function applicationCause(error: unknown): wf.ApplicationFailure | undefined {
  return error instanceof wf.ActivityFailure && error.cause instanceof wf.ApplicationFailure ? error.cause : undefined;
}

/** HeyGen refused the request (4xx other than 429): repeating it cannot help. */
export function isRejection(error: unknown): boolean {
  const type = applicationCause(error)?.type;
  return type === HEYGEN_FAILURE.rejected || type === HEYGEN_FAILURE.accessDenied;
}

/** HeyGen could not be reached, answered 5xx or 429, or the call timed out: worth retrying later. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof wf.ActivityFailure)) return false;
  return applicationCause(error)?.type === HEYGEN_FAILURE.unavailable || error.cause instanceof wf.TimeoutFailure;
}

/** The HTTP status a failed call was answered with (HeyGen's, or a notification receiver's), if any. */
export function httpStatusOf(error: unknown): number | undefined {
  const details = applicationCause(error)?.details?.[0] as { status?: unknown } | undefined;
  return typeof details?.status === 'number' ? details.status : undefined;
}

export function describeFailure(error: unknown): string {
  const cause = error instanceof wf.ActivityFailure && error.cause ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

/** The failure type an archival failure is recorded with: the activity's own, or ArchiveDownloadFailed. */
export function archiveFailureType(error: unknown): string {
  const type = applicationCause(error)?.type;
  return type && (Object.values(ARCHIVE_FAILURE) as string[]).includes(type) ? type : ARCHIVE_FAILURE.downloadFailed;
}

/** The reason a failed session gives: video failure fields, newest error message, newest model message. */
export function failureReason(video: Pick<VideoDetails, 'failureCode' | 'failureMessage'> | null, messages: readonly ChatMessage[]): string {
  if (video?.failureMessage || video?.failureCode) {
    return video.failureMessage ? `${video.failureMessage}${video.failureCode ? ` (${video.failureCode})` : ''}` : `HeyGen failure code ${video.failureCode}`;
  }
  const newest = [...messages].reverse();
  const error = newest.find((m) => m.type === 'error');
  if (error) return error.content;
  const model = newest.find((m) => m.role === 'model');
  if (model) return `HeyGen gave no error details; the agent's last message was: "${model.content}"`;
  return 'unknown: HeyGen reported the session failed without any reason';
}

/** The typed error an unexpected failure ends the session with (never a bare "Activity task failed"). */
export function classifyFailure(error: unknown): { type: string; reason: string } {
  if (error instanceof wf.ApplicationFailure && error.type && (Object.values(SESSION_FAILURE) as string[]).includes(error.type)) {
    return { type: error.type, reason: error.message };
  }
  const cause = applicationCause(error);
  if (cause?.type === HEYGEN_FAILURE.accessDenied) return { type: SESSION_FAILURE.heygenRejected, reason: `HeyGen refused our API key or account: ${cause.message}` };
  if (cause?.type === HEYGEN_FAILURE.rejected) return { type: SESSION_FAILURE.heygenRejected, reason: `HeyGen refused a request: ${cause.message}` };
  if (isTransient(error)) return { type: SESSION_FAILURE.heygenUnreachable, reason: `HeyGen could not be reached: ${describeFailure(error)}` };
  if (error instanceof wf.ActivityFailure) {
    return { type: SESSION_FAILURE.internal, reason: `Internal error: ${error.activityType ?? 'an activity'} failed: ${describeFailure(error)}` };
  }
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { type: SESSION_FAILURE.internal, reason: `Internal error: ${what}` };
}
