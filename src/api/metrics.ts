/**
 * Prometheus metrics of the API: requests by route and status code, and latencies, plus the process's
 * default metrics. Each app has its own registry (several can live in one process, as in tests).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the live event streams report, read at each scrape. */
export interface StreamStats {
  open: () => number;
  sessions: () => number;
  reads: () => number;
}

export interface ApiMetrics {
  observe: (request: FastifyRequest, reply: FastifyReply) => void;
  /** Exposes the live streams' numbers (one source per app: the session routes'). */
  followStreams: (stats: StreamStats) => void;
  render: () => Promise<string>;
  contentType: string;
}

export function createMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vao_' });
  const requests = new Counter({
    name: 'vao_http_requests_total',
    help: 'HTTP requests by method, route and status code.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'vao_http_request_duration_seconds',
    help: 'HTTP request latency by method and route.',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  let streams: StreamStats | undefined;
  new Gauge({
    name: 'vao_event_streams_open',
    help: 'Live event streams open on this API instance.',
    registers: [registry],
    collect() {
      this.set(streams?.open() ?? 0);
    },
  });
  new Gauge({
    name: 'vao_event_stream_sessions',
    help: 'Sessions this API instance reads for its live event streams (one reader each, however many streams watch).',
    registers: [registry],
    collect() {
      this.set(streams?.sessions() ?? 0);
    },
  });
  new Counter({
    name: 'vao_event_stream_reads_total',
    help: "Reads of sessions' state for live event streams.",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(streams?.reads() ?? 0);
    },
  });
  return {
    followStreams(stats) {
      streams = stats;
    },
    observe(request, reply) {
      // The route pattern, not the URL: ids would explode the label set.
      const route = request.routeOptions.url ?? 'unmatched';
      requests.inc({ method: request.method, route, status: String(reply.statusCode) });
      latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
