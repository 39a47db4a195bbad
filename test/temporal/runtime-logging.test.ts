/**
 * The Temporal Runtime's logger is bridged into pino: workflow `log` calls and worker lifecycle lines
 * come out of our logger, tagged with their SDK component.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logging';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import * as activities from '../fixtures/workflows/activities';
import { releaseSignal, type signalGate } from '../fixtures/workflows/signal-gate';
import { connectClient, uniqueId, withWorker } from '../harness/temporal';

test('workflow and worker logs arrive in pino', async () => {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  // Installed before the harness would install its own: the first Runtime of the process wins.
  installTemporalRuntime(createLogger({ level: 'info', destination }));

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

  const workflowLine = lines.find((line) => line.msg === 'waiting for release');
  expect(workflowLine).toMatchObject({ component: 'temporal-sdk', sdkComponent: 'workflow', name: 'logged', taskQueue, level: 30 });
  expect(lines.some((line) => line.sdkComponent === 'worker' && /Worker state changed/.test(String(line.msg)))).toBe(true);
});
