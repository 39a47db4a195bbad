/**
 * The Worker Versioning scenario (issue 21), run against the dev server by `npm test` and against the
 * production shape by `npm run test:cluster`:
 *
 * Build v1 runs sessions: two parked at review, one still thinking. Build v2, whose session workflow
 * would be non-deterministic for v1's histories (test/fixtures/workflows/session-v2.ts), starts beside
 * it: not current yet, so new sessions still start on v1. `temporal:setup` makes v2 current. Then every
 * session started on v1 completes on v1 (no failed workflow task), new sessions run v2's code, the
 * governor (which upgrades) moves to v2, v1 shows draining while sessions are pinned to it and drained
 * once none is, and is retired: its worker stopped and its version deleted.
 *
 * Drainage and poller timings are the server's dynamic config: the test servers refresh them in about a
 * second (VERSIONING_TEST_DYNAMIC_CONFIG), production in minutes.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { isGrpcServiceError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { approveSignal } from '../../src/contract/session';
import { governorWorkflowId } from '../../src/contract/governor';
import { heygenAccountId } from '../../src/activities';
import { DEFAULT_SIMULATOR_API_KEY } from '../../src/simulator/config';
import type { SessionHandle } from '../../src/temporal/sessions';
import { formatDeploymentStatus } from '../../src/temporal/deployment-status';
import type { LegacyReport } from '../../src/temporal/legacy-sessions';
import { becomeCurrentIfFirst, currentBuildId, deploymentStatus, type BuildStatus } from '../../src/temporal/worker-deployment';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { createVideoAgentWorker } from '../../src/worker';
import { PROJECT_ROOT, tsNode } from './processes';
import { startSessionHarness, type SessionHarness } from './sessions';
import { testLogger, uniqueId, workflowBundle } from './temporal';
import { eventually } from './wait';

/** Dynamic config of the test servers: drainage and pollers are seen within a second or two. */
export const VERSIONING_TEST_DYNAMIC_CONFIG = {
  'matching.wv.VersionDrainageStatusRefreshInterval': '1s',
  'matching.wv.VersionDrainageStatusVisibilityGracePeriod': '1s',
  'matching.PollerHistoryTTL': '1s',
};

const GRPC_FAILED_PRECONDITION = 9;
const NAMESPACE = 'default';

interface RunningBuild {
  buildId: string;
  stop: () => Promise<void>;
}

/** The builds each workflow task of a history was completed by. */
async function buildsOf(handle: SessionHandle): Promise<{ builds: string[]; failedTasks: number }> {
  const events = (await handle.fetchHistory()).events ?? [];
  const builds = new Set<string>();
  let failedTasks = 0;
  for (const event of events) {
    const completed = event.workflowTaskCompletedEventAttributes;
    if (completed) builds.add(completed.deploymentVersion?.buildId ?? completed.workerVersion?.buildId ?? '(unversioned)');
    if (event.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) failedTasks++;
  }
  return { builds: [...builds], failedTasks };
}

async function pinnedBuild(handle: { describe: () => Promise<{ raw: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse }> }): Promise<string> {
  const info = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
  const behavior = temporal.api.enums.v1.VersioningBehavior[info?.behavior ?? 0] ?? 'unknown';
  return `${info?.deploymentVersion?.buildId ?? 'none'} (${behavior.replace('VERSIONING_BEHAVIOR_', '').toLowerCase()})`;
}

export async function runVersioningScenario(address: string, log: (line: string) => void): Promise<void> {
  const deploymentName = uniqueId('vao-versioning');
  const h: SessionHarness = await startSessionHarness({
    address,
    worker: false,
    env: { WORKER_VERSIONING: 'true', WORKER_DEPLOYMENT_NAME: deploymentName, WORKER_BUILD_ID: 'v1', HEYGEN_MAX_CONCURRENT: '10' },
  });
  const builds: RunningBuild[] = [];
  const status = async (): Promise<BuildStatus[]> => {
    const current = await deploymentStatus(h.client.connection, NAMESPACE, deploymentName);
    log(formatDeploymentStatus(deploymentName, NAMESPACE, current, '').trimEnd());
    return current;
  };
  const statusOf = (all: BuildStatus[], buildId: string) => all.find((b) => b.buildId === buildId);

  /** A worker of the build, started as `npm run worker` starts one (the deployment's first build makes itself current). */
  const startBuild = async (buildId: string, workflowsPath: string): Promise<RunningBuild> => {
    installTemporalRuntime(testLogger, { shutdownSignals: [] });
    const connection = await NativeConnection.connect({ address });
    const config = { ...h.config, deployment: { ...h.config.deployment, buildId } };
    const worker = await createVideoAgentWorker({ config, logger: testLogger, connection, workflowBundle: await workflowBundle(workflowsPath), taskQueue: h.taskQueue });
    const running = worker.run();
    let stopped: Promise<void> | undefined;
    const build = {
      buildId,
      // Once, however many times it is asked (the scenario retires v1, then everything stops).
      stop: () =>
        (stopped ??= (async () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running.catch(() => undefined);
          await connection.close();
        })()),
    };
    builds.push(build);
    await becomeCurrentIfFirst(connection, NAMESPACE, config.deployment, testLogger, { waitMs: 60_000 });
    return build;
  };

  try {
    const v1Path = require.resolve('../../src/workflows');
    const v2Path = require.resolve('../fixtures/workflows/session-v2');
    const v1 = await startBuild('v1', v1Path);
    expect(await currentBuildId(h.client.connection, NAMESPACE, deploymentName)).toBe('v1');

    // On v1: two sessions parked at review, one HeyGen keeps thinking.
    const parked = [await h.start({ prompt: 'Parked on v1, A' }), await h.start({ prompt: 'Parked on v1, B' })];
    const thinking = await h.start({ prompt: 'Still thinking on v1 [[sim think=1000h]]' });
    for (const handle of parked) await h.waitForPhase(handle, 'reviewing');
    const thinkingState = await h.waitForPhase(thinking, 'thinking');

    // v2 starts beside v1. It is not current: a session started now still goes to v1.
    await startBuild('v2', v2Path);
    expect(await currentBuildId(h.client.connection, NAMESPACE, deploymentName)).toBe('v1');
    const beforePromotion = await h.start({ prompt: 'Started while v2 runs but v1 is current' });
    await h.waitForPhase(beforePromotion, 'reviewing');
    const onV1 = [...parked, thinking, beforePromotion];

    // The deployment step: temporal:setup with the new build's id makes it current.
    const [node, setupArgs] = tsNode(path.join(PROJECT_ROOT, 'src', 'temporal', 'setup.ts'));
    const setup = await promisify(execFile)(node, [...setupArgs, '--wait', '1m'], {
      env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: NAMESPACE, WORKER_DEPLOYMENT_NAME: deploymentName, WORKER_BUILD_ID: 'v2', LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
    });
    expect(setup.stdout).toMatch(/"previous":"v1".*"the build is now current"/);
    expect(await currentBuildId(h.client.connection, NAMESPACE, deploymentName)).toBe('v2');

    // v2's code would break v1's sessions: a v1 history replayed on it fails.
    const v1History = await parked[0]!.fetchHistory();
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle(v2Path) }, v1History, parked[0]!.workflowId)).rejects.toBeInstanceOf(DeterminismViolationError);

    // New sessions run v2's code, pinned to v2.
    const onV2 = await h.start({ prompt: 'Started on v2' });
    await h.waitForPhase(onV2, 'reviewing');
    expect((await onV2.describe()).memo).toMatchObject({ build: 'v2' });

    // While sessions are pinned to v1 it drains, and the operator's view says so.
    const draining = await eventually(async () => {
      const all = await status();
      const [old, next] = [statusOf(all, 'v1'), statusOf(all, 'v2')];
      return old?.status === 'draining' && old.pinnedSessions === onV1.length && next?.status === 'current' && next.pinnedSessions === 1 ? all : undefined;
    }, { what: `v1 draining with ${onV1.length} sessions pinned, v2 current with 1`, timeoutMs: 60_000, intervalMs: 500 });
    expect(draining.map((b) => b.buildId)).toEqual(['v2', 'v1']);
    const statusCommand = await promisify(execFile)(...tsNode(path.join(PROJECT_ROOT, 'src', 'temporal', 'deployment-status.ts')), {
      env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: NAMESPACE, WORKER_DEPLOYMENT_NAME: deploymentName, WORKER_BUILD_ID: 'v2' },
    });
    log(`npm run deployment:status printed:\n${statusCommand.stdout.trimEnd()}`);
    expect(statusCommand.stdout).toMatch(new RegExp(`v1\\s+draining\\s+${onV1.length}\\s+keep its workers`));
    expect(statusCommand.stdout).toMatch(/v2 \(this checkout\)\s+current\s+1/);

    // Which old shapes the open sessions need, for each build: v2 runs only its own session.
    const legacy = async (buildId: string): Promise<LegacyReport> => {
      const [node, args] = tsNode(path.join(PROJECT_ROOT, 'src', 'temporal', 'legacy-sessions.ts'));
      const { stdout } = await promisify(execFile)(node, [...args, '--json'], {
        env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: NAMESPACE, WORKER_DEPLOYMENT_NAME: deploymentName, WORKER_BUILD_ID: buildId },
      });
      return JSON.parse(stdout) as LegacyReport;
    };
    const [forV2, forV1] = [await legacy('v2'), await legacy('v1')];
    log(`npm run sessions:legacy, follow-in-activity: for v2 ${JSON.stringify(forV2.shapes.followInActivity.thisBuild)}, for v1 ${JSON.stringify(forV1.shapes.followInActivity.thisBuild)}`);
    expect(forV2).toMatchObject({ openSessions: onV1.length + 1, byBuild: { [`${deploymentName}:v1`]: onV1.length, [`${deploymentName}:v2`]: 1 }, runByThisBuild: 1 });
    expect(forV1.runByThisBuild).toBe(onV1.length);
    // Every session has followed HeyGen in an activity (the marker); none has completed (archive-media not yet).
    expect(forV1.shapes.followInActivity.thisBuild).toEqual({ 'old-shape': 0, marker: onV1.length, 'not-yet': 0 });
    expect(forV1.shapes.archiveMedia.thisBuild).toEqual({ 'old-shape': 0, marker: 0, 'not-yet': onV1.length });

    // Every v1 session goes on and completes, on v1.
    await h.sim.finishPhase(thinkingState.heygenSessionId!);
    await h.waitForPhase(thinking, 'reviewing');
    for (const handle of [...onV1, onV2]) await handle.signal(approveSignal, { requestId: `approve-${handle.workflowId}`, by: 'versioning-test' });
    const outcomes = await Promise.all([...onV1, onV2].map(async (handle) => (await handle.result()).phase));
    expect(outcomes).toEqual(onV1.map(() => 'completed').concat('completed'));
    const tasks = await Promise.all(onV1.map(buildsOf));
    const v2Tasks = await buildsOf(onV2);
    const pins = await Promise.all([...onV1, onV2].map(pinnedBuild));
    log(`v1 sessions: workflow tasks by ${JSON.stringify(tasks.map((t) => t.builds))}, failed tasks ${tasks.map((t) => t.failedTasks).join(',')}; v2 session: ${JSON.stringify(v2Tasks.builds)}; pinned: ${pins.join(', ')}`);
    expect(tasks).toEqual(onV1.map(() => ({ builds: ['v1'], failedTasks: 0 })));
    expect(v2Tasks).toEqual({ builds: ['v2'], failedTasks: 0 });
    expect(pins).toEqual([...onV1.map(() => 'v1 (pinned)'), 'v2 (pinned)']);

    // The governor upgrades: its next task after v2 became current ran on v2.
    const governor = h.client.workflow.getHandle(governorWorkflowId(heygenAccountId(h.sim.url, DEFAULT_SIMULATOR_API_KEY)));
    const governorVersion = await eventually(async () => {
      const pinned = await pinnedBuild(governor);
      return pinned === 'v2 (auto_upgrade)' ? pinned : undefined;
    }, { what: 'the governor on v2' });
    log(`governor: ${governorVersion}`);

    // Nothing pinned to v1 any more: drained. Its worker stops and its version is deleted.
    const drained = await eventually(async () => {
      const all = await status();
      return statusOf(all, 'v1')?.status === 'drained' ? all : undefined;
    }, { what: 'v1 drained', timeoutMs: 60_000, intervalMs: 500 });
    expect(statusOf(drained, 'v1')).toMatchObject({ pinnedSessions: 0, next: expect.stringMatching(/^retire/) });
    await v1.stop();
    await eventually(async () => {
      try {
        await h.client.connection.workflowService.deleteWorkerDeploymentVersion({ namespace: NAMESPACE, deploymentVersion: { deploymentName, buildId: 'v1' }, identity: 'versioning-test' });
        return true;
      } catch (error) {
        // "has active pollers" until the server forgets v1's worker (PollerHistoryTTL).
        if (isGrpcServiceError(error) && error.code === GRPC_FAILED_PRECONDITION) return false;
        throw error;
      }
    }, { what: 'v1 deleted once its worker is gone', timeoutMs: 60_000, intervalMs: 500 });
    const retired = await status();
    expect(retired.map((b) => [b.buildId, b.status])).toEqual([['v2', 'current']]);
  } finally {
    for (const build of builds.reverse()) await build.stop();
    await h.close();
  }
}
