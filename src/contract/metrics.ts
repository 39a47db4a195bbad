/**
 * The worker's own metrics (prefix `vao_`), served beside the Temporal SDK's on the worker's metrics port
 * (WORKER_METRICS_PORT) by the one Prometheus exporter of the Temporal Runtime. Workflow code (sessions,
 * the governor), the activities and the worker process emit them; the exporter takes the histograms'
 * buckets from here; docs/metrics.md and the Grafana dashboard name the same metrics.
 *
 * Counters are declared without `_total`: the exporter appends it (`countersTotalSuffix`). Label values
 * are fixed sets or route patterns, never ids, prompts or keys: every value makes a series of its own.
 */

export interface MetricDefinition {
  /** The name the meter is given. */
  name: string;
  kind: 'counter' | 'gauge' | 'histogram';
  help: string;
  /** Upper bounds of the histogram's buckets. */
  buckets?: readonly number[];
}

export const WORKER_METRICS = {
  /** Set by every worker from Temporal's visibility, so the same cluster-wide value from each: use max(). */
  sessions: {
    name: 'vao_sessions',
    kind: 'gauge',
    help: 'Running sessions of the task queue by phase, counted in Temporal visibility by each worker (the same value from every worker: aggregate with max).',
  },
  sessionPhaseEntries: {
    name: 'vao_session_phase_entries',
    kind: 'counter',
    help: 'Times a session entered a phase (final phases: sessions ended that way).',
  },
  reviewWait: {
    name: 'vao_review_wait_seconds',
    kind: 'histogram',
    help: 'Time a checkpoint waited for a reviewer: from its start to the decision that ended it, or to its deadline.',
    // Seconds to a week: people answer in minutes, hours or days.
    buckets: [5, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 259_200, 604_800],
  },
  heygenRequests: {
    name: 'vao_heygen_requests',
    kind: 'counter',
    help: 'HeyGen API requests by method, route pattern and outcome.',
  },
  heygenRequestDuration: {
    name: 'vao_heygen_request_duration_seconds',
    kind: 'histogram',
    help: 'HeyGen API request latency (until the whole body is read) by method, route pattern and outcome.',
    // Reads answer in tens of milliseconds; creates run to a p99 of about 31 s; writes time out at 120 s.
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  },
  heygenRetries: {
    name: 'vao_heygen_retries',
    kind: 'counter',
    help: 'HeyGen calls repeated after a failure: attempts of a HeyGen activity after its first, and storyboard image reads tried again within one.',
  },
  governorSlotsInUse: {
    name: 'vao_governor_slots_in_use',
    kind: 'gauge',
    help: "HeyGen job slots held by sessions, per account, as the account's governor last set it.",
  },
  governorSlotsLimit: {
    name: 'vao_governor_slots_limit',
    kind: 'gauge',
    help: 'HeyGen job slots the governor hands out per account (HEYGEN_MAX_CONCURRENT).',
  },
  governorQueueLength: {
    name: 'vao_governor_queue_length',
    kind: 'gauge',
    help: 'Sessions waiting for a HeyGen job slot, per account.',
  },
  governorUpdated: {
    name: 'vao_governor_updated_timestamp_seconds',
    kind: 'gauge',
    help: "When the governor last set its gauges (workflow time, Unix seconds): a worker the governor has moved away from keeps exporting its older values, so take the governor's gauges from the series with the newest timestamp.",
  },
} as const satisfies Record<string, MetricDefinition>;

/** The name Prometheus shows: counters get `_total`. Histograms add `_bucket`, `_sum` and `_count` to it. */
export function exposedMetricName(metric: MetricDefinition): string {
  return metric.kind === 'counter' ? `${metric.name}_total` : metric.name;
}

/** Buckets for the exporter, by metric name. */
export const WORKER_HISTOGRAM_BUCKETS: Record<string, number[]> = Object.fromEntries(
  Object.values(WORKER_METRICS as Record<string, MetricDefinition>).flatMap((metric) => (metric.buckets ? [[metric.name, [...metric.buckets]]] : [])),
);

/**
 * How a HeyGen request ended (label `outcome`): `success`; HeyGen answered with an error status
 * (`rate_limited` for 429, `client_error` for other 4xx, `server_error` for 5xx) or with a body we could
 * not use (`invalid_response`); no answer (`timeout`, `connection_error`); or we gave up on it ourselves
 * (`cancelled`, e.g. the activity was cancelled).
 */
export const HEYGEN_CALL_OUTCOMES = [
  'success',
  'rate_limited',
  'client_error',
  'server_error',
  'invalid_response',
  'timeout',
  'connection_error',
  'cancelled',
] as const;
export type HeyGenCallOutcome = (typeof HEYGEN_CALL_OUTCOMES)[number];

/** What ended a reviewer's wait (label `decision` of the review wait): a person's decision, or the deadline. */
export const REVIEW_WAIT_DECISIONS = ['approve', 'message', 'timeout'] as const;
export type ReviewWaitDecision = (typeof REVIEW_WAIT_DECISIONS)[number];
