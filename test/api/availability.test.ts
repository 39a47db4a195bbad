/**
 * When parts are missing or overwhelmed: no worker (bounded waits, 503 or 202, never a hang), no
 * Temporal server (503), too many requests (429 per token), an overloaded event loop (503).
 */
import { buildApi } from '../../src/api/app';
import { loadConfig } from '../../src/service-config';
import { findFreePort } from '../../src/temporal/dev-server';
import { lazyClient } from '../../src/temporal/connection';
import { startApiHarness, TOKENS, waitForApiPhase, type ApiHarness } from '../harness/api';
import { testLogger } from '../harness/temporal';
import { capturingLogger } from '../harness/logs';
import { settled } from '../harness/sessions';

type ErrorBody = { error: { code: string } };

describe('without a worker', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiHarness({ sessions: { worker: false }, env: { API_QUERY_TIMEOUT: '500ms', API_DECISION_WAIT: '1s' } });
  });
  afterAll(async () => {
    await api?.close();
  });

  test('sessions can be created; reading one is a bounded 503, a decision is queued (202), and all goes on once a worker runs', async () => {
    const created = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Nobody home [[sim think=50s]]' } });
    expect(created.status).toBe(201);
    const { id } = created.body;
    const read = await api.call<ErrorBody>('GET', `/v1/sessions/${id}`);
    expect([read.status, read.body.error.code]).toEqual([503, 'worker_unavailable']);
    const approve = await api.call<{ status: string; requestId: string }>('POST', `/v1/sessions/${id}/approve`, { body: {}, headers: { 'idempotency-key': 'early-bird' } });
    expect([approve.status, approve.body]).toEqual([202, { id, requestId: 'early-bird', status: 'accepted' }]);
    expect((await api.call<ErrorBody>('GET', `/v1/sessions/${id}/video`)).status).toBe(409);
    const listed = await api.call<{ sessions: { id: string }[] }>('GET', '/v1/sessions?limit=100');
    expect(listed.body.sessions.map((s) => s.id)).toContain(id);

    const worker = await api.sessions.startWorker();
    const state = await waitForApiPhase(api, id, 'reviewing');
    // The queued approval arrived before the storyboard existed: recorded, not applied.
    expect(state.actions).toEqual([expect.objectContaining({ requestId: 'early-bird', outcome: 'ignored' })]);

    // Parked, and no worker again: a session nothing has happened to still reads (its history has not
    // grown since the API last read it), but not once something has that no worker has seen yet.
    // Read once nothing is in flight (the workflow task that parked it may land after the query that
    // showed it parked), so the API holds the state of the history as it stays.
    await settled(api.sessions.client.workflow.getHandle(id));
    const parked = await api.call('GET', `/v1/sessions/${id}`);
    expect(parked.status).toBe(200);
    await worker.stop();
    const unchanged = await api.call('GET', `/v1/sessions/${id}`);
    expect([unchanged.status, unchanged.body]).toEqual([200, parked.body]);
    expect((await api.call('POST', `/v1/sessions/${id}/messages`, { body: { message: 'Shorter' } })).status).toBe(202);
    const changed = await api.call<ErrorBody>('GET', `/v1/sessions/${id}`);
    expect([changed.status, changed.body.error.code]).toEqual([503, 'worker_unavailable']);
  });
});

test('without Temporal: readiness and session routes answer 503 temporal_unavailable', async () => {
  const config = loadConfig({
    TEMPORAL_ADDRESS: `127.0.0.1:${await findFreePort()}`,
    API_TOKENS: JSON.stringify(Object.values(TOKENS)),
    API_TEMPORAL_TIMEOUT: '1s',
    LOG_LEVEL: 'silent',
  });
  const client = lazyClient(config);
  const app = await buildApi({ config, logger: testLogger, client, tokens: config.api.tokens! });
  try {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect([ready.statusCode, ready.json().error.code]).toEqual([503, 'temporal_unavailable']);
    const auth = { authorization: `Bearer ${TOKENS.acme.token}` };
    const list = await app.inject({ method: 'GET', url: '/v1/sessions', headers: auth });
    expect([list.statusCode, list.json().error.code]).toEqual([503, 'temporal_unavailable']);
    const create = await app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { prompt: 'x' } });
    expect([create.statusCode, create.json().error.code]).toEqual([503, 'temporal_unavailable']);
  } finally {
    await app.close();
    await client.connection.close();
  }
});

describe('limits', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiHarness({ sessions: { worker: false }, env: { API_RATE_LIMIT: '5' } });
  });
  afterAll(async () => {
    await api?.close();
  });

  test('each token has its own rate limit: 429 with Retry-After past it', async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await api.call('GET', '/v1/sessions/session-missing')).status);
    expect(statuses).toEqual([404, 404, 404, 404, 404, 429]);
    const limited = await api.call<ErrorBody>('GET', '/v1/sessions/session-missing');
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await api.call('GET', '/v1/sessions/session-missing', { token: 'globex' })).status).toBe(404);
  });

  test('made-up tokens count against the address: rotating them neither bypasses the limit nor resets a real one', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await api.call('GET', '/v1/sessions', { token: `tok_made_up_${i}` })).status);
    const counts = statuses.reduce<Record<number, number>>((all, status) => ({ ...all, [status]: (all[status] ?? 0) + 1 }), {});
    console.log(`60 requests with 60 made-up tokens from one address: ${JSON.stringify(counts)}`);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(counts[429]).toBe(55);
    // acme exhausted its limit in the test before: the made-up tokens did not push its count out.
    expect((await api.call('GET', '/v1/sessions/session-missing')).status).toBe(429);
  });

});

test('a blocked event loop makes the API shed load with 503 overloaded', async () => {
  const config = loadConfig({ API_TOKENS: JSON.stringify(Object.values(TOKENS)), API_MAX_EVENT_LOOP_DELAY: '1ms', LOG_LEVEL: 'silent' });
  const client = lazyClient(config);
  const app = await buildApi({ config, logger: testLogger, client, tokens: config.api.tokens! });
  try {
    // Let the event-loop monitor take its first samples, then block the loop.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      // Busy: nothing else in this process runs, as under a CPU-bound overload.
    }
    let overloaded: { statusCode: number; json: () => ErrorBody; headers: Record<string, unknown> } | undefined;
    for (let attempt = 0; attempt < 80 && !overloaded; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const response = await app.inject({ method: 'GET', url: '/healthz' });
      if (response.statusCode === 503) overloaded = response;
    }
    expect(overloaded?.json().error.code).toBe('overloaded');
    expect(overloaded?.headers['retry-after']).toBe('5');
  } finally {
    await app.close();
    await client.connection.close();
  }
});

test.each([
  ['json', 1],
  ['pretty', 0],
] as const)('with LOG_FORMAT=%s, an info-level log has %i line(s) per request (people see requests at debug only)', async (format, expected) => {
  const { logger, lines } = capturingLogger('info');
  const config = loadConfig({ API_TOKENS: JSON.stringify(Object.values(TOKENS)), LOG_FORMAT: format, LOG_LEVEL: 'info' });
  const client = lazyClient(config);
  const app = await buildApi({ config, logger, client, tokens: config.api.tokens! });
  try {
    await app.inject({ method: 'GET', url: '/healthz' });
    expect(lines.filter((line) => /"msg":"request"/.test(line))).toHaveLength(expected);
  } finally {
    await app.close();
    await client.connection.close();
  }
});
