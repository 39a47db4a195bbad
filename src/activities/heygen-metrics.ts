/**
 * HeyGen calls as metrics. Each request, through the client's `onRequest`, in the Runtime's meter: a count
 * and a latency by method, route pattern and outcome. Calls repeated after a failure, in the activity's
 * meter, which labels them with the activity type: a HeyGen activity's attempts after its first (the
 * retry policy repeating a failed call), and storyboard image reads tried again within one activity.
 */
import { activityInfo, Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import { WORKER_METRICS } from '../contract/metrics';
import type { HeyGenRequestRecord } from '../heygen/client';

/** The client's `onRequest`, recording into `meter` (the Runtime's: one exporter for everything). */
export function heygenRequestRecorder(meter: MetricMeter): (request: HeyGenRequestRecord) => void {
  const { heygenRequests, heygenRequestDuration } = WORKER_METRICS;
  const requests = meter.createCounter(heygenRequests.name, undefined, heygenRequests.help);
  const duration = meter.createHistogram(heygenRequestDuration.name, 'float', undefined, heygenRequestDuration.help);
  return ({ method, route, outcome, seconds }) => {
    const labels = { method, route, outcome };
    requests.add(1, labels);
    duration.record(seconds, labels);
  };
}

/** Counts one HeyGen call repeated after a failure; call it inside the activity that repeats it. */
export function countHeyGenRetry(): void {
  const { heygenRetries } = WORKER_METRICS;
  Context.current().metricMeter.createCounter(heygenRetries.name, undefined, heygenRetries.help).add(1);
}

type Activity = (...args: never[]) => Promise<unknown>;

/** The same activities, each counting its attempts after the first as retries. */
export function countingRetries<T extends Record<string, Activity>>(activities: T): T {
  const counted = Object.entries(activities).map(([name, activity]) => [
    name,
    (...args: never[]) => {
      if (activityInfo().attempt > 1) countHeyGenRetry();
      return activity(...args);
    },
  ]);
  return Object.fromEntries(counted) as T;
}
