/**
 * Reading Prometheus' text format, and the metric families the Grafana dashboard may use: the worker's
 * own (src/contract/metrics.ts), the Temporal SDK's listed here, and the API's. test/worker-metrics.test.ts
 * finds every one of them in real scrapes; test/deploy.test.ts checks the dashboard names only these.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { exposedMetricName, WORKER_METRICS, type MetricDefinition } from '../../src/contract/metrics';
import { PROJECT_ROOT } from './processes';

export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** The Temporal SDK's metrics on the dashboard (durations in seconds, counters with `_total`). */
export const SDK_METRICS: Record<string, MetricKind> = {
  temporal_workflow_task_execution_latency: 'histogram',
  temporal_workflow_task_schedule_to_start_latency: 'histogram',
  temporal_workflow_completed_total: 'counter',
  temporal_workflow_failed_total: 'counter',
  temporal_activity_execution_latency: 'histogram',
  temporal_activity_schedule_to_start_latency: 'histogram',
  temporal_activity_execution_failed_total: 'counter',
  temporal_worker_task_slots_available: 'gauge',
  temporal_worker_task_slots_used: 'gauge',
  temporal_sticky_cache_size: 'gauge',
};

/** Our metrics as the worker exposes them. */
export const OUR_WORKER_METRICS: Record<string, MetricKind> = Object.fromEntries(
  Object.values(WORKER_METRICS as Record<string, MetricDefinition>).map((metric) => [exposedMetricName(metric), metric.kind]),
);

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** Family name → kind, from the `# TYPE` lines. */
  families: Map<string, MetricKind>;
  samples: Sample[];
}

/** Parses Prometheus' text exposition format (label values may hold any character, escaped). */
export function parseExposition(text: string): Exposition {
  const families = new Map<string, MetricKind>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) families.set(type[1]!, type[2] as MetricKind);
    if (line.startsWith('#') || line.trim() === '') continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
    let at = name.length;
    const labels: Record<string, string> = {};
    if (line[at] === '{') {
      at++;
      while (line[at] !== '}') {
        const key = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(at));
        if (!key) throw new Error(`unreadable labels in: ${line}`);
        at += key[0].length;
        let value = '';
        for (; line[at] !== '"'; at++) {
          if (line[at] === '\\') {
            at++;
            value += line[at] === 'n' ? '\n' : line[at];
          } else value += line[at];
        }
        labels[key[1]!] = value;
        at++; // the closing quote
        if (line[at] === ',') at++;
      }
      at++;
    }
    const value = line.slice(at).trim().split(/\s+/)[0]!;
    samples.push({ name, labels, value: value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value) });
  }
  return { families, samples };
}

const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

/** Whether a name used in an expression is a family of these, or a histogram's series of one. */
export function isExposed(name: string, families: ReadonlyMap<string, MetricKind>): boolean {
  if (families.has(name)) return true;
  const base = name.replace(HISTOGRAM_SERIES, '');
  return base !== name && (families.get(base) === 'histogram' || families.get(base) === 'summary');
}

/** The samples of `name` whose labels include `labels`. */
function samplesOf(exposition: Exposition, name: string, labels: Record<string, string>): Sample[] {
  return exposition.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** The value of the one sample of `name` whose labels include `labels` (undefined: none; two: an error). */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = samplesOf(exposition, name, labels);
  if (matching.length > 1) throw new Error(`${matching.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matching[0]?.value;
}

/** The sum over every sample of `name` whose labels include `labels` (0: none), as PromQL's sum(). */
export function sumOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  return samplesOf(exposition, name, labels).reduce((total, sample) => total + sample.value, 0);
}

export const DASHBOARD_FILE = path.join(PROJECT_ROOT, 'deploy', 'grafana', 'dashboards', 'video-agent-orchestrator.json');

export interface DashboardPanel {
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string; legendFormat?: string }[];
  panels?: DashboardPanel[];
}

export function readDashboard(): { title: string; uid: string; panels: DashboardPanel[] } {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { title: string; uid: string; panels: DashboardPanel[] };
}

/** Every panel, rows' nested panels included. */
export function dashboardPanels(dashboard: { panels: DashboardPanel[] }): DashboardPanel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** The metric names the dashboard's expressions read (ours and the SDK's: `vao_` and `temporal_`). */
export function dashboardMetricNames(dashboard = readDashboard()): string[] {
  const names = dashboardPanels(dashboard).flatMap((panel) => (panel.targets ?? []).flatMap((target) => [...target.expr.matchAll(/\b(?:vao|temporal)_[a-zA-Z0-9_]+/g)].map((m) => m[0])));
  return [...new Set(names)].sort();
}
