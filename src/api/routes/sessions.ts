/**
 * /v1/sessions: start sessions, read and list them, approve or send messages, stop them, get the video.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize, bearerToken, requireScope } from '../auth';
import { streamSessionEvents, type Refusal } from '../session-events';
import { SessionFeeds } from '../session-feeds';
import { StreamLimits, type StreamCaps } from '../stream-limits';
import { rateLimitKey } from '../rate-limit-store';
import type { ApiMetrics } from '../metrics';
import { ApiError, notFound } from '../errors';
import {
  ApproveBodySchema,
  CapacityResponseSchema,
  CreateSessionBodySchema,
  CreateSessionResponseSchema,
  DecisionAcceptedSchema,
  ErrorResponseSchema,
  ListSessionsQuerySchema,
  ListSessionsResponseSchema,
  MessageBodySchema,
  ReviewLinkBodySchema,
  ReviewLinkResponseSchema,
  RevokeLinkParamsSchema,
  RevokeLinkResponseSchema,
  SessionParamsSchema,
  SessionViewSchema,
  StopResponseSchema,
  VideoContentQuerySchema,
  VideoResponseSchema,
} from '../../contract/api';
import { byteRange } from '../../contract/byte-range';
import type { ArchiveEntry, SessionState } from '../../contract/session';
import { ArchiveMismatch, type ArchiveStore } from '../../archive/store';
import { sessionLinks } from '../../contract/session';
import { newRequestId, refuseRevokedLink, type DecisionInput, type SessionsService } from '../sessions';
import type { Principal, TokenVerifier } from '../tokens';
import { REQUEST_ID_MAX } from '../../contract/session';

/**
 * `Idempotency-Key`: optional, 1-200 visible ASCII characters (on decisions it becomes the signal's
 * `requestId`, which has the same limit). Other headers pass through untouched.
 */
const IdempotencyHeadersSchema = z.looseObject({
  'idempotency-key': z
    .string()
    .regex(new RegExp(`^[\\x21-\\x7e]{1,${REQUEST_ID_MAX}}$`), { error: `expected 1-${REQUEST_ID_MAX} visible ASCII characters` })
    .optional()
    .meta({ description: 'Makes the request safe to repeat: the same key returns the first outcome.' }),
});

const errors = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, ErrorResponseSchema]));
const COMMON_ERRORS = [400, 401, 403, 404, 429, 503];
const security = [{ bearer: [] }];

function principal(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError('unauthorized', 'A valid bearer token is required.');
  return request.principal;
}

/**
 * What a request with the stream's credential would be told now, if it would be refused: the same
 * checks as on opening (auth.ts, then whether it may see the session), so whatever revokes a token or a
 * link ends its streams too.
 */
function refusalNow(check: () => boolean): Refusal | undefined {
  try {
    if (check()) return undefined;
    const gone = notFound();
    return { code: gone.code, message: gone.message };
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, message: error.message };
    throw error;
  }
}

/**
 * Sends an archived file as a download: `Range` honoured (one range, 416 past the end), its SHA-256 as
 * the ETag. 409 video_not_archived when this instance cannot reach it.
 */
async function sendArchivedFile(request: FastifyRequest, reply: FastifyReply, sessionId: string, entry: ArchiveEntry, store: ArchiveStore | null): Promise<FastifyReply> {
  if (!store || store.kind !== entry.store) {
    throw new ApiError('video_not_archived', `The ${entry.file} file is archived in ${entry.store} storage, which this API instance is not configured to read (ARCHIVE, ARCHIVE_DIR).`);
  }
  const filename = `${sessionId}-${entry.key.split('/').pop()}`;
  // In a bucket: a short-lived link straight to it (the bytes need not pass through the API).
  if (store.presignedUrl) return reply.redirect(await store.presignedUrl(entry.key, filename), 302);
  const range = byteRange(request.headers.range, entry.size);
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${entry.size}`);
    throw new ApiError('range_not_satisfiable', `The range ${request.headers.range} is past the end of the file (${entry.size} bytes).`, { size: entry.size });
  }
  const [start, end] = range ?? [0, entry.size - 1];
  const body = await store.read(entry.key, { start, end }, entry.size).catch((error: unknown) => {
    // Never the entry's ETag on other bytes.
    if (error instanceof ArchiveMismatch) {
      throw new ApiError('video_not_archived', `The archived ${entry.file} file does not match its archive entry (${error.message}).`, { file: entry.file });
    }
    throw error;
  });
  if (!body) throw new ApiError('video_not_archived', `The archived ${entry.file} file is missing from storage (${entry.key}).`, { file: entry.file });
  reply
    .header('accept-ranges', 'bytes')
    .header('content-type', entry.contentType)
    .header('content-length', String(end - start + 1))
    .header('etag', `"${entry.sha256}"`)
    .header('content-disposition', `attachment; filename="${filename}"`);
  if (range) reply.code(206).header('content-range', `bytes ${start}-${end}/${entry.size}`);
  return reply.send(body);
}

/**
 * `timing` sets how often workers read HeyGen and how long phases may last: the operator's, for every
 * session (SESSION_TIMING), so a caller asking for it is told so rather than given zod's "unrecognized key".
 */
async function refuseTiming(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (body && typeof body === 'object' && 'timing' in body) {
    throw new ApiError('invalid_request', 'timing is not part of the body: the operator sets it for every session with SESSION_TIMING.');
  }
}

export const sessionRoutes: FastifyPluginAsync<{
  sessions: SessionsService;
  verifier: TokenVerifier;
  streamIntervalMs: number;
  streamCaps: StreamCaps;
  metrics: ApiMetrics;
  publicUrl: string | undefined;
  archive: ArchiveStore | null;
}> = async (app, { sessions, verifier, streamIntervalMs, streamCaps, metrics, publicUrl, archive }) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const scope = (name: Parameters<typeof requireScope>[1]) => requireScope(verifier, name);
  /** For the routes a review link may use too (on its own session only). */
  const scopeOrLink = (name: Parameters<typeof requireScope>[1]) => requireScope(verifier, name, { reviewLinks: true });

  routes.post(
    '/sessions',
    {
      onRequest: scope('sessions:create'),
      preValidation: refuseTiming,
      schema: {
        tags: ['sessions'],
        summary: 'Start a session',
        description: 'Starts a HeyGen Video Agent session. With an Idempotency-Key, repeating the request returns the same session (200).',
        security,
        headers: IdempotencyHeadersSchema,
        body: CreateSessionBodySchema,
        response: { 201: CreateSessionResponseSchema, 200: CreateSessionResponseSchema, ...errors(...COMMON_ERRORS, 413, 422) },
      },
    },
    async (request, reply) => {
      const created = await sessions.create(principal(request), request.body, request.headers['idempotency-key']);
      reply.code(created.created ? 201 : 200).header('location', sessionLinks(created.id).self);
      return { id: created.id, status: created.status, links: sessionLinks(created.id) };
    },
  );

  routes.get(
    '/sessions',
    {
      onRequest: scope('sessions:read'),
      schema: {
        tags: ['sessions'],
        summary: 'List sessions',
        description: "Your tenant's sessions, newest first, optionally by status; pass nextCursor back as cursor for the next page.",
        security,
        querystring: ListSessionsQuerySchema,
        response: { 200: ListSessionsResponseSchema, ...errors(...COMMON_ERRORS) },
      },
    },
    async (request) => sessions.list(principal(request), request.query),
  );

  routes.get(
    '/sessions/:id',
    {
      onRequest: scopeOrLink('sessions:read'),
      schema: {
        tags: ['sessions'],
        summary: 'Read a session',
        description: 'The session snapshot: phase, HeyGen status, the review packet at a checkpoint, the video, the action log.',
        security,
        params: SessionParamsSchema,
        response: { 200: SessionViewSchema, ...errors(...COMMON_ERRORS) },
      },
    },
    async (request) => sessions.state(principal(request), request.params.id),
  );

  const streams = new Set<ServerResponse>();
  const feeds = new SessionFeeds(streamIntervalMs);
  const streamLimits = new StreamLimits(streamCaps);
  metrics.followStreams({ open: () => streamLimits.open, sessions: () => feeds.stats.sessions, reads: () => feeds.stats.reads });
  // On shutdown each stream is told so and ends, before the server closes its connections.
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end('event: shutdown\ndata: {}\n\n');
    feeds.close();
  });

  routes.get(
    '/sessions/:id/events',
    {
      // A stream has no head to give on its own.
      exposeHeadRoute: false,
      onRequest: scopeOrLink('sessions:read'),
      schema: {
        tags: ['sessions'],
        summary: 'Follow a session live (Server-Sent Events)',
        description:
          'text/event-stream: `snapshot` (the whole state) at once, then one event per change: `message`, `review`, `queue`, `progress`, `video`, `phase`; `end` when the session has ended, and the stream closes. `revoked` `{code, message}` when the credential no longer allows the stream (checked again before each read is passed on: an expired review link ends it), then it closes. `shutdown` if the API stops first: reconnect. Open streams are capped per token and per instance: one more is 429 too_many_streams with Retry-After.',
        security,
        params: SessionParamsSchema,
        response: { 200: z.string().meta({ description: 'An event stream.' }), ...errors(...COMMON_ERRORS) },
      },
    },
    async (request, reply) => {
      // A place is taken before anything is read, so refused streams cost Temporal nothing.
      const credential = bearerToken(request);
      const release = streamLimits.take(rateLimitKey(request, verifier, credential));
      try {
        // Everything that can fail with a status (auth, 404, no worker) fails before the stream starts.
        const { first, next, opensFor } = await sessions.follow(principal(request), request.params.id);
        reply.hijack();
        streams.add(reply.raw);
        reply.raw.once('close', () => streams.delete(reply.raw));
        const reauthorise = (state?: SessionState) =>
          refusalNow(() => {
            const now = authorize(verifier, credential, 'sessions:read', { reviewLinks: true });
            if (state) refuseRevokedLink(now, state);
            return opensFor(now);
          });
        await streamSessionEvents(reply.raw, { id: request.params.id, first, next, feeds, reauthorise });
      } finally {
        release();
      }
    },
  );

  /** Approve and messages: the decision with its request id (the Idempotency-Key, or a new one). */
  const decide = async (request: FastifyRequest, reply: FastifyReply, id: string, key: string | undefined, decision: Omit<DecisionInput, 'requestId'>) => {
    const requestId = key ?? newRequestId();
    const result = await sessions.decide(principal(request), id, { ...decision, requestId });
    if (result.outcome === 'applied') return result.state;
    reply.code(202);
    return { id, requestId, status: 'accepted' as const };
  };

  const decisionResponses = {
    200: SessionViewSchema,
    202: DecisionAcceptedSchema,
    ...errors(...COMMON_ERRORS, 409, 502),
  };

  routes.post(
    '/sessions/:id/approve',
    {
      onRequest: scopeOrLink('sessions:review'),
      schema: {
        tags: ['sessions'],
        summary: 'Approve the storyboard',
        description:
          '200 with the new state once HeyGen has the approval; 202 if no worker answered in time (the approval is queued durably); 409 not_awaiting_input when the session is not at a checkpoint.',
        security,
        headers: IdempotencyHeadersSchema,
        params: SessionParamsSchema,
        body: ApproveBodySchema.nullish(),
        response: decisionResponses,
      },
    },
    async (request, reply) =>
      decide(request, reply, request.params.id, request.headers['idempotency-key'], { kind: 'approve', message: request.body?.message }),
  );

  routes.post(
    '/sessions/:id/messages',
    {
      onRequest: scopeOrLink('sessions:review'),
      schema: {
        tags: ['sessions'],
        summary: 'Send a message (a revision request, or an answer)',
        description: 'At review, a revision request; when the agent asked a question, the answer. Responses as for approve.',
        security,
        headers: IdempotencyHeadersSchema,
        params: SessionParamsSchema,
        body: MessageBodySchema,
        response: decisionResponses,
      },
    },
    async (request, reply) => decide(request, reply, request.params.id, request.headers['idempotency-key'], { kind: 'message', ...request.body }),
  );

  routes.post(
    '/sessions/:id/review-links',
    {
      onRequest: scope('sessions:review'),
      schema: {
        tags: ['sessions'],
        summary: 'Make a review link',
        description:
          'A signed link to the review page of this session, for someone without a token: it reads the session and approves or requests changes, nothing else, until it expires (default 7d). What is sent with it is recorded as `link:<name>`. Revoked alone by its id (DELETE .../review-links/:linkId); all at once by rotating, moving, re-scoping or removing the minting token, or by changing REVIEW_LINK_SECRET.',
        security,
        params: SessionParamsSchema,
        body: ReviewLinkBodySchema.nullish(),
        response: { 201: ReviewLinkResponseSchema, ...errors(...COMMON_ERRORS) },
      },
    },
    async (request, reply) => {
      // Links are absolute: API_PUBLIC_URL, else the address this request came to.
      const base = publicUrl ?? `${request.protocol}://${request.host}`;
      reply.code(201);
      return sessions.reviewLink(principal(request), request.params.id, request.body ?? {}, base);
    },
  );

  routes.delete(
    '/sessions/:id/review-links/:linkId',
    {
      onRequest: scope('sessions:review'),
      schema: {
        tags: ['sessions'],
        summary: 'Revoke a review link',
        description:
          'The link (by the id minting answered) stops working on every API instance at its next use, streams included. 409 session_finished once the session has ended (rotate the minting token instead). Idempotent.',
        security,
        params: RevokeLinkParamsSchema,
        response: { 200: RevokeLinkResponseSchema, ...errors(...COMMON_ERRORS, 409) },
      },
    },
    async (request) => sessions.revokeReviewLink(principal(request), request.params.id, request.params.linkId),
  );

  routes.post(
    '/sessions/:id/stop',
    {
      onRequest: scope('sessions:stop'),
      schema: {
        tags: ['sessions'],
        summary: 'Stop a session',
        description: 'Cancels the session, which stops it at HeyGen. Idempotent.',
        security,
        params: SessionParamsSchema,
        response: { 202: StopResponseSchema, ...errors(...COMMON_ERRORS) },
      },
    },
    async (request, reply) => {
      reply.code(202);
      return { id: request.params.id, status: await sessions.stop(principal(request), request.params.id) };
    },
  );

  routes.get(
    '/capacity',
    {
      onRequest: scope('sessions:read'),
      schema: {
        tags: ['sessions'],
        summary: 'HeyGen job slots',
        description:
          'Per HeyGen account: the slot limit, the sessions holding slots (with their phase: parked ones wait for a reviewer) and the queue. Sessions of other tenants are only counted.',
        security,
        response: { 200: CapacityResponseSchema, ...errors(...COMMON_ERRORS) },
      },
    },
    async (request) => sessions.capacity(principal(request)),
  );

  routes.get(
    '/sessions/:id/video',
    {
      onRequest: scopeOrLink('sessions:read'),
      schema: {
        tags: ['sessions'],
        summary: 'Get the video',
        description:
          'The finished video: HeyGen\'s info (its URLs are presigned and expire) and `archive`, our own copy of its files (location, size, SHA-256). 409 video_not_ready before HeyGen has finished it.',
        security,
        params: SessionParamsSchema,
        response: { 200: VideoResponseSchema, ...errors(...COMMON_ERRORS, 409) },
      },
    },
    async (request) => ({ sessionId: request.params.id, ...(await sessions.video(principal(request), request.params.id)) }),
  );

  routes.get(
    '/sessions/:id/video/content',
    {
      onRequest: scopeOrLink('sessions:read'),
      schema: {
        tags: ['sessions'],
        summary: 'Download the archived video',
        description:
          'One archived file of the finished video (`file`: video by default; captioned, subtitles, thumbnail, gif), streamed from our archive: it outlives HeyGen\'s links. `Range` is honoured (206; 416 past the end); the ETag is the file\'s SHA-256. 409 video_not_ready before the video is finished, video_not_archived while it is not archived (yet, or at all).',
        security,
        params: SessionParamsSchema,
        querystring: VideoContentQuerySchema,
        response: errors(...COMMON_ERRORS, 409, 416),
      },
    },
    async (request, reply) => {
      const entry = await sessions.archivedFile(principal(request), request.params.id, request.query.file);
      return sendArchivedFile(request, reply, request.params.id, entry, archive);
    },
  );
};
