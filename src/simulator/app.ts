/**
 * The HeyGen simulator's HTTP server: HeyGen's v3 Video Agent endpoints (with its envelopes, errors,
 * validation, API keys, concurrency cap and idempotency keys), the media behind its presigned URLs, and
 * the /__sim admin endpoints that tests and benchmarks use to steer and observe it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CreateSessionRequestSchema, SendMessageRequestSchema } from '../contract/heygen';
import type { Logger } from '../logging';
import { applyKnobsPatch, SimulatorKnobsPatchSchema, type SimulatorConfig, type SimulatorKnobs } from './config';
import { FaultInjector, ScriptedFaultSchema, seededRandom, WRITE_ENDPOINTS, type EndpointName, type Fault } from './faults';
import { bufferFile, mediaFiles, MediaUrls, subtitlesFor, videoFile, type MediaFile } from './media';
import { parseScenario, ScenarioError } from './scenario';
import { SessionStore, SimError, type SessionEvent, type SimSession } from './store';
import { findStyle, STYLES } from './styles';
import { emptyWebhookStats, WebhookDispatcher, type WebhookStats } from './webhooks';
import {
  createResponseWire,
  deleteVideoWire,
  resourceWire,
  sessionSummaryWire,
  sessionWire,
  styleWire,
  unknownBatchItemWire,
  videoStatusItemWire,
  videoWire,
} from './wire';
import { canonicalJson } from '../canonical-json';
import { byteRange } from '../contract/byte-range';

const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;
const DOC_URL = 'https://developers.heygen.com/docs/error-codes';

function errorBody(code: string, message: string, param?: string) {
  return { error: { code, message, ...(param ? { param } : {}), doc_url: `${DOC_URL}#${code.replace(/_/g, '-')}` } };
}

const GATEWAY_PAGE = (status: number, text: string) =>
  `<html>\r\n<head><title>${status} ${text}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}</h1></center>\r\n</body>\r\n</html>\r\n`;

function validationError(error: z.ZodError): SimError {
  const issue = error.issues[0]!;
  const param = issue.path.join('.') || undefined;
  return new SimError(400, 'invalid_parameter', `${param ? `${param}: ` : ''}${issue.message}`, param);
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw validationError(result.error);
  return result.data;
}

/**
 * How /__sim names an API key: a short sha256 fingerprint, so the admin endpoints (unauthenticated)
 * never hand out a usable key.
 */
export function apiKeyFingerprint(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 12);
}

// Query strings of the list endpoints. Tokens are offsets; clients treat them as opaque anyway.
const paginationQuery = (defaultLimit: number) => ({
  limit: z.coerce.number().int().min(1).max(100).default(defaultLimit),
  token: z
    .string()
    .regex(/^[0-9]+$/, { error: 'invalid pagination token' })
    .optional(),
});

const ListSessionsQuerySchema = z.object(paginationQuery(20));

const ListVideosQuerySchema = z.object({ ...paginationQuery(10), folder_id: z.string().optional(), title: z.string().optional() });

const ListStylesQuerySchema = z.object({ ...paginationQuery(20), tag: z.string().optional() });

/** Up to this many ids per bulk status request, video and batch ids together. */
const MAX_STATUS_IDS = 100;
const idList = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((id) => id.trim()).filter(Boolean));
const VideoStatusesQuerySchema = z
  .object({ video_ids: idList, batch_ids: idList })
  .refine((query) => query.video_ids.length + query.batch_ids.length > 0, { error: 'video_ids or batch_ids is required', path: ['video_ids'] })
  .refine((query) => query.video_ids.length + query.batch_ids.length <= MAX_STATUS_IDS, {
    error: `at most ${MAX_STATUS_IDS} ids in all`,
    path: ['video_ids'],
  });

/** One page of a list response: `{data, has_more, next_token}`. */
function listPage<T>(all: readonly T[], token: string | undefined, limit: number, render: (item: T) => unknown): Result {
  const offset = token ? Number(token) : 0;
  const hasMore = offset + limit < all.length;
  return {
    status: 200,
    body: { data: all.slice(offset, offset + limit).map(render), has_more: hasMore, next_token: hasMore ? String(offset + limit) : null },
  };
}

interface Result {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface IdempotencyRecord {
  fingerprint: string;
  result?: Result;
  expiresAt: number;
}

/** A delay that ends early when the simulator shuts down, so no held response outlives it. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export interface SimulatorHandle {
  app: FastifyInstance;
  /** The secret its webhooks are signed with (the API verifies with the same). */
  webhookSecret: string;
  store: SessionStore;
  knobs: () => SimulatorKnobs;
  /** Base URL the simulator is reachable on (set once listening). */
  url: () => string;
  setUrl: (url: string) => void;
  shutdown: () => Promise<void>;
}

export function buildSimulator(config: SimulatorConfig, logger: Logger): SimulatorHandle {
  let knobs = config.knobs;
  const closing = new AbortController();
  let baseUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
  const random = seededRandom(config.seed);
  const faults = new FaultInjector(() => knobs, random);
  const urls = new MediaUrls(() => baseUrl, config.mediaUrlTtlSeconds);
  const dispatcher = new WebhookDispatcher(config.webhookSecret, () => knobs, random, logger.child({ part: 'webhooks' }));
  const webhookStats = new Map<string, WebhookStats>();
  const idempotency = new Map<string, IdempotencyRecord>();
  const totals: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  const injected: Record<string, number> = {};
  /** Media bytes sent per video file, `<video id>/<file>` (what archiving costs HeyGen's storage, retries included). */
  const mediaBytesServed: Record<string, number> = {};
  let idempotentReplays = 0;
  /** Which /v3 endpoint a request is for (set by the route, read when counting responses). */
  const endpointOf = new WeakMap<FastifyRequest, EndpointName>();

  const onSessionEvent = (event: SessionEvent) => {
    const { session } = event;
    if (!session.callbackUrl) return;
    const stats = webhookStats.get(session.id) ?? emptyWebhookStats();
    webhookStats.set(session.id, stats);
    const common = { session_id: session.id, video_id: event.video?.id ?? null, callback_id: session.callbackId };
    const eventData =
      event.type === 'video_agent.success'
        ? { ...common, video_url: urls.sign(`/media/videos/${event.video.id}/video.mp4`) }
        : { ...common, failure_message: event.failureMessage };
    dispatcher.emit(session.callbackUrl, { event_type: event.type, event_data: eventData }, stats);
  };
  const store = new SessionStore(() => knobs, onSessionEvent);

  // Persistence: sessions, idempotency keys and counters survive a restart (npm start keeps them under
  // DATA_DIR), so a restarted service finds the HeyGen sessions its workflows know about.
  interface SavedState {
    version: 1;
    store: ReturnType<SessionStore['export']>;
    idempotency: [string, IdempotencyRecord][];
    webhookStats: [string, WebhookStats][];
    totals: Record<string, number>;
    byStatus: Record<string, number>;
    injected: Record<string, number>;
    idempotentReplays: number;
  }
  const stateFile = config.stateFile;
  if (stateFile) {
    try {
      const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as SavedState;
      if (saved.version !== 1) throw new Error(`unknown state version ${String(saved.version)}`);
      store.import(saved.store);
      for (const [key, record] of saved.idempotency) idempotency.set(key, record);
      for (const [id, stats] of saved.webhookStats) webhookStats.set(id, stats);
      Object.assign(totals, saved.totals);
      Object.assign(byStatus, saved.byStatus);
      Object.assign(injected, saved.injected);
      idempotentReplays = saved.idempotentReplays;
      logger.info({ stateFile, sessions: saved.store.sessions.length }, 'simulator state restored');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ stateFile, err: error }, 'simulator state not restored; starting empty');
    }
  }
  let saving: Promise<void> = Promise.resolve();
  let saveTimer: NodeJS.Timeout | undefined;
  const saveNow = () => {
    if (!stateFile) return Promise.resolve();
    const state: SavedState = {
      version: 1,
      store: store.export(),
      idempotency: [...idempotency],
      webhookStats: [...webhookStats],
      totals,
      byStatus,
      injected,
      idempotentReplays,
    };
    saving = saving.then(async () => {
      mkdirSync(path.dirname(stateFile), { recursive: true });
      const temporary = `${stateFile}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(state));
      await rename(temporary, stateFile);
    }).catch((error: unknown) => logger.warn({ stateFile, err: error }, 'simulator state not saved'));
    return saving;
  };
  const scheduleSave = () => {
    if (!stateFile || saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      void saveNow();
    }, 200);
    saveTimer.unref();
  };

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 48 * 1024 * 1024,
    forceCloseConnections: true,
    genReqId: () => `req_${randomBytes(8).toString('hex')}`,
  });

  // Empty bodies are fine (stop takes `{}` or nothing); broken JSON is HeyGen's 400, not Fastify's.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new SimError(400, 'invalid_parameter', 'Request body is not valid JSON.'), undefined);
    }
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const endpoint = endpointOf.get(request);
    if (endpoint) {
      byStatus[`${endpoint} ${reply.statusCode}`] = (byStatus[`${endpoint} ${reply.statusCode}`] ?? 0) + 1;
      scheduleSave();
    }
    request.log.debug({ method: request.method, url: request.url.split('?')[0], status: reply.statusCode }, 'simulator request');
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody('not_found', `No route for ${request.method} ${request.url.split('?')[0]}.`));
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error instanceof SimError) return reply.code(error.status).send(errorBody(error.code, error.message, error.param));
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send(errorBody('payload_too_large', 'Request body is too large.'));
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(400).send(errorBody('invalid_parameter', 'Content-Type must be application/json.'));
    }
    if (error.statusCode && error.statusCode < 500) return reply.code(400).send(errorBody('invalid_parameter', error.message));
    request.log.error({ err: error }, 'simulator error');
    return reply.code(500).send(errorBody('internal_error', 'Internal server error.'));
  });

  // -------------------------------------------------------------------------------------------------
  // The /v3 pipeline: auth, latency, faults, idempotency, then the operation.

  const apiKeyOf = (request: FastifyRequest): string => {
    const key = request.headers['x-api-key'];
    const value = Array.isArray(key) ? key[0] : key;
    if (!value || !config.apiKeys.includes(value)) throw new SimError(401, 'unauthorized', 'Invalid or missing API key.');
    return value;
  };

  async function sendFault(fault: Fault, reply: FastifyReply, request: FastifyRequest): Promise<boolean> {
    injected[fault.kind] = (injected[fault.kind] ?? 0) + 1;
    switch (fault.kind) {
      case 'slow':
        await sleep(knobs.slowMs, closing.signal);
        return false; // then answer normally
      case '429':
        await reply
          .code(429)
          .header('retry-after', String(knobs.retryAfterSeconds))
          .send(errorBody('rate_limit_exceeded', 'Too many requests. Retry after the time in Retry-After.'));
        return true;
      case '500':
        await reply.code(500).send(errorBody('internal_error', 'Internal server error.'));
        return true;
      case '502':
        await reply.code(502).type('text/html').send(GATEWAY_PAGE(502, 'Bad Gateway'));
        return true;
      case '503':
        await reply.code(503).type('text/html').send(GATEWAY_PAGE(503, 'Service Temporarily Unavailable'));
        return true;
      case 'malformed':
        await reply.code(200).type('application/json').send('{"data": {"session_id": "sess_');
        return true;
      case 'reset':
        reply.hijack();
        request.raw.socket.destroy();
        return true;
    }
  }

  function route(
    endpoint: EndpointName,
    operation: (apiKey: string, request: FastifyRequest) => Result | Promise<Result>,
  ): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
    return async (request, reply) => {
      totals[endpoint] = (totals[endpoint] ?? 0) + 1;
      endpointOf.set(request, endpoint);
      const apiKey = apiKeyOf(request);
      const sessionId = (request.params as { session_id?: string }).session_id;
      if (knobs.latencyMs > 0) await sleep(knobs.latencyMs, closing.signal);
      const fault = faults.pick(endpoint, sessionId);

      // The key is reserved before any delay, so a duplicate arriving meanwhile sees it in flight.
      const key = WRITE_ENDPOINTS.includes(endpoint) ? (request.headers['idempotency-key'] as string | undefined) : undefined;
      const recordKey = key && `${apiKey}\n${endpoint}\n${sessionId ?? ''}\n${key}`;
      if (recordKey) {
        const existing = idempotency.get(recordKey);
        const fingerprint = canonicalJson(request.body);
        if (existing && existing.expiresAt > Date.now()) {
          if (existing.fingerprint !== fingerprint) {
            throw new SimError(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request body.', 'Idempotency-Key');
          }
          if (!existing.result) throw new SimError(409, 'request_in_progress', 'A request with this Idempotency-Key is still in progress.');
          idempotentReplays++;
          await reply.code(existing.result.status).header('idempotent-replayed', 'true').send(existing.result.body);
          return;
        }
        idempotency.set(recordKey, { fingerprint, expiresAt: Date.now() + IDEMPOTENCY_WINDOW_MS });
      }

      if (fault?.when === 'before' && (await sendFault(fault, reply, request))) {
        if (recordKey) idempotency.delete(recordKey); // nothing happened: the key is free again
        return;
      }
      let result: Result;
      try {
        result = await operation(apiKey, request);
      } catch (error) {
        if (!(error instanceof SimError)) {
          if (recordKey) idempotency.delete(recordKey);
          throw error;
        }
        result = {
          status: error.status,
          body: errorBody(error.code, error.message, error.param),
          headers: error.retryAfterSeconds === undefined ? undefined : { 'retry-after': String(error.retryAfterSeconds) },
        };
      }
      if (recordKey) {
        // A refusal before any work (429) may be retried with the same key; anything else is remembered.
        if (result.status === 429) idempotency.delete(recordKey);
        else idempotency.get(recordKey)!.result = result;
      }
      if (fault?.when === 'after' && (await sendFault(fault, reply, request))) return;
      await reply.code(result.status).headers(result.headers ?? {}).send(result.body);
    };
  }

  const ok = (data: unknown): Result => ({ status: 200, body: { data } });

  app.post(
    '/v3/video-agents',
    route('create_session', (apiKey, request) => {
      const body = parseBody(CreateSessionRequestSchema, request.body);
      let parsed;
      try {
        parsed = parseScenario(body.prompt);
      } catch (error) {
        if (error instanceof ScenarioError) throw new SimError(400, 'invalid_parameter', error.message, 'prompt');
        throw error;
      }
      const key = (request.headers['idempotency-key'] as string | undefined) ?? null;
      const session = store.create(apiKey, body, parsed.prompt, parsed.scenario, key);
      return ok(createResponseWire(session));
    }),
  );

  app.get(
    '/v3/video-agents',
    route('list_sessions', (apiKey, request) => {
      const query = parseBody(ListSessionsQuerySchema, request.query);
      const offset = query.token ? Number(query.token) : 0;
      const { sessions, hasMore } = store.list(apiKey, offset, query.limit);
      return {
        status: 200,
        body: { data: sessions.map(sessionSummaryWire), has_more: hasMore, next_token: hasMore ? String(offset + query.limit) : null },
      };
    }),
  );

  // Static paths: registered as routes of their own, they win over /v3/video-agents/:session_id.
  app.get(
    '/v3/video-agents/styles',
    route('list_styles', (_apiKey, request) => {
      const query = parseBody(ListStylesQuerySchema, request.query);
      const styles = query.tag ? STYLES.filter((style) => (style.tags as string[]).includes(query.tag!)) : STYLES;
      return listPage(styles, query.token, query.limit, (style) => styleWire(style, urls));
    }),
  );

  app.get(
    '/v3/video-agents/:session_id',
    route('get_session', (apiKey, request) => {
      const session = store.get(apiKey, (request.params as { session_id: string }).session_id);
      return ok(sessionWire(store, session));
    }),
  );

  app.post(
    '/v3/video-agents/:session_id',
    route('send_message', (apiKey, request) => {
      const body = parseBody(SendMessageRequestSchema, request.body);
      const { session, runId } = store.sendMessage(apiKey, (request.params as { session_id: string }).session_id, body);
      return ok({ session_id: session.id, run_id: runId, title: session.title });
    }),
  );

  app.get(
    '/v3/video-agents/:session_id/resources/:resource_id',
    route('get_resource', (apiKey, request) => {
      const params = request.params as { session_id: string; resource_id: string };
      const { resource } = store.getResource(apiKey, params.session_id, params.resource_id);
      return ok(resourceWire(store, resource, urls));
    }),
  );

  app.get(
    '/v3/video-agents/:session_id/videos',
    route('list_session_videos', (apiKey, request) => {
      const { videos } = store.listVideos(apiKey, (request.params as { session_id: string }).session_id);
      return { status: 200, body: { data: videos.map((video) => videoWire(store, video, urls)), has_more: false, next_token: null } };
    }),
  );

  app.post(
    '/v3/video-agents/:session_id/stop',
    route('stop_session', (apiKey, request) => {
      const session = store.stop(apiKey, (request.params as { session_id: string }).session_id);
      return ok({ session_id: session.id });
    }),
  );

  app.get(
    '/v3/videos',
    route('list_videos', (apiKey, request) => {
      const query = parseBody(ListVideosQuerySchema, request.query);
      const title = query.title?.toLowerCase();
      const videos = store
        .accountVideos(apiKey)
        // Simulated videos are in no folder, so a folder filter matches none of them.
        .filter((video) => query.folder_id === undefined && (!title || video.title.toLowerCase().includes(title)));
      return listPage(videos, query.token, query.limit, (video) => videoWire(store, video, urls));
    }),
  );

  // Static: registered as its own route, it wins over /v3/videos/:video_id.
  app.get(
    '/v3/videos/statuses',
    route('get_video_statuses', (apiKey, request) => {
      const query = parseBody(VideoStatusesQuerySchema, request.query);
      const items = [
        ...query.video_ids.map((id) => videoStatusItemWire(store, id, store.ownedVideo(apiKey, id)?.video)),
        ...query.batch_ids.map(unknownBatchItemWire),
      ];
      return { status: 200, body: { data: items, has_more: false, next_token: null } };
    }),
  );

  app.get(
    '/v3/videos/:video_id',
    route('get_video', (apiKey, request) => {
      const { video } = store.getVideo(apiKey, (request.params as { video_id: string }).video_id);
      return ok(videoWire(store, video, urls));
    }),
  );

  app.delete(
    '/v3/videos/:video_id',
    route('delete_video', (apiKey, request) => {
      const video = store.deleteVideo(apiKey, (request.params as { video_id: string }).video_id);
      return ok(deleteVideoWire(video));
    }),
  );

  // -------------------------------------------------------------------------------------------------
  // Media behind the presigned URLs

  app.get('/media/:kind/:id/:file', async (request, reply) => {
    const { kind, id, file } = request.params as { kind: string; id: string; file: string };
    const query = request.query as { Expires?: string; Signature?: string };
    const check = urls.check(request.url.split('?')[0]!, query.Expires, query.Signature);
    if (check !== 'ok') {
      return reply.code(403).type('text/plain').send(check === 'expired' ? 'Request has expired' : 'Signature does not match');
    }
    const fault = kind === 'videos' ? faults.pickMedia(id) : undefined;
    if (fault) injected[fault] = (injected[fault] ?? 0) + 1;
    if (fault === 'expired') return reply.code(403).type('text/plain').send('Request has expired');
    if (fault === 'missing') return reply.code(404).type('text/plain').send('Not found');
    if (fault === '503') return reply.code(503).type('text/html').send(GATEWAY_PAGE(503, 'Service Temporarily Unavailable'));
    const media = mediaFile(kind, id, file);
    if (!media) return reply.code(404).type('text/plain').send('Not found');
    return sendMedia(request, reply, media, fault === 'cut', kind === 'videos' ? `${id}/${file}` : undefined);
  });

  /** The file behind a media path, if there is one. */
  function mediaFile(kind: string, id: string, file: string): MediaFile | undefined {
    const media = mediaFiles();
    if (kind === 'videos') {
      const video = store.findVideo(id);
      if (!video || store.videoStatusOf(video) !== 'completed') return undefined;
      if (file === 'video.mp4' || file === 'captioned.mp4') return videoFile(video.bytes);
      if (file === 'thumbnail.png') return bufferFile(media.thumbnail, 'image/png');
      if (file === 'subtitles.srt') return bufferFile(Buffer.from(subtitlesFor(video.title, video.durationSeconds)), 'application/x-subrip');
    }
    if (kind === 'styles' && findStyle(id)) {
      if (file === 'preview.mp4') return bufferFile(media.mp4, 'video/mp4');
      if (file === 'thumbnail.png') return bufferFile(media.thumbnail, 'image/png');
    }
    if (kind === 'resources' && store.findResource(id)) {
      if (file === 'image.png') return bufferFile(media.storyboard, 'image/png');
      if (file === 'thumbnail.png') return bufferFile(media.thumbnail, 'image/png');
    }
    return undefined;
  }

  /**
   * Sends a media file as object storage does: `Range` honoured (one range; 416 past the end), at
   * `mediaBytesPerSecond` when set; `cut` drops the connection halfway through the body.
   */
  function sendMedia(request: FastifyRequest, reply: FastifyReply, media: MediaFile, cut: boolean, counted: string | undefined): FastifyReply {
    const range = byteRange(request.headers.range, media.size);
    if (range === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${media.size}`).send();
    const [start, end] = range ?? [0, media.size - 1];
    reply.header('accept-ranges', 'bytes').header('content-length', String(end - start + 1)).type(media.contentType);
    if (range) reply.code(206).header('content-range', `bytes ${start}-${end}/${media.size}`);
    const cutAt = cut ? start + Math.floor((end - start + 1) / 2) : Infinity;
    const paced = async function* (): AsyncGenerator<Buffer> {
      const began = Date.now();
      let sent = 0;
      for (const chunk of media.read(start, end)) {
        if (closing.signal.aborted) return;
        const part = start + sent + chunk.length > cutAt ? chunk.subarray(0, cutAt - start - sent) : chunk;
        if (counted) mediaBytesServed[counted] = (mediaBytesServed[counted] ?? 0) + part.length;
        if (part !== chunk) {
          yield part;
          throw new Error('simulated connection drop mid-download');
        }
        sent += chunk.length;
        yield chunk;
        const rate = knobs.mediaBytesPerSecond;
        if (rate > 0) await sleep(Math.max(0, (sent / rate) * 1000 - (Date.now() - began)), closing.signal);
      }
    };
    return reply.send(Readable.from(paced()));
  }

  // -------------------------------------------------------------------------------------------------
  // Admin: observe and steer (loopback tools, tests and benchmarks)

  const sessionStats = (session: SimSession) => ({
    session_id: session.id,
    callback_id: session.callbackId,
    idempotency_key: session.idempotencyKey,
    mode: session.mode,
    status: session.status,
    halted: session.halted,
    storyboards: session.storyboards,
    video_ids: session.videos.map((video) => video.id),
    created_at: new Date(session.createdAtMs).toISOString(),
    calls: session.calls,
    messages: session.received,
    // When each step finished, to the millisecond (HeyGen's own timestamps are whole seconds): what a
    // benchmark measures detection lag against.
    steps: session.messages.filter((m) => m.role === 'model').map((m) => ({ type: m.type, at: new Date(m.createdAtMs).toISOString() })),
    videos_ready_at: session.videos.map((v) => (v.final ? new Date(v.final.atMs).toISOString() : null)),
    webhooks: webhookStats.get(session.id) ?? emptyWebhookStats(),
  });

  /** Per key (by fingerprint, configured keys included), the jobs the concurrency cap counts. */
  const activeJobStats = () => {
    const jobs = store.activeJobs();
    for (const apiKey of config.apiKeys) if (!jobs.has(apiKey)) jobs.set(apiKey, { active: 0, max: 0 });
    const keys = Object.fromEntries(
      [...jobs].map(([apiKey, { active, max }]) => [apiKeyFingerprint(apiKey), { active_jobs: active, max_active_jobs: max }]),
    );
    return { max_active_jobs: Math.max(0, ...[...jobs.values()].map((job) => job.max)), keys };
  };

  app.get('/__sim/health', async () => ({ ok: true }));

  app.get('/__sim/stats', async (request) => {
    const query = request.query as { session_id?: string; callback_id?: string };
    const sessions = store
      .all()
      .filter((s) => (!query.session_id || s.id === query.session_id) && (!query.callback_id || s.callbackId === query.callback_id))
      .map(sessionStats);
    return { totals, responses: byStatus, faults_injected: injected, idempotent_replays: idempotentReplays, media_bytes_served: mediaBytesServed, ...activeJobStats(), sessions };
  });

  app.post('/__sim/reset', async () => {
    store.clear();
    dispatcher.reset();
    faults.clear();
    idempotency.clear();
    webhookStats.clear();
    for (const record of [totals, byStatus, injected, mediaBytesServed]) for (const key of Object.keys(record)) delete record[key];
    idempotentReplays = 0;
    knobs = config.knobs;
    return { ok: true };
  });

  app.post('/__sim/sessions/:id/finish-phase', async (request, reply) => {
    const finished = store.finishPhase((request.params as { id: string }).id);
    if (!finished) return reply.code(409).send({ finished, message: 'the session is not thinking or rendering' });
    return { finished };
  });

  app.get('/__sim/config', async () => knobs);
  app.patch('/__sim/config', async (request) => {
    knobs = applyKnobsPatch(knobs, parseBody(SimulatorKnobsPatchSchema, request.body));
    return knobs;
  });

  app.get('/__sim/faults', async () => faults.pending());
  app.post('/__sim/faults', async (request) => {
    const scripted = parseBody(z.union([ScriptedFaultSchema, z.array(ScriptedFaultSchema)]), request.body);
    for (const fault of Array.isArray(scripted) ? scripted : [scripted]) faults.script(fault);
    return faults.pending();
  });
  app.delete('/__sim/faults', async () => {
    faults.clear();
    return [];
  });

  return {
    app,
    webhookSecret: config.webhookSecret,
    store,
    knobs: () => knobs,
    url: () => baseUrl,
    setUrl: (url) => {
      baseUrl = url;
    },
    shutdown: async () => {
      closing.abort();
      dispatcher.close();
      await app.close();
      if (saveTimer) clearTimeout(saveTimer);
      await saveNow();
      store.clear();
    },
  };
}

export interface RunningSimulator {
  /** Base URL, e.g. http://127.0.0.1:4010: pass it as HEYGEN_BASE_URL. */
  url: string;
  port: number;
  handle: SimulatorHandle;
  close: () => Promise<void>;
}

/** Builds the simulator and listens on the configured host and port (0 picks a free port). */
export async function startSimulator(config: SimulatorConfig, logger: Logger): Promise<RunningSimulator> {
  const handle = buildSimulator(config, logger);
  await handle.app.listen({ host: config.host, port: config.port });
  const address = handle.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!config.publicUrl) handle.setUrl(url);
  return { url, port, handle, close: handle.shutdown };
}
