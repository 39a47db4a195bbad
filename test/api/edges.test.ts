/**
 * The edges a hostile or careless caller finds (issue #10), each reproduced over HTTP: forged cursors,
 * bodies in other charsets, prototype keys, over-long parameters.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { connect } from 'node:net';
import { webhookHeaders } from '../../src/contract/heygen-webhooks';
import { DEFAULT_SIMULATOR_WEBHOOK_SECRET } from '../../src/contract/simulator';
import { startApiHarness, waitForApiPhase, type ApiHarness } from '../harness/api';
import { countBy } from '../harness/counts';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApiHarness({ env: { API_RATE_LIMIT: '100000' } });
});
afterAll(async () => {
  await api?.close();
});

type ErrorBody = { error: { code: string; message: string; requestId: string; details?: unknown } };

describe('listing cursors', () => {
  const listing = 'WorkflowType="videoAgentSession" AND VideoAgentTenant="acme"';

  test('a cursor anyone could compute from the source (plain hash, garbage page token) is a 400 at once, 40 at a time', async () => {
    // The old scheme: the check value was a public hash of the listing query.
    const forged = Buffer.from(JSON.stringify({ q: createHash('sha256').update(listing).digest('hex').slice(0, 16), t: Buffer.from('garbage').toString('base64') })).toString('base64url');
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        api.call<ErrorBody>('GET', `/v1/sessions?cursor=${i % 2 ? forged : `${Buffer.from(`garbage${i}`).toString('base64url')}.${'A'.repeat(22)}`}`),
      ),
    );
    console.log(`40 forged cursors: ${JSON.stringify(countBy(responses.map((r) => r.status)))} in ${Date.now() - started} ms`);
    expect(responses.map((r) => [r.status, r.body.error.code])).toEqual(responses.map(() => [400, 'invalid_request']));
  });

  test('a genuine cursor works once signed, and not for another listing or with its token edited', async () => {
    for (let i = 0; i < 2; i++) expect((await api.call('POST', '/v1/sessions', { body: { prompt: `Cursor ${i} [[sim think=1h]]` } })).status).toBe(201);
    const first = await api.call<{ nextCursor: string | null }>('GET', '/v1/sessions?limit=1');
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const cursor = first.body.nextCursor!;
    expect((await api.call('GET', `/v1/sessions?limit=1&cursor=${cursor}`)).status).toBe(200);
    expect((await api.call('GET', `/v1/sessions?limit=1&status=thinking&cursor=${cursor}`)).status).toBe(400);
    const [payload, mac] = cursor.split('.');
    const edited = `${Buffer.concat([Buffer.from(payload!, 'base64url'), Buffer.from([1])]).toString('base64url')}.${mac}`;
    expect((await api.call('GET', `/v1/sessions?limit=1&cursor=${edited}`)).status).toBe(400);
  });
});

describe('bodies', () => {
  test.each([
    ['utf-16', Buffer.from('{"prompt":"Ünïcödé prompt here"}', 'utf16le')],
    ['latin1', Buffer.from('{"prompt":"Ünïcödé prompt here"}', 'latin1')],
    ['iso-8859-1', Buffer.from('{"prompt":"Ünïcödé prompt here"}', 'latin1')],
  ])('JSON declared as charset=%s is a 415 naming UTF-8, not parsed as UTF-8', async (charset, bytes) => {
    const response = await fetch(`${api.url}/v1/sessions`, {
      method: 'POST',
      headers: { authorization: 'Bearer tok_acme_tool_4d1e8b7a92c3f605', 'content-type': `application/json; charset=${charset}` },
      body: bytes,
    });
    const body = (await response.json()) as ErrorBody;
    expect([response.status, body.error.code]).toEqual([415, 'unsupported_media_type']);
    expect(body.error.message).toMatch(/UTF-8/);
  });

  test.each(['utf-8', 'UTF-8', 'utf8', '"utf-8"'])('charset=%s is JSON as usual', async (charset) => {
    const response = await api.call<ErrorBody>('POST', '/v1/sessions', { rawBody: JSON.stringify({ prompt: 123 }), headers: { 'content-type': `application/json; charset=${charset}` } });
    expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
  });

  test.each(['__proto__', 'constructor'])('a %s key is named as such, not reported as invalid JSON', async (key) => {
    const rawBody = key === '__proto__' ? '{"prompt":"A prompt","__proto__":{"admin":true}}' : '{"prompt":"A prompt","constructor":{"prototype":{"admin":true}}}';
    const response = await api.call<ErrorBody>('POST', '/v1/sessions', { rawBody });
    expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
    expect(response.body.error.message).toContain(key);
    expect(response.body.error.message).not.toMatch(/not valid JSON/);
  });
});

describe('timing: the operator\'s (SESSION_TIMING), not a caller\'s', () => {
  test('a create body with timing is a 400 that says who sets it, and docs/api.md says the same', async () => {
    const { status, body } = await api.call<{ error: { code: string; message: string } }>('POST', '/v1/sessions', { body: { prompt: 'x', timing: { pollInitial: '5s' } } });
    console.log(`POST /v1/sessions with timing: ${status} ${body.error.message}`);
    expect([status, body.error.code]).toEqual([400, 'invalid_request']);
    expect(body.error.message).toMatch(/timing.*SESSION_TIMING/);
    const docs = readFileSync(path.join(PROJECT_ROOT, 'docs', 'api.md'), 'utf8');
    expect(docs).not.toMatch(/`review\.timeout` and `timing` included/);
    expect(docs).toMatch(/`timing` is not part of the body/);
  });

  test('SESSION_TIMING sets only the fields it names; the rest keep their defaults', async () => {
    const partial = await startApiHarness({ env: { SESSION_TIMING: JSON.stringify({ pollInitial: '7s' }) } });
    try {
      const { body } = await partial.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Partly timed [[sim think=1h]]' } });
      const described = await partial.sessions.client.workflow.getHandle(body.id).describe();
      const history = await partial.sessions.client.workflow.getHandle(body.id).fetchHistory();
      const input = (await partial.sessions.client.options.loadedDataConverter.payloadConverter.fromPayload(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!)) as { timing?: Record<string, unknown> };
      console.log(`SESSION_TIMING {"pollInitial":"7s"} gave the session's input timing ${JSON.stringify(input.timing)} (${described.status.name})`);
      expect(input.timing).toEqual({ pollInitial: 7_000 });
      const state = await waitForApiPhase(partial, body.id, 'thinking');
      expect(state.id).toBe(body.id);
      await partial.sessions.client.workflow.getHandle(body.id).terminate('test over');
    } finally {
      await partial.close();
    }
  });
});

describe('durations: text carries a unit, a JSON number is milliseconds', () => {
  test.each([
    ['"3000" (no unit)', '3000', /bare number has no unit/],
    ['"99999999999d"', '99999999999d', /at most 365d/],
    ['"99990000d"', '99990000d', /at most 365d/],
    ['0', 0, /milliseconds above 0/],
    ['1.5', 1.5, /whole number of milliseconds/],
  ])('review.timeout %s is a 400 naming the field', async (_name, timeout, message) => {
    const response = await api.call<ErrorBody>('POST', '/v1/sessions', { body: { prompt: 'A prompt', review: { timeout } } });
    expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
    expect(response.body.error.details).toEqual([expect.objectContaining({ in: 'body', path: 'review.timeout', message: expect.stringMatching(message) })]);
  });

  test('review.timeout 90000 is 90 s, and "90s" the same', async () => {
    for (const timeout of [90_000, '90s']) {
      const { status, body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'A prompt [[sim think=1h]]', review: { timeout } } });
      expect(status).toBe(201);
      const description = await api.sessions.client.workflow.getHandle(body.id).describe();
      expect(description.status.name).toBe('RUNNING');
      const [input] = (await api.sessions.client.workflow.getHandle(body.id).fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
      expect(JSON.parse(Buffer.from(input!.data!).toString('utf8')).review.timeout).toBe(90_000);
    }
  });
});

describe('the largest durations accepted', () => {
  // The wedge from the issue: a review deadline past JavaScript's largest date failed every workflow
  // task, so reads, approvals and the stop all broke. Whatever the schemas accept must still run.
  const longest = '365d';

  test('review.timeout "365d" through the API: the session parks, reads, takes a decision and stops HeyGen', async () => {
    const { status, body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Longest review [[sim think=1s]]', review: { timeout: longest } } });
    expect(status).toBe(201);
    await waitForApiPhase(api, body.id, 'reviewing');
    const read = await callPast503<{ review: { deadline: string } | null }>('GET', `/v1/sessions/${body.id}`);
    expect(read.status).toBe(200);
    const deadlineDays = (Date.parse(read.body.review!.deadline) - Date.now()) / 86_400_000;
    expect(deadlineDays).toBeGreaterThan(364);
    expect(deadlineDays).toBeLessThanOrEqual(365);
    expect([200, 202]).toContain((await api.call('POST', `/v1/sessions/${body.id}/messages`, { body: { message: 'Warmer colours, please.' } })).status);
    await waitForApiPhase(api, body.id, 'reviewing');
    expect((await callPast503('POST', `/v1/sessions/${body.id}/stop`)).status).toBe(202);
    await waitForApiPhase(api, body.id, 'stopped');
    await endOf(body.id);
    expect((await api.sessions.heygenSessions(body.id))[0]!.calls.stop).toBe(1);
    await expectNoFailedWorkflowTask(body.id);
  });

  test('every timing field at 365d (what SESSION_TIMING may set): the session still reads and stops HeyGen', async () => {
    const fields = ['pollInitial', 'pollMax', 'maxThinking', 'maxGenerating', 'maxVideoWait', 'videoPollInterval', 'pollWhileCalledBack', 'activityHeartbeatTimeout', 'maxQueued', 'notifyRetryWindow', 'notifyRetryInitial'] as const;
    const timing = Object.fromEntries(fields.map((field) => [field, longest]));
    const handle = await api.sessions.start({ prompt: 'Slowest everything [[sim think=1s]]', tenant: 'acme', review: { timeout: longest, onTimeout: 'stop' }, timing });
    await waitForApiPhase(api, handle.workflowId, ['thinking', 'reviewing']);
    expect((await callPast503('GET', `/v1/sessions/${handle.workflowId}`)).status).toBe(200);
    expect((await callPast503('POST', `/v1/sessions/${handle.workflowId}/stop`)).status).toBe(202);
    await waitForApiPhase(api, handle.workflowId, 'stopped');
    await endOf(handle.workflowId);
    expect((await api.sessions.heygenSessions(handle.workflowId))[0]!.calls.stop).toBe(1);
    await expectNoFailedWorkflowTask(handle.workflowId);
    // The run ends once the follow it cancelled has stopped, which it learns at its next heartbeat: with a
    // 365 d heartbeat timeout the SDK sends one at most every 60 s (its maxHeartbeatThrottleInterval).
  }, 180_000);

  /** The harness gives Temporal 1 s per call: on a loaded machine a call may be a 503, as a client retrying would see. */
  async function callPast503<T = Record<string, unknown>>(method: string, path: string) {
    for (let attempt = 1; ; attempt++) {
      const response = await api.call<T>(method, path);
      if (response.status !== 503 || attempt === 5) return response;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** The phase turns `stopped` first; HeyGen is told to stop before the workflow ends. */
  async function endOf(id: string) {
    await api.sessions.client.workflow.getHandle(id).result().catch(() => undefined);
  }

  async function expectNoFailedWorkflowTask(id: string) {
    const history = await api.sessions.client.workflow.getHandle(id).fetchHistory();
    expect(history.events!.filter((event) => event.workflowTaskFailedEventAttributes).length).toBe(0);
  }
});

describe('parameters', () => {
  test.each([
    ['an over-long session id', `/v1/sessions/session-${'x'.repeat(400)}`],
    ['an over-long session id on a sub-route', `/v1/sessions/session-${'y'.repeat(400)}/approve`],
    ['a badly encoded session id', `/v1/sessions/session-%E0%A4%A${'z'.repeat(300)}`],
  ])('%s is a 400 that does not echo the URL back', async (_name, path) => {
    const response = await api.call<ErrorBody>(path.endsWith('approve') ? 'POST' : 'GET', path, path.endsWith('approve') ? { body: {} } : {});
    expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
    expect(JSON.stringify(response.body)).not.toMatch(/xxxxxxxxxx|yyyyyyyyyy|zzzzzzzzzz/);
  });
});

describe('found by the fuzz suite', () => {
  test('a signed webhook whose callback_id Temporal could not take as an id (a lone surrogate) is acknowledged, not a 5xx', async () => {
    const rawBody = '{"event_type":"video_agent.success","event_data":{"session_id":"s","callback_id":"session-\\udc00\\ud800"}}';
    const headers = webhookHeaders(rawBody, DEFAULT_SIMULATOR_WEBHOOK_SECRET, 'evt_surrogate', Math.floor(Date.now() / 1000));
    const response = await api.call('POST', '/v1/webhooks/heygen', { token: null, rawBody, headers });
    expect([response.status, response.body]).toEqual([200, { received: true }]);
  });

  test.each([
    ['a badly encoded id', '/v1/sessions/%%/stop', 'POST'],
    ['an over-long id', `/v1/sessions/session-${'x'.repeat(400)}`, 'GET'],
  ])('without a token, %s on a token route is a 401 (the router checks nothing first)', async (_name, path, method) => {
    const response = await api.call<ErrorBody>(method, path, { token: null });
    expect([response.status, response.body.error.code]).toEqual([401, 'unauthorized']);
  });

  test.each([
    ['headers over 16 KiB', `GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'x'.repeat(40_000)}\r\n\r\n`, 431, 'headers_too_large'],
    ['bytes a URL may not hold', 'GET /v1/sessions/\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'invalid_request'],
  ])('a request Node cannot parse (%s) gets the error envelope, then the connection closes', async (_name, raw, status, code) => {
    const answer = await rawRequest(Buffer.from(raw, 'latin1'));
    expect(answer).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code, message: expect.any(String), requestId: expect.any(String) } });
  });
});

function rawRequest(bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(api.url).port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
    socket.write(bytes);
  });
}
