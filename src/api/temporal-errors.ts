/**
 * What a failed Temporal call means to the API's caller: every gRPC status code Temporal can answer with
 * maps to one documented API error (docs/api.md, "Errors from Temporal"). Transient ones are 503s the
 * caller may retry; ones only an operator can fix are 502 `temporal_error`, logged with their cause.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { ApiError, notFound } from './errors';

/** Whether the answer had to come from a worker (a query) or from the Temporal server alone. */
export type AnsweredBy = 'server' | 'worker';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GRPC = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const noWorker = () => new ApiError('worker_unavailable', 'No worker answered in time; the session is safe and continues when a worker runs.');
const unavailable = (message: string, retryAfterSeconds?: number) =>
  new ApiError('temporal_unavailable', message, undefined, retryAfterSeconds ? { 'retry-after': String(retryAfterSeconds) } : undefined);
const temporalError = (message: string) => new ApiError('temporal_error', message);

/** The API error for each gRPC code, given who had to answer. */
export const TEMPORAL_ERRORS: Record<number, (by: AnsweredBy) => ApiError> = {
  // grpc-js reports a call cut off by our deadline as DEADLINE_EXCEEDED, or at times as CANCELLED.
  [GRPC.CANCELLED]: (by) => (by === 'worker' ? noWorker() : unavailable('Temporal did not answer in time.')),
  [GRPC.DEADLINE_EXCEEDED]: (by) => (by === 'worker' ? noWorker() : unavailable('Temporal did not answer in time.')),
  [GRPC.UNAVAILABLE]: () => unavailable('Temporal is not reachable.'),
  [GRPC.ABORTED]: () => unavailable('Temporal aborted the call (a conflicting update); retry.', 1),
  [GRPC.RESOURCE_EXHAUSTED]: () => unavailable('Temporal is rate-limiting this service; retry shortly.', 5),
  // A query with no worker polling the task queue ("no poller seen ... worker may be down").
  [GRPC.FAILED_PRECONDITION]: (by) => (by === 'worker' ? noWorker() : unavailable('Temporal cannot take the call in its current state; retry shortly.', 5)),
  [GRPC.NOT_FOUND]: () => notFound(),
  [GRPC.ALREADY_EXISTS]: () => new ApiError('conflict', 'Temporal already has this (a concurrent request did it first); read the session.'),
  // The session's query itself failed in the worker, or Temporal refused what we asked (e.g. search
  // attributes not registered: `npm run temporal:setup`). Not the caller's doing; operators see the log.
  [GRPC.INVALID_ARGUMENT]: (by) =>
    temporalError(by === 'worker' ? "The session's state could not be read (its query failed in the worker)." : 'Temporal refused the call as invalid.'),
  [GRPC.OUT_OF_RANGE]: () => temporalError('Temporal refused the call (out of range).'),
  [GRPC.PERMISSION_DENIED]: () => temporalError("Temporal refused this service's credentials for the namespace."),
  [GRPC.UNAUTHENTICATED]: () => temporalError("Temporal refused this service's credentials."),
  [GRPC.UNIMPLEMENTED]: () => temporalError('The Temporal server does not support this call (check its version).'),
  [GRPC.UNKNOWN]: () => temporalError('Temporal failed the call.'),
  [GRPC.INTERNAL]: () => temporalError('Temporal failed the call (internal error).'),
  [GRPC.DATA_LOSS]: () => temporalError('Temporal failed the call (data loss).'),
};

/** The API error for a failed Temporal call, or undefined when the failure did not come from Temporal. */
export function apiErrorFromTemporal(error: unknown, by: AnsweredBy): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof WorkflowNotFoundError) return notFound();
  const code = grpcCodeOf(error);
  return code === undefined ? undefined : TEMPORAL_ERRORS[code]?.(by);
}

/** The gRPC status code of an error or of one of its causes (the client wraps them in ServiceError). */
function grpcCodeOf(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
