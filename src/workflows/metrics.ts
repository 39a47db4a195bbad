/**
 * What workflow code reports as metrics, through the workflow's own metric meter: it records nothing
 * while a workflow replays, so a replayed history counts nothing twice, and it adds nothing to history.
 * The meter labels every metric with the workflow type, namespace and task queue.
 */
import * as wf from '@temporalio/workflow';
import { WORKER_METRICS, type ReviewWaitDecision } from '../contract/metrics';
import type { Phase } from '../contract/session';

export function countPhaseEntry(phase: Phase): void {
  const { sessionPhaseEntries } = WORKER_METRICS;
  wf.metricMeter.createCounter(sessionPhaseEntries.name, undefined, sessionPhaseEntries.help).add(1, { phase });
}

/** A checkpoint's wait for a reviewer, ended by `decision` after `waitedMs`. */
export function recordReviewWait(kind: 'storyboard' | 'question', decision: ReviewWaitDecision, waitedMs: number): void {
  const { reviewWait } = WORKER_METRICS;
  wf.metricMeter.createHistogram(reviewWait.name, 'float', undefined, reviewWait.help).record(Math.max(waitedMs, 0) / 1000, { kind, decision });
}

export interface GovernorGauges {
  account: string;
  limit: number;
  inUse: number;
  queued: number;
}

/**
 * The governor's gauges, and when they were set: the governor runs on one worker at a time, and a worker
 * it has left keeps exporting the values it set last, so readers take the newest.
 */
export function setGovernorGauges({ account, limit, inUse, queued }: GovernorGauges): void {
  const { governorSlotsInUse, governorSlotsLimit, governorQueueLength, governorUpdated } = WORKER_METRICS;
  const gauge = (metric: { name: string; help: string }, value: number, valueType: 'int' | 'float' = 'int') =>
    wf.metricMeter.createGauge(metric.name, valueType, undefined, metric.help).set(value, { account });
  gauge(governorSlotsInUse, inUse);
  gauge(governorSlotsLimit, limit);
  gauge(governorQueueLength, queued);
  gauge(governorUpdated, Date.now() / 1000, 'float');
}
