/**
 * How a HeyGen request ended, as its metrics' `outcome` label: one of a fixed set
 * ({@link HEYGEN_CALL_OUTCOMES}), so nothing of the request itself (ids, messages) becomes a label value.
 */
import type { HeyGenCallOutcome } from '../contract/metrics';
import { HeyGenApiError } from './errors';

/** `error`: what the request threw (undefined: it succeeded); `cancelled`: the caller aborted it. */
export function heygenCallOutcome(error: unknown, cancelled: boolean): HeyGenCallOutcome {
  if (error === undefined) return 'success';
  if (cancelled) return 'cancelled';
  if (!(error instanceof HeyGenApiError)) return 'connection_error';
  if (error.status === undefined) return error.code === 'timeout' ? 'timeout' : 'connection_error';
  if (error.status === 429) return 'rate_limited';
  if (error.status >= 500) return 'server_error';
  if (error.status >= 400) return 'client_error';
  // A 2xx (or 3xx) whose body was not JSON, an error envelope, or off the contract.
  return 'invalid_response';
}
