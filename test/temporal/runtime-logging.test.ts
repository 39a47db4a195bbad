/**
 * The Temporal Runtime's logger is bridged into pino: workflow `log` calls and worker lifecycle lines
 * come out of our logger, tagged with their SDK component (routine lifecycle lines at debug).
 */
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { capturingLogger } from '../harness/logs';
import * as activities from '../fixtures/workflows/activities';
import { releaseSignal, type signalGate } from '../fixtures/workflows/signal-gate';
import { connectClient, uniqueId, withWorker } from '../harness/temporal';

test('workflow and worker logs arrive in pino', async () => {
  const { logger, lines: raw } = capturingLogger('trace');
  // Installed before the harness would install its own: the first Runtime of the process wins.
  installTemporalRuntime(logger);

  const taskQueue = uniqueId('logging');
  const { client, close } = await connectClient();
  try {
    await withWorker({ taskQueue, workflowsPath: require.resolve('../fixtures/workflows/signal-gate'), activities }, async () => {
      const handle = await client.workflow.start<typeof signalGate>('signalGate', { taskQueue, workflowId: uniqueId('logging-wf'), args: ['logged'] });
      await handle.signal(releaseSignal, 'test');
      await handle.result();
    });
  } finally {
    await close();
  }

  const lines = raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  const workflowLine = lines.find((line) => line.msg === 'waiting for release');
  expect(workflowLine).toMatchObject({ component: 'temporal-sdk', sdkComponent: 'workflow', name: 'logged', taskQueue, level: 30 });
  // Routine worker chatter and the bundler's statistics are there for debugging, not at info.
  expect(lines.some((line) => line.sdkComponent === 'worker' && /Worker state changed/.test(String(line.msg)) && line.level === 20)).toBe(true);
  expect(lines.filter((line) => (line.level as number) >= 30 && /webpack|asset workflow-bundle|Worker state changed/.test(String(line.msg)))).toEqual([]);
});
