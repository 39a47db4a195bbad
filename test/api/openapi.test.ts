/**
 * /openapi.json is a valid OpenAPI 3 document generated from the zod schemas, and lists every route with
 * its request and response schemas.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startApiHarness, type ApiHarness } from '../harness/api';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApiHarness({ sessions: { worker: false } });
});
afterAll(async () => {
  await api?.close();
});

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; parameters?: { name: string; in: string }[]; responses: Record<string, { content?: Record<string, { schema: unknown }> }>; security?: unknown[] }>>;
  components: { securitySchemes: Record<string, unknown> };
}

test('the document validates', async () => {
  const document = (await api.call('GET', '/openapi.json', { token: null })).body;
  await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  expect((document as unknown as OpenApi).openapi).toMatch(/^3\./);
});

test('every route is there, with its schemas', async () => {
  const document = (await api.call('GET', '/openapi.json', { token: null })).body as unknown as OpenApi;
  const routes = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
  expect(routes.sort()).toEqual(
    [
      'POST /v1/sessions',
      'GET /v1/sessions',
      'GET /v1/sessions/{id}',
      'GET /v1/sessions/{id}/events',
      'POST /v1/sessions/{id}/approve',
      'POST /v1/sessions/{id}/messages',
      'POST /v1/sessions/{id}/review-links',
      'DELETE /v1/sessions/{id}/review-links/{linkId}',
      'POST /v1/sessions/{id}/stop',
      'GET /v1/sessions/{id}/video',
      'GET /v1/sessions/{id}/video/content',
      'GET /v1/capacity',
      'POST /v1/webhooks/heygen',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
    ].sort(),
  );
  const create = document.paths['/v1/sessions']!.post!;
  expect(create.requestBody!.content['application/json']!.schema).toMatchObject({ type: 'object', required: ['prompt'] });
  expect(Object.keys(create.responses).sort()).toEqual(['200', '201', '400', '401', '403', '404', '413', '422', '429', '503']);
  expect(create.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'idempotency-key', in: 'header' })]));
  expect(create.security).toEqual([{ bearer: [] }]);
  const approve = document.paths['/v1/sessions/{id}/approve']!.post!;
  expect(Object.keys(approve.responses)).toEqual(expect.arrayContaining(['200', '202', '409', '502']));
  expect(approve.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path' })]));
  const read = document.paths['/v1/sessions/{id}']!.get!;
  expect(JSON.stringify(read.responses['200']!.content)).toMatch(/Session|phase/);
  expect(document.components.securitySchemes).toHaveProperty('bearer');
});

test('/docs speaks for every response, and gives the package version (issue 22, a new user)', async () => {
  const document = (await api.call('GET', '/openapi.json', { token: null })).body as unknown as OpenApi & { info: { version: string } };
  const responses = Object.values(document.paths).flatMap((methods) => Object.values(methods).flatMap((operation) => Object.entries(operation.responses)));
  const placeholders = responses.filter(([, response]) => (response as { description?: string }).description === 'Default Response');
  console.log(`responses: ${responses.length}, of them "Default Response": ${placeholders.length}; version ${document.info.version}`);
  expect(placeholders).toEqual([]);
  expect(document.info.version).toBe((JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version);
  const create = document.paths['/v1/sessions']!.post!.responses as Record<string, { description: string }>;
  expect(create['429']!.description).toMatch(/^Too Many Requests: an error body, `error.code` `rate_limited`/);
});
