/** Health, readiness, metrics and the OpenAPI document: unauthenticated, not rate limited. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../errors';
import type { ApiMetrics } from '../metrics';
import { ErrorResponseSchema, HealthSchema } from '../../contract/api';
import type { SessionsService } from '../sessions';

export const systemRoutes: FastifyPluginAsync<{ sessions: SessionsService; metrics: ApiMetrics }> = async (app, { sessions, metrics }) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const unlimited = { rateLimit: false } as const;

  routes.get('/healthz', { config: unlimited, schema: { tags: ['system'], summary: 'The process is up', response: { 200: HealthSchema } } }, async () => ({
    ok: true,
  }));

  routes.get(
    '/readyz',
    { config: unlimited, schema: { tags: ['system'], summary: 'Temporal answers', response: { 200: HealthSchema, 503: ErrorResponseSchema } } },
    async () => {
      if (!(await sessions.ready())) throw new ApiError('temporal_unavailable', 'Temporal is not reachable.');
      return { ok: true };
    },
  );

  routes.get('/metrics', { config: unlimited, schema: { tags: ['system'], summary: 'Prometheus metrics', response: { 200: z.string() } } }, async (_request, reply) => {
    reply.type(metrics.contentType);
    return metrics.render();
  });

  routes.get('/openapi.json', { config: unlimited, schema: { hide: true } }, async () => app.swagger());
};
