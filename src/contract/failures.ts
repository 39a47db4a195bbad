/**
 * Failure types shared by activities (which throw them) and the workflow (whose retry policies and
 * error handling name them). Stable strings: operators filter on them and clients match them.
 */

/** Thrown by HeyGen activities. */
export const HEYGEN_FAILURE = {
  /** 401/402/403: the key is wrong, out of credit or not allowed. Not retried. */
  accessDenied: 'HeyGenAccessDenied',
  /** Any other refusal (400, 404, 409, 413, 422). Not retried. */
  rejected: 'HeyGenRequestRejected',
  /** Worth another try (429, 5xx on reads, network trouble, an ambiguous write with its key). */
  unavailable: 'HeyGenUnavailable',
} as const;

/** Thrown by the archive activity. */
export const ARCHIVE_FAILURE = {
  /** HeyGen's storage answered 404 for a file, even with a URL read just before. Not retried. */
  mediaMissing: 'ArchiveMediaMissing',
  /** HeyGen's storage answered 403 with a URL read just before. Retried. */
  mediaRefused: 'ArchiveMediaRefused',
  /** Any other answer than the file (5xx, a short body). Retried; a retry resumes the download. */
  downloadFailed: 'ArchiveDownloadFailed',
} as const;

/** How a session workflow fails. */
export const SESSION_FAILURE = {
  invalidInput: 'InvalidSessionInput',
  /** HeyGen reported `failed` (session or video); the message is the reason found. */
  heygenFailed: 'VideoAgentSessionFailed',
  /** HeyGen refused our key or a request we cannot do without. */
  heygenRejected: 'HeyGenRejected',
  /** Thinking, rendering or the video took longer than the configured limit. */
  timedOut: 'VideoAgentSessionTimedOut',
  /** HeyGen kept reporting a status we do not know. */
  unknownStatus: 'VideoAgentUnknownStatus',
  /** HeyGen could not be reached (outage, errors on every retry) until the phase's deadline. */
  heygenUnreachable: 'HeyGenUnreachable',
  /** No job slot, or no HeyGen session, within `maxQueued` (phase `expired`). */
  queueTimedOut: 'VideoAgentQueueTimedOut',
  /** No review decision before the deadline under `onTimeout: stop` (phase `expired`). */
  reviewDeadlinePassed: 'ReviewDeadlinePassed',
  /** Cancelled on request: API stop, `temporal workflow cancel`, the Web UI (phase `stopped`). */
  stopped: 'VideoAgentSessionStopped',
  /** Anything else: a bug of ours or a failure nobody classified. The reason names it. */
  internal: 'VideoAgentInternalError',
} as const;
export type SessionFailureType = (typeof SESSION_FAILURE)[keyof typeof SESSION_FAILURE];
