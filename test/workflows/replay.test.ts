/**
 * Histories recorded from real runs (test/fixtures/histories/session-*.json and governor-*.json, written
 * by `RECORD_HISTORIES=1 npx jest test/workflows test/api/notifications.test.ts test/api/webhooks.test.ts test/api/review-links.test.ts`)
 * replay against the current workflow code. A change that would break running sessions fails here before
 * it ships. Histories of an older shape stay beside them in a folder of their own
 * (polled-with-timers/: sessions started before the follow activity), so sessions of every shape still
 * in flight keep replaying.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { testLogger } from '../harness/temporal';

const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');

test('every recorded session history replays deterministically', async () => {
  installTemporalRuntime(testLogger);
  const files = (await readdir(HISTORIES, { recursive: true })).filter((file) => /^(.+\/)?(session|governor)-[^/]*\.json$/.test(file)).sort();
  expect(files.filter((file) => file.startsWith('session-')).length).toBeGreaterThanOrEqual(11);
  expect(files.filter((file) => file.startsWith('polled-with-timers/session-')).length).toBeGreaterThanOrEqual(11);
  expect(files.filter((file) => file.startsWith('governor-')).length).toBeGreaterThanOrEqual(2);
  const histories = await Promise.all(
    files.map(async (file) => ({ workflowId: file.replace(/\.json$/, ''), history: JSON.parse(await readFile(path.join(HISTORIES, file), 'utf8')) as unknown })),
  );
  const results: { workflowId: string; error?: unknown }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath: require.resolve('../../src/workflows') }, histories)) {
    results.push({ workflowId: result.workflowId, error: result.error });
  }
  expect(results.map((r) => [r.workflowId, r.error === undefined ? 'ok' : String(r.error)])).toEqual(files.map((f) => [f.replace(/\.json$/, ''), 'ok']));
});
