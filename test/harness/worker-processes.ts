/**
 * Worker processes of our own (`src/worker.ts`), for tests that kill or pause them: started from a
 * prebuilt workflow bundle, as in production, so each start costs no bundling.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT, startProcess, tsNode, type RunningProcess } from './processes';
import type { SessionHarness } from './sessions';
import { temporalAddress } from './temporal';

/** Builds the workflow bundle into `dir`; returns its path. */
export async function buildWorkflowBundle(dir: string): Promise<string> {
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  const [node, args] = tsNode(path.join(PROJECT_ROOT, 'scripts', 'build-workflow-bundle.ts'));
  await promisify(execFile)(node, [...args, bundlePath]);
  return bundlePath;
}

/** A worker process on the harness's task queue, simulator and archive; resolves once it runs. */
export async function startWorkerProcess(h: SessionHarness, bundlePath: string, env: NodeJS.ProcessEnv = {}): Promise<RunningProcess> {
  const worker = startProcess(...tsNode(path.join(PROJECT_ROOT, 'src', 'worker.ts')), {
    ...process.env,
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_TASK_QUEUE: h.taskQueue,
    HEYGEN_BASE_URL: h.sim.url,
    ARCHIVE_DIR: h.configEnv.ARCHIVE_DIR!,
    TEMPORAL_WORKFLOW_BUNDLE: bundlePath,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    ...env,
  });
  await worker.waitForLine(/"msg":"worker running"/);
  return worker;
}
