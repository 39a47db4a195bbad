/**
 * Sessions by phase, as a gauge true across the cluster: every worker counts the running sessions of its
 * task queue in Temporal's visibility, phase by phase (VideoAgentStatus), at an interval, and sets
 * `vao_sessions{phase, task_queue}`. Counting where the sessions are recorded, rather than adding up what
 * each worker saw, stays right however sessions move between workers and across restarts; the price is
 * that every worker exports the same numbers (aggregate them with max, never sum) and visibility's lag
 * (about a second).
 *
 * One count per phase: visibility's GROUP BY takes only ExecutionStatus on most stores.
 */
import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import { WORKER_METRICS } from '../contract/metrics';
import { VideoAgentStatus } from '../contract/search-attributes';
import { PHASES, SESSION_WORKFLOW_TYPE, type Phase } from '../contract/session';
import type { Logger } from '../logging';

export interface SessionPhaseCountsOptions {
  client: Client;
  meter: MetricMeter;
  taskQueue: string;
  intervalMs: number;
  logger: Logger;
}

/**
 * The visibility query of one phase's running sessions on a task queue. (A task queue whose name holds a
 * double quote cannot be queried so; its counts fail, and are logged.)
 */
function runningSessionsQuery(taskQueue: string, phase: Phase): string {
  return `WorkflowType = "${SESSION_WORKFLOW_TYPE}" AND ExecutionStatus = "Running" AND TaskQueue = "${taskQueue}" AND ${VideoAgentStatus.name} = "${phase}"`;
}

/** Counts now and every `intervalMs` until stopped. A failed round is logged and leaves the last values. */
export function countSessionsByPhase({ client, meter, taskQueue, intervalMs, logger }: SessionPhaseCountsOptions): { stop: () => Promise<void> } {
  const gauge = meter.createGauge(WORKER_METRICS.sessions.name, 'int', undefined, WORKER_METRICS.sessions.help);
  let stopped = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();

  const countAll = async () => {
    try {
      for (const phase of PHASES) {
        if (stopped) return;
        const { count } = await client.workflow.count(runningSessionsQuery(taskQueue, phase));
        gauge.set(count, { phase, task_queue: taskQueue });
      }
      if (failing) logger.info('counting sessions by phase works again');
      failing = false;
    } catch (error) {
      // Once per stretch of failures: Temporal being away is reported elsewhere too.
      if (!failing && !stopped) logger.warn({ err: error }, 'sessions could not be counted by phase; vao_sessions keeps its last values');
      failing = true;
    }
  };
  const next = () => {
    round = countAll().then(() => {
      if (!stopped) timer = setTimeout(next, intervalMs);
    });
  };
  next();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await round;
    },
  };
}
