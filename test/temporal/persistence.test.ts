/**
 * State survives a restart of the dev server: a workflow started before the restart is still there
 * afterwards, with its history and search attributes, and completes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findFreePort, startDevServer } from '../../src/temporal/dev-server';
import { VideoAgentStatus } from '../../src/contract/search-attributes';
import * as activities from '../fixtures/workflows/activities';
import { releaseSignal, type signalGate } from '../fixtures/workflows/signal-gate';
import { connectClient, uniqueId, withWorker } from '../harness/temporal';
import { eventually } from '../harness/wait';

const cliPath = process.env.TEMPORAL_CLI_PATH!;
const workflowsPath = require.resolve('../fixtures/workflows/signal-gate');
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'vao-persist-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('a running workflow survives a server restart and then completes', async () => {
  const dbFile = path.join(scratch, 'dev.db');
  const port = await findFreePort();
  const taskQueue = uniqueId('persist');
  const workflowId = uniqueId('persist-wf');

  const first = await startDevServer({ cliPath, port, dbFile });
  try {
    const { client, close } = await connectClient(first.address);
    try {
      await withWorker({ address: first.address, taskQueue, workflowsPath, activities }, async () => {
        await client.workflow.start<typeof signalGate>('signalGate', { taskQueue, workflowId, args: ['before-restart'] });
        // Wait until the worker has run the first task (the search attribute is set there).
        await eventually(async () => {
          const description = await client.workflow.getHandle(workflowId).describe();
          return description.typedSearchAttributes.get(VideoAgentStatus) === 'waiting';
        }, { timeoutMs: 20_000, what: 'the workflow to reach its signal wait' });
      });
    } finally {
      await close();
    }
  } finally {
    await first.stop();
  }

  const second = await startDevServer({ cliPath, port, dbFile });
  try {
    const { client, close } = await connectClient(second.address);
    try {
      const handle = client.workflow.getHandle<typeof signalGate>(workflowId);
      const description = await handle.describe();
      expect(description.status.name).toBe('RUNNING');
      expect(description.typedSearchAttributes.get(VideoAgentStatus)).toBe('waiting');

      const result = await withWorker({ address: second.address, taskQueue, workflowsPath, activities }, async () => {
        await handle.signal(releaseSignal, 'after-restart');
        return handle.result();
      });
      expect(result).toBe('before-restart released by after-restart');
    } finally {
      await close();
    }
  } finally {
    await second.stop();
  }
});
