/**
 * The API process's configuration (`npm run api`): logging, Temporal, and the API's own variables. It
 * reads nothing of the worker's: no HeyGen key, no governor settings.
 */
import { z } from 'zod';
import { SessionTimingOverridesSchema } from '../contract/session-schemas';
import { ConfigError, duration, httpUrl, loggingConfig, loggingEnv, nonEmpty, parseEnv, port, positiveInt } from '../config/env';
import { tokensEnv } from '../config/tokens';
import { notifyTargetEnv, notifyTargetSection } from '../config/notify';
import { reviewLinksEnv, reviewLinksSection } from '../config/review-links';
import { archiveEnv, archiveSection } from '../config/archive';
import { temporalConfig, temporalEnv } from '../config/temporal';
import { jsonText } from '../contract/json-text';

export const apiEnv = {
  HOST: nonEmpty.default('127.0.0.1'),
  PORT: port.default(3000),
  ...tokensEnv,
  API_BODY_LIMIT: positiveInt.default(1_048_576),
  API_RATE_LIMIT: positiveInt.default(600),
  API_QUERY_TIMEOUT: duration.default(3_000),
  API_TEMPORAL_TIMEOUT: duration.default(5_000),
  API_DECISION_WAIT: duration.default(5_000),
  API_MAX_EVENT_LOOP_DELAY: duration.default(1_000),
  API_STREAM_INTERVAL: duration.default(500),
  API_STREAMS_PER_TOKEN: positiveInt.default(20),
  API_STREAMS_MAX: positiveInt.default(500),
  API_REQUEST_TIMEOUT: duration.default(30_000),
  API_HEADERS_TIMEOUT: duration.default(10_000),
  API_MAX_CONNECTIONS: positiveInt.default(4_096),
  API_CURSOR_SECRET: z.string().min(16, { error: 'expected a secret of at least 16 characters' }).optional(),
  HEYGEN_WEBHOOK_SECRET: z.string().min(8, { error: 'expected a secret of at least 8 characters' }).optional(),
  HEYGEN_WEBHOOK_URL: httpUrl.optional(),
  ...notifyTargetEnv,
  ...reviewLinksEnv,
  ...archiveEnv,
  SESSION_TIMING: jsonText(SessionTimingOverridesSchema, 'expected a JSON object such as {"pollInitial":"5s","pollMax":"1m"}').optional(),
};

const apiEnvSchema = z.object({ ...loggingEnv, ...temporalEnv, ...apiEnv });

export function apiSection(env: z.output<z.ZodObject<typeof apiEnv>> & { DATA_DIR: string }) {
  if (env.API_HEADERS_TIMEOUT > env.API_REQUEST_TIMEOUT) {
    throw new ConfigError([{ variable: 'API_HEADERS_TIMEOUT', problem: `must not be longer than API_REQUEST_TIMEOUT (${env.API_REQUEST_TIMEOUT} ms): the headers are part of the request` }]);
  }
  return {
    host: env.HOST,
    port: env.PORT,
    tokens: env.API_TOKENS,
    tokensFile: env.API_TOKENS_FILE,
    bodyLimit: env.API_BODY_LIMIT,
    rateLimitPerMinute: env.API_RATE_LIMIT,
    queryTimeoutMs: env.API_QUERY_TIMEOUT,
    temporalTimeoutMs: env.API_TEMPORAL_TIMEOUT,
    decisionWaitMs: env.API_DECISION_WAIT,
    maxEventLoopDelayMs: env.API_MAX_EVENT_LOOP_DELAY,
    /**
     * A request's headers and body must have arrived within this (408, and the connection closes). A live
     * event stream is a GET whose request is complete at once: its response may last as long as it likes.
     */
    requestTimeoutMs: env.API_REQUEST_TIMEOUT,
    /** A request's headers must have arrived within this. */
    headersTimeoutMs: env.API_HEADERS_TIMEOUT,
    /** Open connections at most (live streams included); more are closed as they come. */
    maxConnections: env.API_MAX_CONNECTIONS,
    /** How often a live event stream reads its session's state. */
    streamIntervalMs: env.API_STREAM_INTERVAL,
    /** Live event streams open at once: per token (a review link counts as its own) and per process. */
    streams: { perToken: env.API_STREAMS_PER_TOKEN, max: env.API_STREAMS_MAX },
    /** Signs listing cursors; shared by instances behind one address so a cursor works on any of them. */
    cursorSecret: env.API_CURSOR_SECRET,
    /** Verifies `Heygen-Signature`. Never defaulted: `npm start` passes its embedded simulator's own. */
    webhookSecret: env.HEYGEN_WEBHOOK_SECRET,
    /** Read only to refuse a start where HeyGen would call back and nothing could verify it. */
    webhookUrl: env.HEYGEN_WEBHOOK_URL,
    /** Whether `notify` URLs may name loopback or private addresses (`npm start` allows them). */
    notifyAllowPrivate: notifyTargetSection(env).allowPrivate,
    /** Ports `notify` URLs may never name (`npm start` adds the ports of the parts it started). */
    notifyDeniedPorts: notifyTargetSection(env).deniedPorts,
    /** Review links (`POST /v1/sessions/:id/review-links`, the review page). */
    reviewLinks: reviewLinksSection(env),
    /** Polling and limit overrides for the sessions the API starts (see docs/session-workflow.md). */
    sessionTiming: env.SESSION_TIMING,
    /** Where the worker archives finished videos, served by `GET /v1/sessions/:id/video/content`. */
    archive: archiveSection(env),
  };
}

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseEnv(apiEnvSchema, env);
  return { ...loggingConfig(parsed), ...temporalConfig(parsed), api: apiSection(parsed) };
}
export type ApiConfig = ReturnType<typeof loadApiConfig>;
