/**
 * Typed client of HeyGen's Video Agent API v3 (and `GET /v3/videos/{id}`), used only by activities.
 *
 * It makes exactly one HTTP request per call and never retries by itself: retrying is the caller's
 * decision (Temporal's activity retry policy), informed by the `retry` class of {@link HeyGenApiError}.
 * Every response is parsed with the shared schemas; requests are validated before they leave.
 */
import { z } from 'zod';
import type { HeyGenCallOutcome } from '../contract/metrics';
import type { Logger } from '../logging';
import { heygenCallOutcome } from './call-outcome';
import {
  classifyHttpStatus,
  classifyTransportFailure,
  HeyGenApiError,
  parseErrorBody,
  parseRetryAfter,
  type RequestKind,
  type TransportFailure,
} from './errors';
import {
  CreateSessionRequestSchema,
  CreateSessionResponseSchema,
  dataEnvelope,
  listEnvelope,
  ResourceSchema,
  SendMessageRequestSchema,
  SendMessageResponseSchema,
  SessionSchema,
  SessionSummarySchema,
  StopSessionResponseSchema,
  VideoSchema,
  type CreateSessionRequest,
  type CreateSessionResponse,
  type Page,
  type Resource,
  type SendMessageRequest,
  type SendMessageResponse,
  type Session,
  type SessionSummary,
  type StopSessionResponse,
  type Video,
} from '../contract/heygen';

export const DEFAULT_READ_TIMEOUT_MS = 30_000;
export const DEFAULT_WRITE_TIMEOUT_MS = 120_000;

export interface HeyGenClientOptions {
  /** e.g. https://api.heygen.com, or the simulator's URL. */
  baseUrl: string;
  apiKey: string;
  /** Per-request timeout of GETs (HeyGen's own CLI uses 30 s). */
  readTimeoutMs?: number;
  /** Per-request timeout of POSTs (HeyGen's own CLI uses 120 s; creates run to a p99 of ~31 s). */
  writeTimeoutMs?: number;
  logger?: Logger;
  userAgent?: string;
  /** Told of every request sent, however it ended (the worker turns these into metrics). */
  onRequest?: (request: HeyGenRequestRecord) => void;
}

/** One request to HeyGen, as metrics see it: the route pattern, never the path with its ids. */
export interface HeyGenRequestRecord {
  method: 'GET' | 'POST';
  /** e.g. `/v3/video-agents/{session_id}`. */
  route: string;
  outcome: HeyGenCallOutcome;
  /** From sending the request to having read (and parsed) the whole answer, or to the failure. */
  seconds: number;
}

export interface CallOptions {
  /** Aborts the request (e.g. when the activity is cancelled). */
  signal?: AbortSignal;
}

export interface WriteOptions extends CallOptions {
  /** Sent as `Idempotency-Key`: HeyGen answers a repeat with the first result instead of acting twice. */
  idempotencyKey?: string;
}

interface RequestSpec<T> {
  method: 'GET' | 'POST';
  path: string;
  /** The path's pattern, with placeholders for the ids. */
  route: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  kind: RequestKind;
  response: z.ZodType<T>;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

const TRANSPORT_CODES: Record<string, TransportFailure> = {
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  UND_ERR_SOCKET: 'connection_reset',
  ECONNREFUSED: 'connection_refused',
  ENOTFOUND: 'connection_refused',
  EAI_AGAIN: 'connection_refused',
  UND_ERR_CONNECT_TIMEOUT: 'connection_refused',
};

function transportFailureOf(error: unknown): TransportFailure {
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'timeout';
  let cause: unknown = error;
  for (let depth = 0; cause && depth < 4; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSPORT_CODES[code]) return TRANSPORT_CODES[code];
    cause = (cause as { cause?: unknown }).cause;
  }
  return 'network_error';
}

export class HeyGenClient {
  private readonly baseUrl: string;
  private readonly readTimeoutMs: number;
  private readonly writeTimeoutMs: number;

  constructor(private readonly options: HeyGenClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.readTimeoutMs = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    this.writeTimeoutMs = options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
  }

  /** `POST /v3/video-agents`: starts a session (`mode: "chat"` for interactive review). */
  async createSession(request: CreateSessionRequest, options: WriteOptions = {}): Promise<CreateSessionResponse> {
    return this.request({
      method: 'POST',
      path: '/v3/video-agents',
      route: '/v3/video-agents',
      body: validated(CreateSessionRequestSchema, request, 'POST', '/v3/video-agents'),
      kind: 'non_idempotent',
      response: dataEnvelope(CreateSessionResponseSchema).transform((envelope) => envelope.data),
      ...options,
    });
  }

  /** `GET /v3/video-agents/{id}`: status, progress, title, video id and the newest 40 messages. */
  async getSession(sessionId: string, options: CallOptions = {}): Promise<Session> {
    return this.request({
      method: 'GET',
      path: `/v3/video-agents/${encodeURIComponent(sessionId)}`,
      route: '/v3/video-agents/{session_id}',
      kind: 'idempotent',
      response: dataEnvelope(SessionSchema).transform((envelope) => envelope.data),
      ...options,
    });
  }

  /** `POST /v3/video-agents/{id}`: feedback, an answer, or (with `auto_proceed`) an approval. */
  async sendMessage(sessionId: string, request: SendMessageRequest, options: WriteOptions = {}): Promise<SendMessageResponse> {
    return this.request({
      method: 'POST',
      path: `/v3/video-agents/${encodeURIComponent(sessionId)}`,
      route: '/v3/video-agents/{session_id}',
      body: validated(SendMessageRequestSchema, request, 'POST', `/v3/video-agents/${encodeURIComponent(sessionId)}`),
      kind: 'non_idempotent',
      response: dataEnvelope(SendMessageResponseSchema).transform((envelope) => envelope.data),
      ...options,
    });
  }

  /** `GET /v3/video-agents/{id}/resources/{resource_id}`: a storyboard image, draft, avatar, voice... */
  async getResource(sessionId: string, resourceId: string, options: CallOptions = {}): Promise<Resource> {
    return this.request({
      method: 'GET',
      path: `/v3/video-agents/${encodeURIComponent(sessionId)}/resources/${encodeURIComponent(resourceId)}`,
      route: '/v3/video-agents/{session_id}/resources/{resource_id}',
      kind: 'idempotent',
      response: dataEnvelope(ResourceSchema).transform((envelope) => envelope.data),
      ...options,
    });
  }

  /** `GET /v3/video-agents/{id}/videos`: every video of the session, newest-first. */
  async listSessionVideos(sessionId: string, options: CallOptions & { token?: string } = {}): Promise<Page<Video>> {
    return this.request({
      method: 'GET',
      path: `/v3/video-agents/${encodeURIComponent(sessionId)}/videos`,
      route: '/v3/video-agents/{session_id}/videos',
      query: { token: options.token },
      kind: 'idempotent',
      response: listEnvelope(VideoSchema).transform(toPage),
      signal: options.signal,
    });
  }

  /** `POST /v3/video-agents/{id}/stop`: halts the run at its next checkpoint. Repeating it is harmless. */
  async stopSession(sessionId: string, options: CallOptions = {}): Promise<StopSessionResponse> {
    return this.request({
      method: 'POST',
      path: `/v3/video-agents/${encodeURIComponent(sessionId)}/stop`,
      route: '/v3/video-agents/{session_id}/stop',
      body: {},
      kind: 'idempotent',
      response: dataEnvelope(StopSessionResponseSchema).transform((envelope) => envelope.data),
      ...options,
    });
  }

  /** `GET /v3/videos/{id}`: status, presigned URLs (fresh on every call), duration, failure fields. */
  async getVideo(videoId: string, options: CallOptions = {}): Promise<Video> {
    return this.request({
      method: 'GET',
      path: `/v3/videos/${encodeURIComponent(videoId)}`,
      route: '/v3/videos/{video_id}',
      kind: 'idempotent',
      response: dataEnvelope(VideoSchema).transform((envelope) => envelope.data),
      ...options,
    });
  }

  /** `GET /v3/video-agents`: the account's sessions, newest-first. */
  async listSessions(options: CallOptions & { limit?: number; token?: string } = {}): Promise<Page<SessionSummary>> {
    return this.request({
      method: 'GET',
      path: '/v3/video-agents',
      route: '/v3/video-agents',
      query: { limit: options.limit, token: options.token },
      kind: 'idempotent',
      response: listEnvelope(SessionSummarySchema).transform(toPage),
      signal: options.signal,
    });
  }

  /** One request, reported to `onRequest` however it ends. */
  private async request<T>(spec: RequestSpec<T>): Promise<T> {
    const started = performance.now();
    let failure: unknown;
    try {
      return await this.exchange(spec);
    } catch (error) {
      failure = error ?? new Error('request failed');
      throw error;
    } finally {
      this.report(spec, heygenCallOutcome(failure, spec.signal?.aborted ?? false), (performance.now() - started) / 1000);
    }
  }

  private report(spec: RequestSpec<unknown>, outcome: HeyGenCallOutcome, seconds: number): void {
    try {
      this.options.onRequest?.({ method: spec.method, route: spec.route, outcome, seconds });
    } catch (error) {
      // Metrics are never worth a failed HeyGen call.
      this.options.logger?.warn({ err: error }, 'recording a HeyGen request failed');
    }
  }

  private async exchange<T>(spec: RequestSpec<T>): Promise<T> {
    const url = new URL(this.baseUrl + spec.path);
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      'x-api-key': this.options.apiKey,
      'user-agent': this.options.userAgent ?? 'video-agent-orchestrator',
    };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    if (spec.idempotencyKey) headers['idempotency-key'] = spec.idempotencyKey;

    const timeoutMs = spec.method === 'GET' ? this.readTimeoutMs : this.writeTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout;
    const base = { method: spec.method, path: spec.path, idempotencyKey: spec.idempotencyKey };
    const started = Date.now();

    let response: Response;
    let bodyText: string;
    try {
      response = await fetch(url, {
        method: spec.method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal,
      });
      bodyText = await response.text();
    } catch (error) {
      // The caller's own cancellation is not a HeyGen failure: let it propagate as is.
      if (spec.signal?.aborted) throw spec.signal.reason ?? error;
      const failure = transportFailureOf(error);
      this.options.logger?.debug({ method: spec.method, path: spec.path, failure, ms: Date.now() - started }, 'HeyGen request failed');
      throw new HeyGenApiError({
        ...base,
        code: failure,
        message: failure === 'timeout' ? `no response within ${timeoutMs} ms` : String((error as Error).cause ?? error),
        retry: classifyTransportFailure(failure, spec.kind),
      });
    }

    const requestId = response.headers.get('x-request-id') ?? undefined;
    this.options.logger?.debug(
      { method: spec.method, path: spec.path, status: response.status, ms: Date.now() - started, requestId },
      'HeyGen request',
    );
    if (!response.ok) {
      const parsed = parseErrorBody(response.status, bodyText);
      throw new HeyGenApiError({
        ...base,
        ...parsed,
        status: response.status,
        requestId,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        retry: classifyHttpStatus(response.status, parsed.code, spec.kind),
      });
    }
    return this.parseSuccess(spec, response.status, bodyText, requestId);
  }

  private parseSuccess<T>(spec: RequestSpec<T>, status: number, bodyText: string, requestId: string | undefined): T {
    const base = { method: spec.method, path: spec.path, idempotencyKey: spec.idempotencyKey, status, requestId };
    let json: unknown;
    try {
      json = JSON.parse(bodyText);
    } catch {
      throw new HeyGenApiError({
        ...base,
        code: 'malformed_response',
        message: `response body is not JSON: ${bodyText.slice(0, 120) || '(empty)'}`,
        retry: classifyHttpStatus(status, 'malformed_response', spec.kind),
      });
    }
    // Defensive: an error envelope inside a 2xx body is still an error.
    if (json && typeof json === 'object' && 'error' in json && !('data' in json)) {
      const parsed = parseErrorBody(status, bodyText);
      throw new HeyGenApiError({ ...base, ...parsed, retry: classifyHttpStatus(status, parsed.code, spec.kind) });
    }
    const result = spec.response.safeParse(json);
    if (!result.success) {
      throw new HeyGenApiError({
        ...base,
        code: 'invalid_response',
        message: `response does not match the v3 contract: ${z.prettifyError(result.error).replace(/\s+/g, ' ').slice(0, 300)}`,
        retry: classifyHttpStatus(status, 'invalid_response', spec.kind),
      });
    }
    return result.data;
  }
}

/** Refuses to send a request HeyGen would reject anyway (same schema the simulator enforces). */
function validated<T>(schema: z.ZodType<T>, request: unknown, method: string, path: string): T {
  const result = schema.safeParse(request);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new HeyGenApiError({
    method,
    path,
    code: 'invalid_request',
    param: issue?.path.join('.') || undefined,
    message: z.prettifyError(result.error).replace(/\s+/g, ' '),
    retry: 'not_retryable',
  });
}

function toPage<T>(envelope: { data: T[]; has_more: boolean; next_token: string | null }): Page<T> {
  return { items: envelope.data, hasMore: envelope.has_more, nextToken: envelope.next_token };
}
