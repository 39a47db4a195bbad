/**
 * Property: whatever a caller throws at any route (random bodies, headers, ids, tokens, content types),
 * the API answers with a 2xx, 3xx or 4xx and a JSON error envelope, never a 5xx or a stack trace.
 */
import fc from 'fast-check';
import { startApiHarness, TOKENS, type ApiHarness } from '../harness/api';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApiHarness({ env: { API_RATE_LIMIT: '100000' } });
});
afterAll(async () => {
  await api?.close();
});

const ROUTES: [string, (id: string) => string][] = [
  ['POST', () => '/v1/sessions'],
  ['GET', () => '/v1/sessions'],
  ['GET', (id) => `/v1/sessions/${id}`],
  ['POST', (id) => `/v1/sessions/${id}/approve`],
  ['POST', (id) => `/v1/sessions/${id}/messages`],
  ['POST', (id) => `/v1/sessions/${id}/stop`],
  ['GET', (id) => `/v1/sessions/${id}/video`],
  ['POST', () => '/v1/webhooks/heygen'],
  ['GET', () => '/healthz'],
];

const json = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.record(
    {
      prompt: fc.oneof(fc.string(), fc.string({ maxLength: 3 }), fc.constant('')),
      message: fc.string(),
      orientation: fc.oneof(fc.constant('landscape'), fc.string()),
      files: fc.array(fc.record({ type: fc.constantFrom('asset_id', 'url', 'base64', 'x'), assetId: fc.string(), url: fc.webUrl(), data: fc.string() }, { requiredKeys: ['type'] })),
      review: fc.record({ timeout: fc.oneof(fc.string(), fc.integer()), onTimeout: fc.string() }, { requiredKeys: [] }),
      labels: fc.dictionary(fc.string(), fc.string()),
      autoApprove: fc.anything(),
    },
    { requiredKeys: [] },
  ).map((value) => JSON.stringify(value)),
  fc.string(),
);

const request = fc.record({
  route: fc.constantFrom(...ROUTES),
  id: fc.oneof(fc.string(), fc.stringMatching(/^session-[a-z0-9-]{1,40}$/), fc.constant('..%2F..'), fc.constant('a'.repeat(300))),
  token: fc.oneof(fc.constantFrom(...Object.values(TOKENS).map((t) => t.token)), fc.string(), fc.constant(undefined)),
  body: fc.option(json, { nil: undefined }),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', undefined),
  idempotencyKey: fc.option(fc.string(), { nil: undefined }),
  query: fc.oneof(fc.constant(''), fc.string().map((s) => `?${encodeURIComponent(s)}=${encodeURIComponent(s)}`), fc.constant('?limit=-1&status=x&cursor=%00')),
  webhookHeaders: fc.record({ 'heygen-signature': fc.string(), 'heygen-timestamp': fc.string(), 'heygen-event-id': fc.string() }, { requiredKeys: [] }),
});

test('no route answers a random request with a 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const [method, path] = r.route;
      const headers: Record<string, string> = {};
      if (r.token !== undefined) headers.authorization = `Bearer ${r.token.replace(/[\r\n]/g, '')}`;
      if (r.contentType && r.body !== undefined) headers['content-type'] = r.contentType;
      if (r.idempotencyKey !== undefined && /^[\x20-\x7e]*$/.test(r.idempotencyKey)) headers['idempotency-key'] = r.idempotencyKey;
      for (const [name, value] of Object.entries(r.webhookHeaders)) if (/^[\x20-\x7e]*$/.test(value)) headers[name] = value;
      let url: string;
      try {
        url = new URL(`${api.url}${path(encodeURIComponent(r.id))}${method === 'GET' ? r.query : ''}`).toString();
      } catch {
        return; // not a URL anyone could send
      }
      const response = await fetch(url, { method, headers, body: method === 'POST' ? r.body : undefined });
      const text = await response.text();
      if (response.status >= 500) throw new Error(`${method} ${url} → ${response.status}: ${text}`);
      expect(text).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
      if (response.status >= 400) expect(JSON.parse(text)).toMatchObject({ error: { code: expect.any(String), requestId: expect.any(String) } });
    }),
    { numRuns: 300, seed: 20261126 },
  );
}, 120_000);
