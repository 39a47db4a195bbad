/**
 * Worker Versioning: the Worker Deployment a worker belongs to and the build it runs. Read by the worker
 * (it polls as that build), by `npm start` and by `temporal:setup` (which make the build current).
 *
 * The build id names the workflow code: by default the package version and the commit
 * (`0.1.0-3f2a9c1d7e4b`); without a git checkout (an image built without .git), the package version and
 * a digest of the prebuilt workflow bundle. Sessions are pinned to the build that started them, so two
 * builds whose workflow code differs must never share an id.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { packageVersion, PROJECT_ROOT } from '../paths';
import { boolean, ConfigError, loggingConfig, loggingEnv, nonEmpty, parseEnv } from './env';
import { temporalConfig, temporalEnv } from './temporal';

/** Temporal keeps versions as `deploymentName:buildId` (formerly with a `.`), so a name holds neither. */
const DEPLOYMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const BUILD_ID = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;

export const DEFAULT_DEPLOYMENT_NAME = 'video-agent-orchestrator';

export const workerDeploymentEnv = {
  WORKER_VERSIONING: boolean.default(true),
  WORKER_DEPLOYMENT_NAME: z
    .string()
    .regex(DEPLOYMENT_NAME, { error: 'expected a name of letters, digits, - and _ (no . or :), at most 100 characters' })
    .default(DEFAULT_DEPLOYMENT_NAME),
  WORKER_BUILD_ID: z.string().regex(BUILD_ID, { error: 'expected letters, digits, . - _ and +, at most 100 characters' }).optional(),
};

type WorkerDeploymentEnv = z.output<z.ZodObject<typeof workerDeploymentEnv>> & { TEMPORAL_WORKFLOW_BUNDLE?: string | undefined };

export interface WorkerDeployment {
  /** Whether the worker polls as a Worker Deployment Version (false: unversioned, patches alone protect old sessions). */
  versioning: boolean;
  deploymentName: string;
  buildId: string;
  /** Where the build id came from, for people. */
  buildIdSource: 'WORKER_BUILD_ID' | 'commit' | 'workflow bundle';
  /** The checkout has uncommitted changes under src/: the commit does not name this code exactly. */
  uncommitted: boolean;
}

export function workerDeploymentSection(env: WorkerDeploymentEnv): { deployment: WorkerDeployment } {
  const named = { versioning: env.WORKER_VERSIONING, deploymentName: env.WORKER_DEPLOYMENT_NAME };
  if (env.WORKER_BUILD_ID) return { deployment: { ...named, buildId: env.WORKER_BUILD_ID, buildIdSource: 'WORKER_BUILD_ID', uncommitted: false } };
  const version = packageVersion();
  const commit = checkout();
  if (commit) return { deployment: { ...named, buildId: `${version}-${commit.id}`, buildIdSource: 'commit', uncommitted: commit.uncommitted } };
  if (env.TEMPORAL_WORKFLOW_BUNDLE) {
    return { deployment: { ...named, buildId: `${version}-${bundleDigest(env.TEMPORAL_WORKFLOW_BUNDLE)}`, buildIdSource: 'workflow bundle', uncommitted: false } };
  }
  throw new ConfigError([
    {
      variable: 'WORKER_BUILD_ID',
      problem: 'is not set, and there is no git checkout or TEMPORAL_WORKFLOW_BUNDLE to derive it from: set it to this build’s id (for example the image tag)',
    },
  ]);
}

let checkoutCache: { id: string; uncommitted: boolean } | null | undefined;

/** The checkout's commit (12 hex digits) and whether src/ differs from it; null without git or a repository. */
function checkout(): { id: string; uncommitted: boolean } | null {
  if (checkoutCache !== undefined) return checkoutCache;
  const git = (...args: string[]) => execFileSync('git', ['-C', PROJECT_ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  try {
    const id = git('rev-parse', '--short=12', 'HEAD');
    const uncommitted = git('status', '--porcelain', '--untracked-files=no', '--', 'src') !== '';
    checkoutCache = { id, uncommitted };
  } catch {
    checkoutCache = null;
  }
  return checkoutCache;
}

function bundleDigest(file: string): string {
  try {
    return `bundle-${createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12)}`;
  } catch (error) {
    throw new ConfigError([{ variable: 'TEMPORAL_WORKFLOW_BUNDLE', problem: `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})` }]);
  }
}

/** `deploymentName:buildId`, as Temporal shows a version (and as the TemporalWorkerDeploymentVersion search attribute holds it). */
export function versionString(deployment: Pick<WorkerDeployment, 'deploymentName' | 'buildId'>): string {
  return `${deployment.deploymentName}:${deployment.buildId}`;
}

/** Logging, Temporal and the worker build: the tools that act on the deployment (`temporal:setup`, `deployment:status`). */
export function loadDeploymentToolConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseEnv(z.object({ ...loggingEnv, ...temporalEnv, ...workerDeploymentEnv, TEMPORAL_WORKFLOW_BUNDLE: nonEmpty.optional() }), env);
  return { ...loggingConfig(parsed), ...temporalConfig(parsed), ...workerDeploymentSection(parsed) };
}
