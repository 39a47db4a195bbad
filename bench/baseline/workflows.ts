/**
 * The throughput baseline: a workflow that does what a session does, in count, and nothing else:
 * `activities` activity calls and `timers` timers of `timerMs`, interleaved.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type * as activities from './activities';

const { noop } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });

export async function baselineSession(shape: { activities: number; timers: number; timerMs: number }): Promise<void> {
  for (let i = 0; i < Math.max(shape.activities, shape.timers); i++) {
    if (i < shape.activities) await noop();
    if (i < shape.timers) await sleep(shape.timerMs);
  }
}
