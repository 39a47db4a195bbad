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
} as const;
