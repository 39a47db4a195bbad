/**
 * The worker: runs `videoAgentSession` workflows and their HeyGen activities on the configured task
 * queue. `npm run worker` runs it alone; `npm start` runs it inside the whole service.
 *
 * The HeyGen key is read from the environment here, in the worker process only, and lives in the
 * activities' client; it never enters workflow inputs, results or history.
 *
 * Its metrics (the Temporal SDK's and ours, docs/metrics.md) are served for Prometheus at
 * WORKER_METRICS_HOST:WORKER_METRICS_PORT by the process's Temporal Runtime.
 */
import os from 'node:os';
import { Client } from '@temporalio/client';
import { Runtime, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import {
  createArchiveActivities,
  createGovernorActivities,
  createHeyGenActivities,
  createNotifyActivities,
  heygenAccountId,
  heygenRequestRecorder,
} from './activities';
import { NotificationGate } from './activities/notify-gate';
import { createArchiveStore } from './archive';
import { notificationTaskQueue } from './contract/notifications';
import { readApiTokens } from './config/tokens';
import { loadWorkerConfig, type WorkerConfig as Config } from './worker-config';
import { HeyGenClient } from './heygen/client';
import { runMain, StartupError, type Lifecycle } from './lifecycle';
import type { Logger } from './logging';
import { connectWorker } from './temporal/connection';
import { installTemporalRuntime, MetricsEndpointError } from './temporal/runtime';
import { countSessionsByPhase } from './temporal/session-phase-counts';
import { becomeCurrentIfFirst, makeBuildCurrent, moveSessionsToBuild } from './temporal/worker-deployment';
import { versionString } from './config/worker-deployment';

/** How long a worker waits for Temporal to know its build before making it current. */
const FIRST_BUILD_WAIT_MS = 60_000;

export interface VideoAgentWorkerOptions {
  config: Config;
  logger: Logger;
  connection: NativeConnection;
  /** Overrides for tests; production takes both from config. */
  heygen?: HeyGenClient;
  taskQueue?: string;
  /** Workflow code already bundled in this process (tests bundle once per file). */
  workflowBundle?: { code: string };
}

/**
 * The process's Temporal Runtime, serving the worker's metrics unless WORKER_METRICS_PORT is 0. Install
 * it before any connection; a port already taken stops the start with the variable to change.
 */
export function installWorkerRuntime(config: Config, logger: Logger): Runtime {
  const { metrics } = config.worker;
  try {
    // The lifecycle decides the order of shutdown, so the Runtime must not act on signals itself.
    return installTemporalRuntime(logger, { shutdownSignals: [], ...(metrics ? { metrics: { bindAddress: metrics.bindAddress } } : {}) });
  } catch (error) {
    if (!(error instanceof MetricsEndpointError) || !metrics) throw error;
    throw new StartupError(
      `The worker cannot serve its metrics on ${metrics.bindAddress} (${error.message}). ` +
        'Set WORKER_METRICS_PORT to a free port (0 serves no metrics), or WORKER_METRICS_HOST to an address of this machine.',
    );
  }
}

/** The build the worker runs as, for people. */
export function describeWorkerVersion(config: Config): string {
  return config.deployment.versioning ? versionString(config.deployment) : 'unversioned (WORKER_VERSIONING=false)';
}

/** Where the worker's metrics are, for people: the URL, or why there is none. */
export function describeWorkerMetrics(config: Config): string {
  return config.worker.metrics ? config.worker.metrics.url : 'off (WORKER_METRICS_PORT=0)';
}

export function heygenClientFromConfig(config: Config, logger: Logger): HeyGenClient {
  return new HeyGenClient({
    baseUrl: config.heygen.baseUrl,
    apiKey: config.heygen.apiKey,
    logger: logger.child({ component: 'heygen' }),
    userAgent: 'video-agent-orchestrator',
    // A no-op unless the Runtime exports metrics.
    onRequest: heygenRequestRecorder(Runtime.instance().metricMeter),
  });
}

/** Token name → notification secret, for the tokens that have one. */
function notifySecrets(config: Config): Map<string, string> {
  return new Map(readApiTokens(config.notify.tokens).flatMap((token) => (token.notifySecret ? [[token.name, token.notifySecret] as const] : [])));
}

/**
 * The process's two Temporal workers as one: the sessions' (workflows and their activities) and the
 * notifications' (deliveries only, on a task queue of their own, with NOTIFY_MAX_CONCURRENT slots), so a
 * slow receiver can hold notification slots but never a session's.
 */
export class VideoAgentWorker {
  constructor(
    readonly sessions: Worker,
    readonly notifications: Worker,
  ) {}

  /** Runs both until both stop; either failing stops the other. */
  async run(): Promise<void> {
    const runs = [this.sessions.run(), this.notifications.run()];
    try {
      await Promise.all(runs);
    } catch (error) {
      this.shutdown();
      await Promise.allSettled(runs);
      throw error;
    }
  }

  /** The sessions worker's state (the notifications worker follows it). */
  getState(): ReturnType<Worker['getState']> {
    return this.sessions.getState();
  }

  shutdown(): void {
    for (const worker of [this.sessions, this.notifications]) if (worker.getState() === 'RUNNING') worker.shutdown();
  }
}

export async function createVideoAgentWorker(options: VideoAgentWorkerOptions): Promise<VideoAgentWorker> {
  const { config, logger } = options;
  const heygen = options.heygen ?? heygenClientFromConfig(config, logger);
  const taskQueue = options.taskQueue ?? config.temporal.taskQueue;
  const notifyActivities = createNotifyActivities({
    secrets: notifySecrets(config),
    allowPrivate: config.notify.allowPrivate,
    deniedPorts: config.notify.deniedPorts,
    reviewLinks: { ...config.notify.reviewLinks, tokens: readApiTokens(config.notify.tokens) },
    timeoutMs: config.notify.timeoutMs,
    // One gate for both workers: sessions of earlier builds still deliver on the sessions' queue.
    gate: new NotificationGate(config.notify.maxConcurrent, config.notify.maxPerTenant),
    logger: logger.child({ component: 'notify' }),
  });
  const activities = {
    ...createHeyGenActivities({
      heygen,
      callbackUrl: config.heygen.webhookUrl,
      logger: logger.child({ component: 'activities' }),
    }),
    ...createGovernorActivities({
      client: new Client({ connection: options.connection, namespace: config.temporal.namespace }),
      account: heygenAccountId(config.heygen.baseUrl, config.heygen.apiKey),
      settings: config.heygen.governor,
      logger: logger.child({ component: 'governor' }),
    }),
    ...notifyActivities,
    ...createArchiveActivities({
      heygen,
      store: createArchiveStore(config.archive),
      logger: logger.child({ component: 'archive' }),
    }),
  };
  const identity = `video-agent-worker@${os.hostname()}:${process.pid}`;
  const sessions = await Worker.create({
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : config.worker.workflowBundle
        ? { workflowBundle: { codePath: config.worker.workflowBundle } }
        : { workflowsPath: require.resolve('./workflows') }),
    activities,
    identity,
    shutdownGraceTime: config.worker.shutdownGraceMs,
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    ...workerDeploymentOptions(config),
  });
  const notifications = await Worker.create({
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue: notificationTaskQueue(taskQueue),
    activities: notifyActivities,
    identity,
    // An attempt ends within NOTIFY_TIMEOUT, so a graceful stop waits no longer than that for one.
    shutdownGraceTime: config.worker.shutdownGraceMs,
    maxConcurrentActivityTaskExecutions: config.notify.maxConcurrent,
    ...workerDeploymentOptions(config),
  });
  return new VideoAgentWorker(sessions, notifications);
}

/**
 * Worker Versioning: the worker polls as its build, and each session stays on the build that started it
 * (pinned); the governor moves to the current build at its next task (see the workflows' own options).
 */
function workerDeploymentOptions(config: Config): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  const { deployment } = config;
  if (!deployment.versioning) return {};
  return {
    workerDeploymentOptions: {
      version: { deploymentName: deployment.deploymentName, buildId: deployment.buildId },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'PINNED',
    },
  };
}

/**
 * Starts the worker and registers its graceful stop: in-flight activity attempts finish first. Its build
 * becomes current if it is the deployment's first, or always with `makeCurrent` (`npm start`: one machine,
 * one build).
 */
export async function runVideoAgentWorker(config: Config, logger: Logger, lifecycle: Lifecycle, options: { makeCurrent?: boolean } = {}): Promise<VideoAgentWorker> {
  const connection = await connectWorker(config);
  const worker = await createVideoAgentWorker({ config, logger, connection });
  const running = worker.run();
  if (config.deployment.versioning) {
    if (config.deployment.uncommitted) {
      logger.warn({ buildId: config.deployment.buildId }, 'src/ has uncommitted changes: the build id names the last commit, not this code; set WORKER_BUILD_ID for a build of its own');
    }
    const { namespace } = config.temporal;
    if (options.makeCurrent) {
      const previous = await makeBuildCurrent(connection, namespace, config.deployment, { waitMs: FIRST_BUILD_WAIT_MS });
      if (previous !== config.deployment.buildId) logger.info({ version: versionString(config.deployment), previous }, 'this build is now the deployment’s current version');
      const moved = await moveSessionsToBuild(connection, namespace, config.deployment);
      if (moved > 0) logger.info({ version: versionString(config.deployment), moved }, 'open sessions of earlier builds moved to this build (one machine runs one build)');
    } else {
      await becomeCurrentIfFirst(connection, namespace, config.deployment, logger, { waitMs: FIRST_BUILD_WAIT_MS });
    }
  }
  const { metrics } = config.worker;
  const phaseCounts = metrics
    ? countSessionsByPhase({
        client: new Client({ connection, namespace: config.temporal.namespace }),
        meter: Runtime.instance().metricMeter,
        taskQueue: config.temporal.taskQueue,
        intervalMs: metrics.countIntervalMs,
        logger: logger.child({ component: 'metrics' }),
      })
    : undefined;
  lifecycle.onShutdown('worker', async () => {
    await phaseCounts?.stop();
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
  });
  running.catch((error: unknown) => {
    logger.error({ err: error }, 'the worker stopped with an error');
    void lifecycle.shutdown('worker failed', 1);
  });
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      notifications: `${notificationTaskQueue(config.temporal.taskQueue)}: ${config.notify.maxConcurrent} at once, ${config.notify.maxPerTenant} per tenant, ${config.notify.timeoutMs / 1000} s each`,
      namespace: config.temporal.namespace,
      heygen: config.heygen.simulator ? `simulator at ${config.heygen.baseUrl}` : config.heygen.baseUrl,
      metrics: describeWorkerMetrics(config),
      version: describeWorkerVersion(config),
    },
    'worker running',
  );
  return worker;
}

if (require.main === module) {
  runMain('worker', loadWorkerConfig, async ({ config, logger, lifecycle }) => {
    installWorkerRuntime(config, logger);
    await runVideoAgentWorker(config, logger, lifecycle);
  });
}
