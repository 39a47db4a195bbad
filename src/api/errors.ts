/**
 * The API's error codes: one registry, stable strings clients can match, each with its HTTP status.
 * Every error response is `{ "error": { "code", "message", "requestId", "details"? } }`; messages are
 * written for the caller and never carry internal details or stack traces.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  not_awaiting_input: 409,
  session_finished: 409,
  conflict: 409,
  video_not_ready: 409,
  video_not_archived: 409,
  request_timeout: 408,
  range_not_satisfiable: 416,
  payload_too_large: 413,
  unsupported_media_type: 415,
  headers_too_large: 431,
  idempotency_key_reused: 422,
  rate_limited: 429,
  too_many_streams: 429,
  internal_error: 500,
  heygen_rejected: 502,
  temporal_error: 502,
  temporal_unavailable: 503,
  worker_unavailable: 503,
  overloaded: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown> | readonly unknown[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

export const notFound = (what = 'session') => new ApiError('not_found', `No such ${what}.`);
