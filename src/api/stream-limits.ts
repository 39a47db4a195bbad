/**
 * How many live event streams may be open at once: per token (so one caller cannot hold the API's
 * connections and Temporal's reads for itself) and per process. A stream holds its place until it
 * closes; only its opening request counts against the rate limit, so this is the limit on what it costs
 * while it lives.
 */
import { ApiError } from './errors';

/** Streams free their places when they close, which nobody can predict: a client tries again after this. */
export const STREAM_RETRY_AFTER_S = 10;

export interface StreamCaps {
  perToken: number;
  max: number;
}

export class StreamLimits {
  private readonly byKey = new Map<string, number>();

  private total = 0;

  constructor(private readonly caps: StreamCaps) {}

  /** Takes a place for one stream of `key` (429 when none is left); the returned function gives it back. */
  take(key: string): () => void {
    const held = this.byKey.get(key) ?? 0;
    if (held >= this.caps.perToken) {
      throw tooMany(`This token already has ${this.caps.perToken} open event streams, the most one token may hold; close one first.`, this.caps.perToken);
    }
    if (this.total >= this.caps.max) throw tooMany(`This API instance already has ${this.caps.max} open event streams, the most it holds.`, this.caps.max);
    this.byKey.set(key, held + 1);
    this.total += 1;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.total -= 1;
      const left = (this.byKey.get(key) ?? 1) - 1;
      if (left > 0) this.byKey.set(key, left);
      else this.byKey.delete(key);
    };
  }

  get open(): number {
    return this.total;
  }
}

function tooMany(message: string, limit: number): ApiError {
  return new ApiError('too_many_streams', `${message} Retry after the time in Retry-After.`, { limit }, { 'retry-after': String(STREAM_RETRY_AFTER_S) });
}
