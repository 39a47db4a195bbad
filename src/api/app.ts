/**
 * The HTTP API: Fastify with zod as the single source of the wire schemas (validation, serialisation
 * and the OpenAPI document), one error handler, bearer tokens with scopes and tenants, per-token rate
 * limits, overload protection and Prometheus metrics. Route groups are encapsulated plugins.
 */
import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyUnderPressure from '@fastify/under-pressure';
import type { Client } from '@temporalio/client';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { ApiConfig } from './config';
import { isPretty, type Logger } from '../logging';
import { bearerToken, UNAUTHORIZED_HEADERS, UNAUTHORIZED_MESSAGE } from './auth';
import { CursorCodec } from './cursor';
import { parseJsonBody } from './json-body';
import { PrincipalFirstStore, rateLimitKey } from './rate-limit-store';
import { ApiError, ERROR_STATUS, type ErrorCode } from './errors';
import { createMetrics } from './metrics';
import { describeResponses } from './openapi';
import { packageVersion } from '../paths';
import { reviewPageRoutes } from './routes/review-page';
import { sessionRoutes } from './routes/sessions';
import { createArchiveStore } from '../archive';
import { systemRoutes } from './routes/system';
import { webhookRoutes } from './routes/webhooks';
import { SessionsService } from './sessions';
import { TokenVerifier, type ApiToken } from './tokens';
import { ReviewLinkSigner } from '../review-links';

export interface ApiDependencies {
  config: ApiConfig;
  logger: Logger;
  client: Client;
  tokens: readonly ApiToken[];
}

function sendError(request: FastifyRequest, reply: FastifyReply, code: ErrorCode, message: string, details?: unknown, headers?: Record<string, string>) {
  const status = ERROR_STATUS[code];
  const log = status >= 500 ? request.log.error.bind(request.log) : request.log.info.bind(request.log);
  log({ code, status, route: request.routeOptions.url ?? null }, `request failed: ${message}`);
  return reply
    .code(status)
    .headers(headers ?? {})
    .send({ error: { code, message, requestId: request.id, ...(details === undefined ? {} : { details }) } });
}

/**
 * Everything under /v1 but HeyGen's webhook (which is signed instead) takes a bearer token: unknown
 * routes and methods too, so that routes cannot be listed without one.
 */
const needsToken = (url: string) => /^\/v1(\/|\?|$)/.test(url) && !url.startsWith('/v1/webhooks/');

function sendUnauthorized(request: FastifyRequest, reply: FastifyReply) {
  return sendError(request, reply, 'unauthorized', UNAUTHORIZED_MESSAGE, undefined, UNAUTHORIZED_HEADERS);
}

/**
 * Fastify's own answer to a request Node could not parse, or that did not arrive in time, is JSON of
 * another shape; ours is the error envelope (no body to a HEAD request), then the connection closes.
 */
function answerUnparsableRequest(error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const tooSlow = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const status = tooLarge ? 431 : tooSlow ? 408 : 400;
  const body = JSON.stringify({
    error: {
      code: tooLarge ? 'headers_too_large' : tooSlow ? 'request_timeout' : 'invalid_request',
      message: tooLarge
        ? 'The request headers are too large.'
        : tooSlow
          ? 'The request did not arrive in time (API_REQUEST_TIMEOUT, API_HEADERS_TIMEOUT).'
          : 'The request is not valid HTTP (a URL may only hold ASCII; percent-encode the rest).',
      requestId: `req_${randomBytes(8).toString('hex')}`,
    },
  });
  const head = Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`,
  );
}

export async function buildApi({ config, logger, client, tokens }: ApiDependencies): Promise<FastifyInstance> {
  // Without a shared secret, review links work only on this instance, until it stops.
  if (!config.api.reviewLinks.secret) logger.info('review links last only as long as this process (REVIEW_LINK_SECRET is not set)');
  const reviewLinks = new ReviewLinkSigner(config.api.reviewLinks.secret ?? randomBytes(32));
  const verifier = new TokenVerifier(tokens, reviewLinks);
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.api.bodyLimit,
    forceCloseConnections: true,
    // A slow client (headers or a body trickling in) is cut off, token or not; Node checks its
    // connections this often, so the timeouts hold to within a second.
    requestTimeout: config.api.requestTimeoutMs,
    http: { headersTimeout: config.api.headersTimeoutMs, connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(config.api.headersTimeoutMs / 2))) },
    // Session ids may be up to 200 characters; the router's own limit is 100.
    routerOptions: { maxParamLength: 256 },
    // Requests the router rejects before any route (bad URL encoding, over-long params) get our envelope
    // too, and on token routes a 401 first when the token is not valid: nothing is checked for a caller
    // without one. The router's messages quote the URL, which may be long or hostile: ours do not.
    frameworkErrors: (error, request, reply) => {
      if (needsToken(request.url) && !verifier.verify(bearerToken(request) ?? '')) return void sendUnauthorized(request, reply);
      const message =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'A path parameter is too long (session ids are at most 200 characters).'
          : error.code === 'FST_ERR_BAD_URL'
            ? 'The URL is not validly percent-encoded.'
            : 'The request is not valid.';
      void sendError(request, reply, 'invalid_request', message);
    },
    // Requests Node's HTTP parser refuses (bytes that are not allowed in a URL, over-long headers).
    clientErrorHandler: answerUnparsableRequest,
    // A caller's request id is kept when it looks like one, so its logs and ours line up.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._:-]{8,100}$/.test(given) ? given : `req_${randomBytes(8).toString('hex')}`;
    },
  });
  // JSON only, in UTF-8: other content types get 415 rather than being parsed as text.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, async (request: FastifyRequest, body: Buffer) => parseJsonBody(request, body));
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('principal', null);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ApiError) return sendError(request, reply, error.code, error.message, error.details, error.headers);
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'request';
      const details = error.validation.map((issue) => ({
        in: where,
        path: issue.instancePath.replace(/^\//, '').replace(/\//g, '.') || (issue.params.issue as { path?: unknown[] } | undefined)?.path?.join('.') || '',
        message: issue.message ?? 'invalid',
      }));
      return sendError(request, reply, 'invalid_request', `The ${where} is not valid: ${details.map((d) => `${d.path || where}: ${d.message}`).join('; ')}`, details);
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(request, reply, 'payload_too_large', `The body is larger than ${config.api.bodyLimit} bytes. Send attachments as asset ids or URLs.`);
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(request, reply, 'unsupported_media_type', 'Send JSON (Content-Type: application/json).');
    if (error.code === 'FST_UNDER_PRESSURE') {
      return sendError(request, reply, 'overloaded', 'The service is overloaded; retry shortly.', undefined, { 'retry-after': '5' });
    }
    if (error.statusCode === 429) return sendError(request, reply, 'rate_limited', 'Too many requests; retry after the time in Retry-After.');
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(request, reply, 'invalid_request', error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError ? 'The body is not valid JSON.' : error.message);
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendError(request, reply, 'internal_error', 'Something went wrong on our side; the request id identifies it in our logs.');
  });

  const metrics = createMetrics();
  // One line per request: for a log pipeline at info; on a person's terminal only at debug.
  const logRequest = isPretty(config.logFormat) ? 'debug' : 'info';
  app.addHook('onResponse', async (request, reply) => {
    metrics.observe(request, reply);
    request.log[logRequest](
      { method: request.method, route: request.routeOptions.url ?? null, status: reply.statusCode, ms: Math.round(reply.elapsedTime), by: request.principal?.name },
      'request',
    );
  });

  await app.register(fastifyUnderPressure, { maxEventLoopDelay: config.api.maxEventLoopDelayMs, retryAfter: 5 });
  await app.register(fastifyRateLimit, {
    max: config.api.rateLimitPerMinute,
    timeWindow: '1 minute',
    // Per verified token (its name), else per address: made-up tokens neither bypass the address's limit
    // nor, by their number (or by the number of addresses), push a real token's count out of the store.
    keyGenerator: (request) => rateLimitKey(request, verifier, bearerToken(request)),
    store: PrincipalFirstStore,
    errorResponseBuilder: (_request, context) => ({ statusCode: 429, message: `retry in ${context.after}` }),
    // Counted in an app-level hook, so every request (unknown routes too) is counted before the
    // route's own hooks: a request refused for its token still counts against its address.
    global: false,
  });
  // Beyond it, Node closes new connections at once: sockets held open (slow clients, streams) cannot take
  // the process's file descriptors.
  app.server.maxConnections = config.api.maxConnections;
  const countRequest = app.rateLimit();
  // Health, readiness, metrics and HeyGen's (signed) webhook are exempt (`config: { rateLimit: false }`):
  // one client's flood from behind a shared proxy must fail neither the health checks nor HeyGen's
  // deliveries.
  app.addHook('onRequest', async (request, reply) => {
    if ((request.routeOptions.config as { rateLimit?: unknown } | undefined)?.rateLimit === false) return;
    await countRequest.call(app, request, reply);
  });
  app.setNotFoundHandler((request, reply) => {
    if (needsToken(request.url) && !verifier.verify(bearerToken(request) ?? '')) return sendUnauthorized(request, reply);
    return sendError(request, reply, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}.`);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'video-agent-orchestrator',
        description: 'HeyGen Video Agent sessions, run durably on Temporal: start them, review their storyboards, approve, get the video.',
        version: packageVersion(),
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      tags: [
        { name: 'sessions', description: 'Video Agent sessions' },
        { name: 'webhooks', description: 'Callbacks from HeyGen' },
        { name: 'system', description: 'Health, readiness, metrics' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: (document) => describeResponses(jsonSchemaTransformObject(document)),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  // Without a shared secret, cursors are only good on the instance (and process) that issued them.
  const cursors = new CursorCodec(config.api.cursorSecret ? Buffer.from(config.api.cursorSecret, 'utf8') : randomBytes(32));
  const sessions = new SessionsService(client, config, logger.child({ component: 'sessions' }), cursors, reviewLinks);
  // Closing: the connection to Temporal is closed after this, so the calls under way finish first.
  app.addHook('onClose', () => sessions.settle());
  await app.register(systemRoutes, { sessions, metrics });
  await app.register(sessionRoutes, {
    prefix: '/v1',
    sessions,
    verifier,
    streamIntervalMs: config.api.streamIntervalMs,
    streamCaps: config.api.streams,
    metrics,
    publicUrl: config.api.reviewLinks.publicUrl,
    archive: createArchiveStore(config.api.archive),
  });
  await app.register(reviewPageRoutes);
  // No secret, no route: an unsigned (or publicly signed) webhook must never wake a session.
  if (config.api.webhookSecret) await app.register(webhookRoutes, { prefix: '/v1/webhooks', sessions, secret: config.api.webhookSecret });
  else logger.info('HeyGen webhooks are off (HEYGEN_WEBHOOK_SECRET is not set)');
  await app.ready();
  return app;
}
