/**
 * Target 6 of issue #12: throughput. No-feedback sessions (approved automatically at the storyboard)
 * against a fast simulator, all started at once, completed per second; next to, in the same run and on
 * the same server, a baseline workflow with as many activities and timers as such a session makes.
 */
import { Worker, NativeConnection } from '@temporalio/worker';
import { startVideoAgentSession } from '../src/temporal/sessions';
import { startStack, stats, type BenchContext, type Figure } from './harness';
import * as baselineActivities from './baseline/activities';

const SCENARIO = 'throughput';
const PROMPT = 'Throughput [[sim think=2s generate=2s]]';
const TIMING = { pollInitial: '100ms', pollMax: '100ms', pollBackoff: 1, videoPollInterval: '100ms' };

async function timeAll(count: number, start: (i: number) => Promise<{ result: () => Promise<unknown> }>): Promise<number> {
  const began = performance.now();
  const handles = await Promise.all(Array.from({ length: count }, (_, i) => start(i)));
  await Promise.all(handles.map((handle) => handle.result()));
  return count / ((performance.now() - began) / 1000);
}

export async function throughputScenario(ctx: BenchContext): Promise<Figure[]> {
  const count = ctx.smoke ? 4 : ctx.quick ? 40 : 200;
  const rounds = ctx.quick ? 1 : 3;
  const stack = await startStack(ctx, SCENARIO, { timeScale: 1000 });
  const connection = await NativeConnection.connect({ address: ctx.address });
  const baselineQueue = `${stack.config.temporal.taskQueue}-baseline`;
  const baselineWorker = await Worker.create({
    connection,
    taskQueue: baselineQueue,
    workflowsPath: require.resolve('./baseline/workflows'),
    activities: baselineActivities,
  });
  const baselineRunning = baselineWorker.run();
  try {
    // The shape of one session: its activities and timers, from its history.
    const probe = await startVideoAgentSession(ctx.client, { prompt: PROMPT, autoApprove: true, timing: TIMING }, { taskQueue: stack.config.temporal.taskQueue });
    await probe.result();
    const events = (await probe.fetchHistory()).events ?? [];
    const shape = {
      activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
      timers: events.filter((e) => e.timerStartedEventAttributes).length,
      timerMs: 100,
    };
    ctx.log(`throughput: a no-feedback session makes ${shape.activities} activity calls and ${shape.timers} timers (${events.length} events)`);

    const sessions: number[] = [];
    const baseline: number[] = [];
    for (let round = 0; round < rounds; round++) {
      sessions.push(
        await timeAll(count, (i) => startVideoAgentSession(ctx.client, { prompt: `${PROMPT} ${round}-${i}`, autoApprove: true, timing: TIMING }, { taskQueue: stack.config.temporal.taskQueue })),
      );
      baseline.push(
        await timeAll(count, (i) => ctx.client.workflow.start('baselineSession', { args: [shape], taskQueue: baselineQueue, workflowId: `baseline-${Date.now()}-${round}-${i}` })),
      );
    }
    const value = stats(sessions);
    const base = stats(baseline);
    return [
      {
        scenario: SCENARIO,
        name: `no-feedback sessions completed per second (${count} at once, fast simulator)`,
        unit: 'sessions/s',
        value,
        baseline: { name: `raw workflow, ${shape.activities} activities + ${shape.timers} timers`, value: base },
        target: { text: '≥ 0.8 × baseline', actual: value.median / base.median, met: value.median >= 0.8 * base.median },
      },
    ];
  } finally {
    baselineWorker.shutdown();
    await baselineRunning;
    await connection.close();
    await stack.close();
  }
}
