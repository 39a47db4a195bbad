/**
 * Every route of the API over HTTP: success, each documented error, and the auth matrix (no token, a bad
 * token, a missing scope, another tenant's session).
 */
import { buildApi } from '../../src/api/app';
import { startApiBeside, startApiHarness, TOKENS, waitForApiPhase, type ApiHarness, type TokenName } from '../harness/api';
import { webhookHeaders } from '../../src/contract/heygen-webhooks';
import { DEFAULT_SIMULATOR_WEBHOOK_SECRET } from '../../src/contract/simulator';
import { capturingLogger } from '../harness/logs';
import { eventually } from '../harness/wait';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApiHarness();
});
afterAll(async () => {
  await api?.close();
});

type ErrorBody = { error: { code: string; message: string; requestId: string; details?: unknown } };
const create = (prompt: string, token: TokenName = 'acme', extra: Record<string, unknown> = {}) =>
  api.call<{ id: string; status: string; links: Record<string, string> }>('POST', '/v1/sessions', { token, body: { prompt, ...extra } });

describe('POST /v1/sessions', () => {
  test('starts a session: 201, id, status, links, Location', async () => {
    const response = await create('A teaser [[sim think=1h]]', 'acme', { orientation: 'portrait', labels: { team: 'growth' }, review: { timeout: '2d', onTimeout: 'approve' } });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      id: expect.stringMatching(/^session-/),
      status: 'creating',
      links: {
        self: `/v1/sessions/${response.body.id}`,
        approve: `/v1/sessions/${response.body.id}/approve`,
        messages: `/v1/sessions/${response.body.id}/messages`,
        stop: `/v1/sessions/${response.body.id}/stop`,
        video: `/v1/sessions/${response.body.id}/video`,
      },
    });
    expect(response.headers.get('location')).toBe(`/v1/sessions/${response.body.id}`);
    const state = await waitForApiPhase(api, response.body.id, 'thinking');
    expect(state).toMatchObject({ requestedBy: 'acme-tool', tenant: 'acme', labels: { team: 'growth' } });
  });

  test.each([
    ['no prompt', {}, 'prompt'],
    ['an empty prompt', { prompt: '' }, 'prompt'],
    ['an unknown field', { prompt: 'x', colour: 'blue' }, ''],
    ['a bad orientation', { prompt: 'x', orientation: 'square' }, 'orientation'],
    ['21 files', { prompt: 'x', files: Array.from({ length: 21 }, () => ({ type: 'asset_id', assetId: 'a' })) }, 'files'],
    ['a bad review timeout', { prompt: 'x', review: { timeout: 'soon' } }, 'review.timeout'],
    // Once a 201 whose review deadline fell past JavaScript's last date and wedged the workflow, or a 500.
    ['a review timeout past any date', { prompt: 'x', review: { timeout: '99990000d' } }, 'review.timeout'],
    ['a review timeout of more digits than a duration has', { prompt: 'x', review: { timeout: '99999999999d' } }, 'review.timeout'],
    ['a review timeout over a year', { prompt: 'x', review: { timeout: '366d' } }, 'review.timeout'],
    ['a review timeout of too many milliseconds', { prompt: 'x', review: { timeout: 8.64e15 } }, 'review.timeout'],
    ['a bad review policy', { prompt: 'x', review: { onTimeout: 'explode' } }, 'review.onTimeout'],
    ['HeyGen-style snake_case', { prompt: 'x', avatar_id: 'a' }, ''],
  ])('refuses %s with 400 invalid_request and the field path', async (_name, body, path) => {
    const response = await api.call<ErrorBody>('POST', '/v1/sessions', { body });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid_request', requestId: expect.stringMatching(/^req_/) });
    expect(response.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'body', path })]));
  });

  test('without a token, nothing about the body is looked at: 401 before validation, media type and size', async () => {
    const unauthenticated = [
      await api.call<ErrorBody>('POST', '/v1/sessions', { token: null, body: { prompt: 123 } }),
      await api.call<ErrorBody>('POST', '/v1/sessions', { token: null, rawBody: 'prompt', headers: { 'content-type': 'text/plain' } }),
      await api.call<ErrorBody>('POST', '/v1/sessions', { token: null, rawBody: JSON.stringify({ prompt: 'x'.repeat(2_000_000) }) }),
      await api.call<ErrorBody>('POST', '/v1/sessions', { token: 'tok_not_a_real_token', body: { prompt: 123 } }),
      await api.call<ErrorBody>('POST', '/v1/sessions/session-x/approve', { token: null, rawBody: '{"message":' }),
    ];
    expect(unauthenticated.map((r) => [r.status, r.body.error.code])).toEqual(unauthenticated.map(() => [401, 'unauthorized']));
    for (const response of unauthenticated) expect(response.body.error.details).toBeUndefined();
    // With a token, the same bodies get their real answers.
    expect((await api.call('POST', '/v1/sessions', { body: { prompt: 123 } })).status).toBe(400);
    expect((await api.call('POST', '/v1/sessions', { rawBody: 'prompt', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });

  test('the same Idempotency-Key and body give the same session (200), once', async () => {
    const headers = { 'idempotency-key': 'create-once-1' };
    const first = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Once [[sim think=1h]]' }, headers });
    const second = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Once [[sim think=1h]]' }, headers });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body.id).toBe(first.body.id);
    // The key is the client's: another token using it makes another session.
    const other = await api.call<{ id: string }>('POST', '/v1/sessions', { token: 'globex', body: { prompt: 'Once [[sim think=1h]]' }, headers });
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(first.body.id);
    await waitForApiPhase(api, first.body.id, 'thinking');
    expect(await api.sessions.heygenSessions(first.body.id)).toHaveLength(1);
  });

  test('the same Idempotency-Key with another body is 422', async () => {
    const headers = { 'idempotency-key': 'create-conflict-1' };
    expect((await api.call('POST', '/v1/sessions', { body: { prompt: 'First [[sim think=1h]]' }, headers })).status).toBe(201);
    const conflict = await api.call<ErrorBody>('POST', '/v1/sessions', { body: { prompt: 'Second' }, headers });
    expect(conflict.status).toBe(422);
    expect(conflict.body.error.code).toBe('idempotency_key_reused');
  });

  test('a malformed Idempotency-Key, bad JSON, a non-JSON body and an oversized body are refused', async () => {
    const badKey = await api.call<ErrorBody>('POST', '/v1/sessions', { body: { prompt: 'x' }, headers: { 'idempotency-key': 'x'.repeat(300) } });
    expect([badKey.status, badKey.body.error.code]).toEqual([400, 'invalid_request']);
    const badJson = await api.call<ErrorBody>('POST', '/v1/sessions', { rawBody: '{"prompt": ' });
    expect([badJson.status, badJson.body.error.code, badJson.body.error.message]).toEqual([400, 'invalid_request', 'The body is not valid JSON.']);
    const text = await api.call<ErrorBody>('POST', '/v1/sessions', { rawBody: 'hello', headers: { 'content-type': 'text/plain' } });
    expect([text.status, text.body.error.code]).toEqual([415, 'unsupported_media_type']);
    const huge = await api.call<ErrorBody>('POST', '/v1/sessions', { body: { prompt: 'x'.repeat(1_100_000) } });
    expect([huge.status, huge.body.error.code]).toEqual([413, 'payload_too_large']);
  });
});

describe('reading and listing', () => {
  test('GET /v1/sessions/:id: the state, 404 for unknown, 400 for a malformed id', async () => {
    const { body } = await create('Read me [[sim think=1h]]');
    const state = await waitForApiPhase(api, body.id, 'thinking');
    expect(state).toMatchObject({ id: body.id, phase: 'thinking', heygenSessionId: expect.stringMatching(/^sess_/) });
    const missing = await api.call<ErrorBody>('GET', '/v1/sessions/session-does-not-exist');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
    const malformed = await api.call<ErrorBody>('GET', `/v1/sessions/${encodeURIComponent('bad id!')}`);
    expect([malformed.status, malformed.body.error.code]).toEqual([400, 'invalid_request']);
  });

  test('GET /v1/sessions: by status, paginated, per tenant', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await create(`List ${i} [[sim think=1h]]`, 'initech')).body.id);
    for (const id of ids) await waitForApiPhase(api, id, 'thinking', 'initech');
    const listThinking = async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { sessions: { id: string; status: string }[]; nextCursor: string | null } } = await api.call(
          'GET',
          `/v1/sessions?status=thinking&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          { token: 'initech' },
        );
        expect(page.status).toBe(200);
        expect(page.body.sessions.length).toBeLessThanOrEqual(2);
        for (const session of page.body.sessions) expect(session.status).toBe('thinking');
        seen.push(...page.body.sessions.map((s) => s.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      return seen.sort();
    };
    // The list comes from Temporal's visibility store, which learns a new phase a moment after the session has it.
    const seen = await eventually(async () => {
      const listed = await listThinking();
      return listed.length === ids.length ? listed : undefined;
    }, { what: 'the three sessions listed as thinking' });
    expect(seen).toEqual([...ids].sort());
    const first = await api.call<{ nextCursor: string }>('GET', '/v1/sessions?limit=1', { token: 'initech' });
    const otherFilter = await api.call<ErrorBody>('GET', `/v1/sessions?status=reviewing&cursor=${first.body.nextCursor}`, { token: 'initech' });
    expect([otherFilter.status, otherFilter.body.error.code]).toEqual([400, 'invalid_request']);
    // acme sees none of them; admin sees them all.
    const acme = await api.call<{ sessions: { id: string }[] }>('GET', '/v1/sessions?limit=100');
    expect(acme.body.sessions.map((s) => s.id)).not.toEqual(expect.arrayContaining([ids[0]]));
    const admin = await api.call<{ sessions: { id: string }[] }>('GET', '/v1/sessions?limit=100', { token: 'admin' });
    expect(admin.body.sessions.map((s) => s.id)).toEqual(expect.arrayContaining(ids));
  });

  test.each([
    ['status=sleeping', 'status'],
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['cursor=not-a-real-cursor', 'cursor'],
  ])('GET /v1/sessions?%s is 400', async (query, path) => {
    const response = await api.call<ErrorBody>('GET', `/v1/sessions?${query}`);
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
  });
});

describe('decisions', () => {
  test('approve at review: 200 with the new state; again with the same key: the same outcome, one HeyGen message', async () => {
    const { body } = await create('Approve me [[sim think=50s generate=1h]]');
    await waitForApiPhase(api, body.id, 'reviewing');
    const headers = { 'idempotency-key': 'approve-1' };
    const first = await api.call<{ phase: string; actions: { requestId: string; by: string; outcome: string }[] }>('POST', `/v1/sessions/${body.id}/approve`, {
      body: { message: 'Looks great, go ahead.' },
      headers,
    });
    expect(first.status).toBe(200);
    expect(['generating', 'thinking']).toContain(first.body.phase);
    expect(first.body.actions).toEqual([expect.objectContaining({ requestId: 'approve-1', by: 'acme-tool', outcome: 'applied' })]);
    const again = await api.call('POST', `/v1/sessions/${body.id}/approve`, { body: { message: 'Looks great, go ahead.' }, headers });
    expect(again.status).toBe(200);
    const [heygen] = await api.sessions.heygenSessions(body.id);
    expect(heygen!.messages).toEqual([{ message: 'Looks great, go ahead.', auto_proceed: true, at: expect.any(String) }]);
  });

  test('a message at review is a revision: 200, back to thinking', async () => {
    const { body } = await create('Revise me [[sim think=50s revise=1h]]');
    await waitForApiPhase(api, body.id, 'reviewing');
    const response = await api.call<{ phase: string }>('POST', `/v1/sessions/${body.id}/messages`, { body: { message: 'Shorter intro' } });
    expect([response.status, response.body.phase]).toEqual([200, 'thinking']);
    const missing = await api.call<ErrorBody>('POST', `/v1/sessions/${body.id}/messages`, { body: {} });
    expect([missing.status, missing.body.error.code]).toEqual([400, 'invalid_request']);
  });

  test('not at a checkpoint: 409 not_awaiting_input with the status, and nothing reaches HeyGen', async () => {
    const { body } = await create('Busy [[sim think=1h]]');
    await waitForApiPhase(api, body.id, 'thinking');
    for (const [path, payload] of [
      ['approve', {}],
      ['messages', { message: 'hello?' }],
    ] as const) {
      const response = await api.call<ErrorBody>('POST', `/v1/sessions/${body.id}/${path}`, { body: payload });
      expect(response.status).toBe(409);
      expect(response.body.error).toMatchObject({ code: 'not_awaiting_input', details: { status: 'thinking' } });
    }
    expect((await api.sessions.heygenSessions(body.id))[0]!.messages).toEqual([]);
  });

  test('a finished session: 409 session_finished', async () => {
    const { body } = await create('Quick [[sim review=skip think=1ms generate=1ms]]');
    await waitForApiPhase(api, body.id, 'completed');
    const response = await api.call<ErrorBody>('POST', `/v1/sessions/${body.id}/approve`, { body: {} });
    expect([response.status, response.body.error.code]).toEqual([409, 'session_finished']);
  });
});

describe('stop and video', () => {
  test('stop: 202, idempotent, and the session ends stopped with one HeyGen stop', async () => {
    const { body } = await create('Stop me [[sim think=1h]]');
    await waitForApiPhase(api, body.id, 'thinking');
    const first = await api.call('POST', `/v1/sessions/${body.id}/stop`);
    expect([first.status, first.body]).toEqual([202, { id: body.id, status: 'stopping' }]);
    await waitForApiPhase(api, body.id, 'stopped');
    const second = await api.call('POST', `/v1/sessions/${body.id}/stop`);
    expect([second.status, second.body]).toEqual([202, { id: body.id, status: 'finished' }]);
    await api.sessions.client.workflow.getHandle(body.id).result().catch(() => undefined);
    expect((await api.sessions.heygenSessions(body.id))[0]!.calls.stop).toBe(1);
  });

  test('video: 409 before completion, 200 after', async () => {
    const { body } = await create('Video [[sim think=50s generate=50s]]');
    await waitForApiPhase(api, body.id, 'reviewing');
    const early = await api.call<ErrorBody>('GET', `/v1/sessions/${body.id}/video`);
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ code: 'video_not_ready', details: { status: 'reviewing' } });
    await api.call('POST', `/v1/sessions/${body.id}/approve`, { body: {} });
    await waitForApiPhase(api, body.id, 'completed');
    const video = await api.call<{ sessionId: string; url: string; durationSeconds: number }>('GET', `/v1/sessions/${body.id}/video`);
    expect(video.status).toBe(200);
    expect(video.body).toMatchObject({ sessionId: body.id, status: 'completed', durationSeconds: 30, url: expect.stringContaining('/video.mp4') });
    expect((await fetch(video.body.url)).status).toBe(200);
  });
});

describe('the auth matrix', () => {
  let acmeSession: string;
  beforeAll(async () => {
    acmeSession = (await create('Owned by acme [[sim think=1h]]')).body.id;
    await waitForApiPhase(api, acmeSession, 'thinking');
  });

  const routes = (id: () => string) =>
    [
      ['POST', () => '/v1/sessions', 'sessions:create', { prompt: 'x' }],
      ['GET', () => '/v1/sessions', 'sessions:read', undefined],
      ['GET', () => `/v1/sessions/${id()}`, 'sessions:read', undefined],
      ['POST', () => `/v1/sessions/${id()}/approve`, 'sessions:review', {}],
      ['POST', () => `/v1/sessions/${id()}/messages`, 'sessions:review', { message: 'x' }],
      ['POST', () => `/v1/sessions/${id()}/stop`, 'sessions:stop', undefined],
      ['GET', () => `/v1/sessions/${id()}/video`, 'sessions:read', undefined],
      ['DELETE', () => `/v1/sessions/${id()}/review-links/rl_${'A'.repeat(22)}`, 'sessions:review', undefined],
    ] as const;

  test.each(routes(() => acmeSession).map(([method, path, scope, body]) => [`${method} ${path().replace(/session-[\w-]+/, ':id')}`, method, path, scope, body]))(
    '%s',
    async (_name, method, path, scope, body) => {
      const noToken = await api.call<ErrorBody>(method, path(), { token: null, body });
      expect([noToken.status, noToken.body.error.code]).toEqual([401, 'unauthorized']);
      expect(noToken.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const badToken = await api.call<ErrorBody>(method, path(), { token: 'tok_not_a_real_token_at_all', body });
      expect([badToken.status, badToken.body.error.code]).toEqual([401, 'unauthorized']);
      const lacking: TokenName = scope === 'sessions:read' ? 'acmeCreator' : 'acmeReader';
      const wrongScope = await api.call<ErrorBody>(method, path(), { token: lacking, body });
      expect([wrongScope.status, wrongScope.body.error.code]).toEqual([403, 'forbidden']);
      if (path().includes(acmeSession)) {
        const otherTenant = await api.call<ErrorBody>(method, path(), { token: 'globex', body });
        expect([otherTenant.status, otherTenant.body.error]).toEqual([404, expect.objectContaining({ code: 'not_found', message: 'No such session.' })]);
      }
    },
  );

  test('unknown /v1 routes and methods: 401 without a valid token, so nothing can be listed without one; 404 with one (issue 22, defect 10)', async () => {
    const probes = [
      ['GET', '/v1/nope'],
      ['DELETE', `/v1/sessions/${acmeSession}`],
      ['PUT', '/v1/sessions'],
      ['GET', '/v1/webhooks'],
      ['GET', '/v1/'],
    ] as const;
    const seen: Record<string, [number, number, number]> = {};
    for (const [method, path] of probes) {
      const none = await api.call<ErrorBody>(method, path, { token: null });
      const made = await api.call<ErrorBody>(method, path, { token: 'tok_not_a_real_token_at_all' });
      const real = await api.call<ErrorBody>(method, path, { token: 'acmeReader' });
      seen[`${method} ${path.replace(acmeSession, ':id')}`] = [none.status, made.status, real.status];
      if (none.status === 401) expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    console.log(`unknown /v1 routes, [no token, made-up token, real token]: ${JSON.stringify(seen)}`);
    for (const statuses of Object.values(seen)) expect(statuses).toEqual([401, 401, 404]);
  });

  test('admin reaches every tenant', async () => {
    expect((await api.call('GET', `/v1/sessions/${acmeSession}`, { token: 'admin' })).status).toBe(200);
  });

  test('tokens appear in no log line and no response', async () => {
    const { logger, lines } = capturingLogger();
    const app = await buildApi({ config: api.config, logger, client: api.sessions.client, tokens: Object.values(TOKENS) });
    const bodies: string[] = [];
    try {
      for (const [token, url] of [
        [TOKENS.acme.token, `/v1/sessions/${acmeSession}`],
        [TOKENS.acmeReader.token, `/v1/sessions/${acmeSession}/stop`],
        ['tok_guess_0123456789abcdef', '/v1/sessions'],
      ] as const) {
        const method = url.endsWith('/stop') ? 'POST' : 'GET';
        bodies.push((await app.inject({ method, url, headers: { authorization: `Bearer ${token}` } })).body);
      }
    } finally {
      await app.close();
    }
    expect(lines.length).toBeGreaterThan(2);
    for (const text of [...lines, ...bodies]) {
      for (const token of [...Object.values(TOKENS).map((t) => t.token), 'tok_guess_0123456789abcdef']) expect(text).not.toContain(token);
    }
  });
});

describe('system routes', () => {
  test("an address's flood of made-up tokens leaves health, readiness and HeyGen's webhook alone (issue 22, defect 8)", async () => {
    // An instance of its own: its address counts start at zero and this flood touches no other test.
    const beside = await startApiBeside(api, {});
    try {
      const flood: Record<number, number> = {};
      for (let i = 0; i < 620; i++) {
        const { status } = await beside.call('GET', '/v1/sessions', { token: `tok_made_up_${i}_0123456789` });
        flood[status] = (flood[status] ?? 0) + 1;
      }
      const rawBody = JSON.stringify({ event_type: 'video_agent.success', event_data: { callback_id: 'session-nobody' } });
      const headers = webhookHeaders(rawBody, DEFAULT_SIMULATOR_WEBHOOK_SECRET, `evt_${Date.now()}`, Math.floor(Date.now() / 1000));
      const after = {
        healthz: (await beside.call('GET', '/healthz', { token: null })).status,
        readyz: (await beside.call('GET', '/readyz', { token: null })).status,
        webhook: (await beside.call('POST', '/v1/webhooks/heygen', { token: null, rawBody, headers })).status,
        madeUpToken: (await beside.call('GET', '/v1/sessions', { token: 'tok_made_up_once_more_0123456789' })).status,
      };
      console.log(`620 requests with made-up tokens from one address: ${JSON.stringify(flood)}; then ${JSON.stringify(after)}`);
      expect(flood[429]).toBeGreaterThanOrEqual(20);
      expect(after).toEqual({ healthz: 200, readyz: 200, webhook: 200, madeUpToken: 429 });
    } finally {
      await beside.close();
    }
  });

  test('healthz, readyz, metrics, docs, openapi.json, unknown routes', async () => {
    expect((await api.call('GET', '/healthz', { token: null })).body).toEqual({ ok: true });
    expect((await api.call('GET', '/readyz', { token: null })).body).toEqual({ ok: true });
    await api.call('GET', '/v1/sessions/session-none');
    const metrics = await api.call<string>('GET', '/metrics', { token: null });
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(metrics.body).toMatch(/vao_http_requests_total\{method="GET",route="\/v1\/sessions\/:id",status="404"\} \d+/);
    expect(metrics.body).toMatch(/vao_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/sessions\/:id"\}/);
    const docs = await fetch(`${api.url}/docs`, { redirect: 'follow' });
    expect([docs.status, (await docs.text()).includes('swagger')]).toEqual([200, true]);
    expect((await api.call('GET', '/openapi.json', { token: null })).status).toBe(200);
    const unknown = await api.call<ErrorBody>('GET', '/v2/nothing');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
  });
});

test("the browser's favicon request is answered 204 and not logged at info on every page load", async () => {
  const { logger, lines } = capturingLogger('info');
  const app = await buildApi({ config: api.config, logger, client: api.sessions.client, tokens: Object.values(TOKENS) });
  try {
    const response = await app.inject({ method: 'GET', url: '/favicon.ico' });
    const logged = lines.filter((line) => line.includes('favicon'));
    console.log(`GET /favicon.ico: ${response.statusCode}; lines logged at info about it: ${logged.length}`);
    expect(response.statusCode).toBe(204);
    expect(logged).toEqual([]);
  } finally {
    await app.close();
  }
});

