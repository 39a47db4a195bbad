/**
 * The worker process's configuration (`npm run worker`): logging, Temporal, HeyGen (the key is read here
 * and nowhere else) and the worker's own variables. It reads nothing of the API's.
 */
import { z } from 'zod';
import { DEFAULT_SIMULATOR_API_KEY, DEFAULT_SIMULATOR_PORT } from './contract/simulator';
import { NOTIFY_ACTIVITY_TIMEOUT_MS } from './contract/notifications';
import { boolean, duration, httpUrl, ipAddress, loggingConfig, loggingEnv, nonEmpty, parseEnv, positiveInt } from './config/env';
import { temporalConfig, temporalEnv } from './config/temporal';
import { tokensEnv } from './config/tokens';
import { notifyTargetEnv, notifyTargetSection } from './config/notify';
import { reviewLinksEnv, reviewLinksSection } from './config/review-links';
import { archiveEnv, archiveSection } from './config/archive';
import { workerDeploymentEnv, workerDeploymentSection } from './config/worker-deployment';

/**
 * Sessions a worker keeps in memory (about 0.5 MiB each). The SDK's own default grows with the heap
 * (about 2,000 on a 4 GiB heap); a bound keeps a worker's memory flat however many sessions are parked. A
 * session out of the cache is replayed from its history on its next event (tens of milliseconds), which
 * makes that event slower. 100 is ten times the sessions HeyGen lets work at once by default
 * (HEYGEN_MAX_CONCURRENT): the rest are parked or queued and need a worker only at their next event.
 * See README, "Worker memory".
 */
const DEFAULT_MAX_CACHED_WORKFLOWS = 100;

/**
 * Notification attempts one worker process runs at once, on the notifications task queue (slots apart from
 * the sessions' own), and of those at most this many for one tenant: a slow receiver holds at most its
 * tenant's share, for at most NOTIFY_TIMEOUT per attempt.
 */
const DEFAULT_NOTIFY_MAX_CONCURRENT = 10;
const DEFAULT_NOTIFY_MAX_PER_TENANT = 2;
const MAX_NOTIFY_TIMEOUT_MS = NOTIFY_ACTIVITY_TIMEOUT_MS - 5_000;

/** Prometheus' conventional port for an application's own exporter (the OpenTelemetry SDKs' default). */
const DEFAULT_METRICS_PORT = 9464;

export const workerEnv = {
  HEYGEN_API_KEY: nonEmpty.optional(),
  HEYGEN_BASE_URL: httpUrl.optional(),
  HEYGEN_WEBHOOK_URL: httpUrl.optional(),
  HEYGEN_MAX_CONCURRENT: z.coerce
    .number({ error: 'expected a whole number (0 turns the governor off)' })
    .int({ error: 'expected a whole number (0 turns the governor off)' })
    .min(0, { error: 'expected a whole number (0 turns the governor off)' })
    .max(10_000, { error: 'expected at most 10000' })
    .default(10),
  HEYGEN_HOLD_SLOT_IN_REVIEW: boolean.default(true),
  HEYGEN_SLOT_RECLAIM_INTERVAL: duration.default(30_000),
  WORKER_SHUTDOWN_GRACE: duration.default(30_000),
  WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(100),
  WORKER_MAX_CACHED_WORKFLOWS: positiveInt.default(DEFAULT_MAX_CACHED_WORKFLOWS),
  TEMPORAL_WORKFLOW_BUNDLE: nonEmpty.optional(),
  // The Worker Deployment and build this worker polls as (sessions stay on the build that started them).
  ...workerDeploymentEnv,
  WORKER_METRICS_PORT: z.coerce
    .number({ error: 'expected a port number between 1 and 65535, or 0 to serve no metrics' })
    .int({ error: 'expected a port number between 1 and 65535, or 0 to serve no metrics' })
    .min(0, { error: 'expected a port number between 1 and 65535, or 0 to serve no metrics' })
    .max(65535, { error: 'expected a port number between 1 and 65535, or 0 to serve no metrics' })
    .default(DEFAULT_METRICS_PORT),
  WORKER_METRICS_HOST: ipAddress.default('127.0.0.1'),
  WORKER_METRICS_COUNT_INTERVAL: duration.default(30_000),
  // Only each token's notifySecret is used here: it signs the notifications of the sessions it started.
  ...tokensEnv,
  ...notifyTargetEnv,
  // Notifications run on a task queue of their own, served by a worker of their own (src/worker.ts).
  NOTIFY_MAX_CONCURRENT: positiveInt.max(1_000, { error: 'expected at most 1000' }).default(DEFAULT_NOTIFY_MAX_CONCURRENT),
  NOTIFY_MAX_PER_TENANT: positiveInt.max(1_000, { error: 'expected at most 1000' }).default(DEFAULT_NOTIFY_MAX_PER_TENANT),
  NOTIFY_TIMEOUT: duration
    .refine((ms) => ms >= 1_000 && ms <= MAX_NOTIFY_TIMEOUT_MS, {
      error: `expected a duration from 1s to ${MAX_NOTIFY_TIMEOUT_MS / 1000}s (an attempt must end before its activity's ${NOTIFY_ACTIVITY_TIMEOUT_MS / 1000} s timeout)`,
    })
    .default(10_000),
  // Only to put a review link in each session.awaiting_review notification.
  ...reviewLinksEnv,
  ...archiveEnv,
};

const workerEnvSchema = z.object({ ...loggingEnv, ...temporalEnv, ...workerEnv });

export function workerSections(env: z.output<z.ZodObject<typeof workerEnv>> & { DATA_DIR: string }) {
  return {
    heygen: {
      /** Without a key the service talks to the HeyGen simulator (`npm run simulator`), never to HeyGen. */
      simulator: env.HEYGEN_API_KEY === undefined,
      apiKey: env.HEYGEN_API_KEY ?? DEFAULT_SIMULATOR_API_KEY,
      baseUrl: (env.HEYGEN_BASE_URL ?? (env.HEYGEN_API_KEY ? 'https://api.heygen.com' : `http://127.0.0.1:${DEFAULT_SIMULATOR_PORT}`)).replace(/\/+$/, ''),
      /** Our webhook receiver, given to HeyGen as `callback_url`. */
      webhookUrl: env.HEYGEN_WEBHOOK_URL,
      /** The concurrency governor: job slots per account, and whether a parked session keeps its slot. */
      governor: {
        maxConcurrent: env.HEYGEN_MAX_CONCURRENT,
        holdSlotWhileParked: env.HEYGEN_HOLD_SLOT_IN_REVIEW,
        reclaimCheckMs: env.HEYGEN_SLOT_RECLAIM_INTERVAL,
      },
    },
    worker: {
      shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE,
      maxConcurrentActivities: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
      /** Sessions kept in memory (about 0.5 MiB each); one evicted replays its history on its next event or query. */
      maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
      /** A prebuilt workflow bundle (`npm run build:workflows`); bundled from source at start otherwise. */
      workflowBundle: env.TEMPORAL_WORKFLOW_BUNDLE,
      /** Where the SDK's metrics and ours are served for Prometheus (null: nowhere, WORKER_METRICS_PORT=0). */
      metrics: workerMetricsSection(env),
    },
    /** Where finished videos are copied to (or `off`). */
    archive: archiveSection(env),
    /** The Worker Deployment Version this worker runs as. */
    ...workerDeploymentSection(env),
    notify: {
      /** Where the signing secrets come from (API_TOKENS or API_TOKENS_FILE, read at start). */
      tokens: { tokens: env.API_TOKENS, tokensFile: env.API_TOKENS_FILE },
      /** Where notifications may go: private addresses (`npm start` allows them), ports never sent to. */
      ...notifyTargetSection(env),
      /** Attempts in flight at once: the notifications worker's slots, and one tenant's share of them. */
      maxConcurrent: env.NOTIFY_MAX_CONCURRENT,
      maxPerTenant: Math.min(env.NOTIFY_MAX_PER_TENANT, env.NOTIFY_MAX_CONCURRENT),
      /** The hard deadline of one attempt: connect, send, the answer and its body together. */
      timeoutMs: env.NOTIFY_TIMEOUT,
      /** With both set, a session.awaiting_review notification carries a review link. */
      reviewLinks: reviewLinksSection(env),
    },
  };
}

function workerMetricsSection(env: { WORKER_METRICS_PORT: number; WORKER_METRICS_HOST: string; WORKER_METRICS_COUNT_INTERVAL: number }) {
  if (env.WORKER_METRICS_PORT === 0) return null;
  const host = env.WORKER_METRICS_HOST;
  const ipv6 = host.includes(':');
  // Where to point a browser or a scraper on this machine: "every interface" is reachable at loopback.
  const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return {
    host,
    port: env.WORKER_METRICS_PORT,
    /** The exporter's socket address (an IP literal; IPv6 in brackets). */
    bindAddress: ipv6 ? `[${host}]:${env.WORKER_METRICS_PORT}` : `${host}:${env.WORKER_METRICS_PORT}`,
    url: `http://${local.includes(':') ? `[${local}]` : local}:${env.WORKER_METRICS_PORT}/metrics`,
    /** How often this worker counts the task queue's running sessions by phase (vao_sessions). */
    countIntervalMs: env.WORKER_METRICS_COUNT_INTERVAL,
  };
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseEnv(workerEnvSchema, env);
  return { ...loggingConfig(parsed), ...temporalConfig(parsed), ...workerSections(parsed) };
}
export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;
