/**
 * The run's shared dev server with a real worker: search attributes are registered and queryable,
 * workflow logs reach pino through the Runtime bridge, and recorded histories replay (and a
 * non-deterministic change is caught by replay).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTES, VideoAgentStatus } from '../../src/contract/search-attributes';
import * as activities from '../fixtures/workflows/activities';
import { releaseSignal, type signalGate } from '../fixtures/workflows/signal-gate';
import { connectClient, uniqueId, withWorker } from '../harness/temporal';
import { eventually } from '../harness/wait';

const workflowsPath = require.resolve('../fixtures/workflows/signal-gate');
const changedWorkflowsPath = require.resolve('../fixtures/workflows/signal-gate-changed');
const historyFixture = path.join(__dirname, '..', 'fixtures', 'histories', 'signal-gate.json');

let client: Awaited<ReturnType<typeof connectClient>>['client'];
let closeClient: () => Promise<void>;

beforeAll(async () => {
  ({ client, close: closeClient } = await connectClient());
});
afterAll(async () => {
  await closeClient();
});

test('every custom search attribute is registered as a Keyword', async () => {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
  for (const key of SEARCH_ATTRIBUTES) {
    // IndexedValueType 2 = KEYWORD in the Temporal API.
    expect([key.name, customAttributes?.[key.name]]).toEqual([key.name, 2]);
  }
});

test('workflows can be listed by VideoAgentStatus, and the list follows upserts', async () => {
  const taskQueue = uniqueId('sa');
  const workflowId = uniqueId('sa-wf');
  const byStatus = async (status: string) => {
    const ids: string[] = [];
    for await (const execution of client.workflow.list({ query: `VideoAgentStatus="${status}" AND WorkflowId="${workflowId}"` })) {
      ids.push(execution.workflowId);
    }
    return ids;
  };
  await withWorker({ taskQueue, workflowsPath, activities }, async () => {
    const handle = await client.workflow.start<typeof signalGate>('signalGate', { taskQueue, workflowId, args: ['sa'] });
    await eventually(async () => ((await byStatus('waiting')).length === 1), { timeoutMs: 20_000, what: 'VideoAgentStatus="waiting"' });
    expect(await byStatus('done')).toEqual([]);
    await handle.signal(releaseSignal, 'test');
    await handle.result();
    await eventually(async () => ((await byStatus('done')).length === 1), { timeoutMs: 20_000, what: 'VideoAgentStatus="done"' });
  });
  const description = await client.workflow.getHandle(workflowId).describe();
  expect(description.typedSearchAttributes.get(VideoAgentStatus)).toBe('done');
});

describe('replay', () => {
  test('a freshly recorded history replays against the same code', async () => {
    const taskQueue = uniqueId('replay');
    const workflowId = uniqueId('replay-wf');
    const history = await withWorker({ taskQueue, workflowsPath, activities }, async () => {
      const handle = await client.workflow.start<typeof signalGate>('signalGate', { taskQueue, workflowId, args: ['replay'] });
      await handle.signal(releaseSignal, 'recorder');
      await handle.result();
      return handle.fetchHistory();
    });
    const json = historyToJSON(history);
    if (process.env.RECORD_HISTORIES === '1') await writeFile(historyFixture, `${json}\n`);
    await expect(Worker.runReplayHistory({ workflowsPath }, JSON.parse(json), workflowId)).resolves.toBeUndefined();
  });

  test('the committed history replays against the current workflow code', async () => {
    const history: unknown = JSON.parse(await readFile(historyFixture, 'utf8'));
    await expect(Worker.runReplayHistory({ workflowsPath }, history, 'signal-gate-fixture')).resolves.toBeUndefined();
  });

  test('a non-deterministic change fails replay of the committed history', async () => {
    const history: unknown = JSON.parse(await readFile(historyFixture, 'utf8'));
    await expect(Worker.runReplayHistory({ workflowsPath: changedWorkflowsPath }, history, 'signal-gate-fixture')).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  });
});
