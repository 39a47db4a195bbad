import { exposedMetricName, WORKER_HISTOGRAM_BUCKETS, WORKER_METRICS, type MetricDefinition } from '../../src/contract/metrics';

const metrics = Object.values(WORKER_METRICS as Record<string, MetricDefinition>);

test('our metrics are prefixed vao_ and named once; counters get _total from the exporter, not from us', () => {
  for (const metric of metrics) expect(metric.name).toMatch(/^vao_[a-z_]+[a-z]$/);
  expect(new Set(metrics.map((m) => m.name)).size).toBe(metrics.length);
  for (const metric of metrics.filter((m) => m.kind === 'counter')) {
    expect(metric.name).not.toMatch(/_total$/);
    expect(exposedMetricName(metric)).toBe(`${metric.name}_total`);
  }
  expect(exposedMetricName(WORKER_METRICS.governorSlotsInUse)).toBe('vao_governor_slots_in_use');
});

test('histograms are in seconds, with ascending buckets the exporter is given by name', () => {
  const histograms = metrics.filter((m) => m.kind === 'histogram');
  expect(histograms.length).toBeGreaterThan(0);
  for (const histogram of histograms) {
    expect(histogram.name).toMatch(/_seconds$/);
    const buckets = WORKER_HISTOGRAM_BUCKETS[histogram.name]!;
    expect(buckets).toEqual([...histogram.buckets!].sort((a, b) => a - b));
    expect(new Set(buckets).size).toBe(buckets.length);
  }
  expect(Object.keys(WORKER_HISTOGRAM_BUCKETS).sort()).toEqual(histograms.map((h) => h.name).sort());
});
