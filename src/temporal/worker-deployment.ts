/**
 * Worker Versioning, from the Temporal side: making a build the deployment's current version (what
 * `npm start` and `temporal:setup` do, and what the first worker of a deployment does for itself), and
 * what each build is doing (current, draining, drained; the sessions pinned to it), for
 * `npm run deployment:status`.
 */
import { isGrpcServiceError, type ConnectionLike as Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { versionString, type WorkerDeployment } from '../config/worker-deployment';
import type { Logger } from '../logging';

const GRPC_NOT_FOUND = 5;
const GRPC_FAILED_PRECONDITION = 9;
const IDENTITY = 'video-agent-orchestrator';
const { VersionDrainageStatus } = temporal.api.enums.v1;
const { PinnedOverrideBehavior } = temporal.api.workflow.v1.VersioningOverride;

type Build = Pick<WorkerDeployment, 'deploymentName' | 'buildId'>;

export class BuildNotPollingError extends Error {
  override readonly name = 'BuildNotPollingError';
}

/** The build the deployment routes new sessions to, or null when it has none (or does not exist yet). */
export async function currentBuildId(connection: Connection, namespace: string, deploymentName: string): Promise<string | null> {
  try {
    const { workerDeploymentInfo } = await connection.workflowService.describeWorkerDeployment({ namespace, deploymentName });
    return workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId || null;
  } catch (error) {
    if (notKnownYet(error)) return null;
    throw error;
  }
}

/**
 * Makes the build current: new sessions start on it (sessions pinned to other builds stay where they
 * are; the governor, which upgrades, moves at its next task). Temporal knows a build only once one of its
 * workers has polled, so this waits up to `waitMs` for that. Returns the build that was current before.
 */
export async function makeBuildCurrent(connection: Connection, namespace: string, build: Build, options: { waitMs: number }): Promise<string | null> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    try {
      const { previousDeploymentVersion } = await connection.workflowService.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: build.deploymentName,
        buildId: build.buildId,
        identity: IDENTITY,
      });
      return previousDeploymentVersion?.buildId || null;
    } catch (error) {
      if (!notKnownYet(error)) throw error;
      if (Date.now() >= deadline) {
        throw new BuildNotPollingError(
          `No worker of build ${versionString(build)} has polled Temporal (namespace ${namespace}), so it cannot be made current. ` +
            'Start the workers of this build first (with the same WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID).',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Temporal does not know the deployment or build yet (no worker of it has polled): not found, or, on
 * server 1.29, a failed precondition ("no Worker Deployment found ... does your Worker Deployment have pollers?").
 */
function notKnownYet(error: unknown): boolean {
  if (!isGrpcServiceError(error)) return false;
  return error.code === GRPC_NOT_FOUND || (error.code === GRPC_FAILED_PRECONDITION && /no Worker Deployment found/i.test(error.message));
}

/**
 * A worker's start: the first build of a deployment makes itself current (nothing else could run new
 * sessions); a later build leaves that to the deployment step (`temporal:setup`), so it never takes new
 * sessions before it is meant to, and says so.
 */
export async function becomeCurrentIfFirst(connection: Connection, namespace: string, build: Build, logger: Logger, options: { waitMs: number }): Promise<void> {
  const current = await currentBuildId(connection, namespace, build.deploymentName);
  if (current === build.buildId) {
    logger.info({ version: versionString(build) }, 'this build is the deployment’s current version');
  } else if (current !== null) {
    logger.info(
      { version: versionString(build), current },
      'this build is not current: it runs the sessions pinned to it, and takes new ones once made current (npm run temporal:setup)',
    );
  } else {
    await makeBuildCurrent(connection, namespace, build, options);
    logger.info({ version: versionString(build) }, 'the deployment had no current version: this build is now current');
  }
}

/**
 * `npm start`: one machine runs one build, so a session pinned to an earlier build of the deployment
 * would wait forever for a worker of it. Such sessions move to this build, as an unversioned worker took
 * them before (the patches and the replay fixtures keep their histories replaying). Returns how many moved.
 */
export async function moveSessionsToBuild(connection: Connection, namespace: string, build: Build): Promise<number> {
  const version = versionString(build);
  const query = `WorkflowType = 'videoAgentSession' AND ExecutionStatus = 'Running' AND TemporalWorkflowVersioningBehavior = 'Pinned' AND TemporalWorkerDeploymentVersion != '${version}'`;
  let moved = 0;
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await connection.workflowService.listWorkflowExecutions({ namespace, query, nextPageToken });
    for (const execution of page.executions ?? []) {
      const pinnedTo = keywordAttribute(execution, 'TemporalWorkerDeploymentVersion');
      if (!pinnedTo?.startsWith(`${build.deploymentName}:`)) continue;
      await connection.workflowService.updateWorkflowExecutionOptions({
        namespace,
        workflowExecution: execution.execution,
        workflowExecutionOptions: {
          versioningOverride: {
            pinned: { behavior: PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED, version: { deploymentName: build.deploymentName, buildId: build.buildId } },
          },
        },
        updateMask: { paths: ['versioning_override'] },
        identity: IDENTITY,
      });
      moved++;
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return moved;
}

/** A Keyword search attribute of a listed workflow (the system ones Worker Versioning keeps among them). */
export function keywordAttribute(execution: temporal.api.workflow.v1.IWorkflowExecutionInfo, name: string): string | null {
  const data = execution.searchAttributes?.indexedFields?.[name]?.data;
  if (!data) return null;
  const value = JSON.parse(Buffer.from(data).toString('utf8')) as unknown;
  return typeof value === 'string' ? value : null;
}

export interface BuildStatus {
  buildId: string;
  /** current, ramping, draining, drained or inactive (Temporal's words, in lower case). */
  status: string;
  /** Open sessions pinned to this build (visibility). */
  pinnedSessions: number;
  createdAt: string | null;
  /** What an operator does with it next. */
  next: string;
}

/** Every build of the deployment, newest first, with what it is doing and the sessions pinned to it. */
export async function deploymentStatus(connection: Connection, namespace: string, deploymentName: string): Promise<BuildStatus[]> {
  let info: temporal.api.deployment.v1.IWorkerDeploymentInfo | null | undefined;
  try {
    ({ workerDeploymentInfo: info } = await connection.workflowService.describeWorkerDeployment({ namespace, deploymentName }));
  } catch (error) {
    if (notKnownYet(error)) return [];
    throw error;
  }
  const current = info?.routingConfig?.currentDeploymentVersion?.buildId ?? null;
  const ramping = info?.routingConfig?.rampingDeploymentVersion?.buildId ?? null;
  const builds = await Promise.all(
    (info?.versionSummaries ?? []).map(async (summary): Promise<BuildStatus> => {
      const buildId = summary.deploymentVersion?.buildId ?? '';
      const status = buildStatus(buildId, current, ramping, summary.drainageStatus ?? summary.drainageInfo?.status);
      const pinnedSessions = await countPinnedSessions(connection, namespace, { deploymentName, buildId });
      return { buildId, status, pinnedSessions, createdAt: timestamp(summary.createTime), next: nextStep(status, pinnedSessions) };
    }),
  );
  return builds.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
}

function buildStatus(buildId: string, current: string | null, ramping: string | null, drainage: number | null | undefined): string {
  if (buildId === current) return 'current';
  if (buildId === ramping) return 'ramping';
  if (drainage === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING) return 'draining';
  if (drainage === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED) return 'drained';
  return 'inactive';
}

function nextStep(status: string, pinned: number): string {
  switch (status) {
    case 'current':
      return 'takes new sessions';
    case 'ramping':
      return 'takes a share of new sessions';
    case 'draining':
      // Visibility can count none a moment before Temporal confirms the drainage (minutes, in production).
      return pinned > 0 ? `keep its workers: ${pinned} open session(s) pinned to it` : 'keep its workers until Temporal says drained';
    case 'drained':
      return 'retire: stop its workers (then delete the version, optional)';
    default:
      return pinned > 0 ? `keep its workers: ${pinned} open session(s) pinned to it` : 'never current: stop its workers';
  }
}

/** Open sessions pinned to a build, as visibility sees them (it lags the server by a moment). */
export async function countPinnedSessions(connection: Connection, namespace: string, build: Build): Promise<number> {
  const query = `WorkflowType = 'videoAgentSession' AND ExecutionStatus = 'Running' AND TemporalWorkerDeploymentVersion = '${versionString(build)}'`;
  const { count } = await connection.workflowService.countWorkflowExecutions({ namespace, query });
  return Number(count ?? 0);
}

function timestamp(value: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null {
  if (!value?.seconds) return null;
  return new Date(Number(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1e6)).toISOString();
}
