/**
 * Helpers for tests that run workflows on the real dev server of the test run (see global-setup.ts).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createLogger, type Logger } from '../../src/logging';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { testLogDestination } from './test-log';

/**
 * Logs to the test file's log in .test-logs/, not to the test output (see test-log.ts); at info, so a
 * failed test's part of it tells what happened (TEST_LOG_LEVEL sets another level).
 */
export const testLogger: Logger = createLogger({
  level: (process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'info',
  destination: testLogDestination(),
});

/** The address of the run's shared dev server. */
export function temporalAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: run the tests through jest (global-setup starts the server)');
  return address;
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function connectClient(address = temporalAddress(), namespace = 'default'): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
}

const bundles = new Map<string, Promise<{ code: string }>>();

/** Bundles a workflows module once per test file (bundling takes seconds). */
export function workflowBundle(workflowsPath: string): Promise<{ code: string }> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

export interface TestWorkerOptions extends Omit<WorkerOptions, 'connection' | 'workflowsPath' | 'workflowBundle'> {
  workflowsPath: string;
  address?: string;
}

/** Runs a worker on its own connection while `fn` runs, then shuts it down. */
export async function withWorker<T>(options: TestWorkerOptions, fn: (worker: Worker) => Promise<T>): Promise<T> {
  installTemporalRuntime(testLogger, { shutdownSignals: [] });
  const { workflowsPath, address, ...workerOptions } = options;
  const connection = await NativeConnection.connect({ address: address ?? temporalAddress() });
  try {
    const worker = await Worker.create({ ...workerOptions, connection, workflowBundle: await workflowBundle(workflowsPath) });
    return await worker.runUntil(() => fn(worker));
  } finally {
    await connection.close();
  }
}
