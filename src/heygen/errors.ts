/**
 * One typed error for everything that can go wrong calling HeyGen, with the decision callers need:
 * may this call be repeated?
 *
 * - `retryable`: nothing was done, or repeating is harmless (429 after `Retry-After`; 5xx, timeouts and
 *   resets on reads and on stop; a connection that was never made).
 * - `ambiguous`: a create or message POST whose outcome is unknown (timeout, reset, 5xx, unreadable
 *   success body). HeyGen may have acted on it: repeat only with the same `Idempotency-Key`.
 * - `not_retryable`: HeyGen refused it (400/401/402/403/404/409/413/422); repeating cannot help.
 *
 * Messages never contain the API key: nothing here ever sees request headers.
 */
import { ErrorEnvelopeSchema } from '../contract/heygen';

export type RetryClass = 'retryable' | 'ambiguous' | 'not_retryable';

/** Whether repeating the request can duplicate an effect at HeyGen (creates and messages can). */
export type RequestKind = 'idempotent' | 'non_idempotent';

export interface HeyGenApiErrorDetails {
  /** HTTP status; undefined when no response arrived (timeout, reset, refused). */
  status?: number;
  /** HeyGen's error code (`rate_limit_exceeded`, `not_found`, ...) or ours for transport failures. */
  code: string;
  message: string;
  param?: string;
  docUrl?: string;
  requestId?: string;
  /** Milliseconds to wait before retrying, from `Retry-After`. */
  retryAfterMs?: number;
  retry: RetryClass;
  method: string;
  /** Request path without query (ids included, never credentials). */
  path: string;
  /** The Idempotency-Key sent, so an ambiguous request can be repeated with the same key. */
  idempotencyKey?: string;
}

export class HeyGenApiError extends Error {
  override readonly name = 'HeyGenApiError';
  readonly status?: number;
  readonly code: string;
  readonly param?: string;
  readonly docUrl?: string;
  readonly requestId?: string;
  readonly retryAfterMs?: number;
  readonly retry: RetryClass;
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey?: string;

  constructor(details: HeyGenApiErrorDetails) {
    const where = `${details.method} ${details.path}`;
    const status = details.status === undefined ? '' : ` ${details.status}`;
    super(`HeyGen${status} ${details.code} on ${where}: ${details.message}`);
    this.status = details.status;
    this.code = details.code;
    this.param = details.param;
    this.docUrl = details.docUrl;
    this.requestId = details.requestId;
    this.retryAfterMs = details.retryAfterMs;
    this.retry = details.retry;
    this.method = details.method;
    this.path = details.path;
    this.idempotencyKey = details.idempotencyKey;
  }

  /** Plain data for logs and workflow failure details (no secrets in it by construction). */
  toJSON(): HeyGenApiErrorDetails {
    return {
      status: this.status,
      code: this.code,
      message: this.message,
      param: this.param,
      docUrl: this.docUrl,
      requestId: this.requestId,
      retryAfterMs: this.retryAfterMs,
      retry: this.retry,
      method: this.method,
      path: this.path,
      idempotencyKey: this.idempotencyKey,
    };
  }
}

/** Decides retryability of an HTTP error response. */
export function classifyHttpStatus(status: number, code: string, kind: RequestKind): RetryClass {
  // "Server explicitly rejected without processing", and a duplicate still in flight: both safe to repeat.
  if (status === 429) return 'retryable';
  if (status === 409 && code === 'request_in_progress') return 'retryable';
  if (status >= 500) return kind === 'idempotent' ? 'retryable' : 'ambiguous';
  if (status >= 400) return 'not_retryable';
  // A 2xx/3xx we could not use: for a write, HeyGen may well have acted on it.
  return kind === 'idempotent' ? 'retryable' : 'ambiguous';
}

export type TransportFailure = 'timeout' | 'connection_reset' | 'connection_refused' | 'network_error';

/** Decides retryability when no usable response arrived. */
export function classifyTransportFailure(failure: TransportFailure, kind: RequestKind): RetryClass {
  // Refused means the request never reached HeyGen: repeating it cannot duplicate anything.
  if (failure === 'connection_refused') return 'retryable';
  return kind === 'idempotent' ? 'retryable' : 'ambiguous';
}

/** `Retry-After` in delta-seconds or as an HTTP-date, in milliseconds; undefined if absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Reads an error response body: the v3 envelope when present, else whatever the body says (a gateway's
 * HTML page, plain text, an empty body), reduced to a short message. HeyGen's app always sends a specific
 * lowercase code; an empty code or the literal "error" means the response did not come from the app.
 */
export function parseErrorBody(status: number, bodyText: string): { code: string; message: string; param?: string; docUrl?: string } {
  let json: unknown;
  try {
    json = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    json = undefined;
  }
  const envelope = ErrorEnvelopeSchema.safeParse(json);
  if (envelope.success && envelope.data.error.code && envelope.data.error.code !== 'error') {
    const { code, message, param, doc_url } = envelope.data.error;
    return { code, message, param: param ?? undefined, docUrl: doc_url ?? undefined };
  }
  const text = bodyText
    .replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const message = envelope.success ? envelope.data.error.message : text ? text.slice(0, 200) : '(empty body)';
  return { code: `http_${status}`, message };
}
