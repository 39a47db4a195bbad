/**
 * The HeyGen client over real HTTP against the simulator: every error path is parsed into one typed
 * error with the right retry class, and the API key never shows up in errors or logs.
 */
import net from 'node:net';
import { HeyGenClient, type HeyGenRequestRecord } from '../../src/heygen/client';
import { HeyGenApiError } from '../../src/heygen/errors';
import { DEFAULT_SIMULATOR_API_KEY } from '../../src/simulator/config';
import { capturingLogger } from '../harness/logs';
import { startTestSimulator, type TestSimulator } from '../harness/simulator';
import { eventually } from '../harness/wait';

let sim: TestSimulator;
let client: HeyGenClient;

beforeAll(async () => {
  sim = await startTestSimulator({ SIMULATOR_SLOW_MS: '1500' });
  client = sim.client({ readTimeoutMs: 500, writeTimeoutMs: 500 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  await sim.reset();
});

async function failure(promise: Promise<unknown>): Promise<HeyGenApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HeyGenApiError);
  return error as HeyGenApiError;
}

const createBody = { prompt: 'A product teaser [[sim think=1h]]', mode: 'chat' as const };

describe('successful calls', () => {
  test('create, get, message, stop, list', async () => {
    const created = await client.createSession(createBody);
    expect(created).toMatchObject({ status: 'thinking', video_id: null });
    const session = await client.getSession(created.session_id);
    expect(session.messages).toHaveLength(1);
    const page = await client.listSessions({ limit: 5 });
    expect(page.items.map((s) => s.session_id)).toEqual([created.session_id]);
    expect(await client.stopSession(created.session_id)).toEqual({ session_id: created.session_id });
  });
});

describe('HTTP errors', () => {
  test('429 is retryable after Retry-After', async () => {
    await sim.configure({ retryAfterSeconds: 7 });
    await sim.fault({ endpoint: 'get_session', fault: '429' });
    const error = await failure(client.getSession('sess_x'));
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', retry: 'retryable', retryAfterMs: 7_000 });
    expect(error.requestId).toMatch(/^req_/);
  });

  test('429 on a create is retryable too: HeyGen did nothing', async () => {
    await sim.fault({ endpoint: 'create_session', fault: '429' });
    expect(await failure(client.createSession(createBody))).toMatchObject({ status: 429, retry: 'retryable' });
    expect((await sim.stats()).sessions).toHaveLength(0);
  });

  test('5xx on reads and on stop is retryable', async () => {
    const { session_id } = await client.createSession(createBody);
    await sim.fault({ endpoint: 'get_session', fault: '500' });
    expect(await failure(client.getSession(session_id))).toMatchObject({ status: 500, code: 'internal_error', retry: 'retryable' });
    await sim.fault({ endpoint: 'stop_session', fault: '503' });
    expect(await failure(client.stopSession(session_id))).toMatchObject({ status: 503, code: 'http_503', retry: 'retryable' });
  });

  test("5xx on a create or message is ambiguous, with the gateway page's text as message", async () => {
    await sim.fault({ endpoint: 'create_session', fault: '502' });
    const error = await failure(client.createSession(createBody, { idempotencyKey: 'k-502' }));
    expect(error).toMatchObject({ status: 502, code: 'http_502', retry: 'ambiguous', idempotencyKey: 'k-502' });
    expect(error.message).toContain('502 Bad Gateway');
    const { session_id } = await client.createSession({ ...createBody, prompt: 'x [[sim think=1ms]]' });
    await sim.fault({ endpoint: 'send_message', fault: '500' });
    expect(await failure(client.sendMessage(session_id, { message: 'hi' }))).toMatchObject({ status: 500, retry: 'ambiguous' });
  });

  test.each([
    ['401 unauthorized', () => new HeyGenClient({ baseUrl: sim.url, apiKey: 'wrong-key' }).getSession('sess_x'), 401, 'unauthorized'],
    ['404 not found', () => client.getSession('sess_missing'), 404, 'not_found'],
    ['404 video not found', () => client.getVideo('nope'), 404, 'video_not_found'],
    ['400 from HeyGen validation', () => client.createSession({ prompt: 'x [[sim think=forever]]' }), 400, 'invalid_parameter'],
  ])('%s is not retryable', async (_name, call, status, code) => {
    expect(await failure(call())).toMatchObject({ status, code, retry: 'not_retryable' });
  });

  test('a request HeyGen would reject is refused before it is sent', async () => {
    const error = await failure(client.createSession({ prompt: '' }));
    expect(error).toMatchObject({ status: undefined, code: 'invalid_request', param: 'prompt', retry: 'not_retryable' });
    expect((await sim.stats()).totals.create_session).toBeUndefined();
  });
});

describe('transport failures', () => {
  test('a connection reset is retryable on reads, ambiguous on writes', async () => {
    await sim.fault({ endpoint: 'get_session', fault: 'reset' });
    expect(await failure(client.getSession('sess_x'))).toMatchObject({ status: undefined, code: 'connection_reset', retry: 'retryable' });
    await sim.fault({ endpoint: 'create_session', fault: 'reset' });
    expect(await failure(client.createSession(createBody))).toMatchObject({ code: 'connection_reset', retry: 'ambiguous' });
  });

  test('a timeout is retryable on reads, ambiguous on writes', async () => {
    await sim.fault({ endpoint: 'get_session', fault: 'slow' });
    expect(await failure(client.getSession('sess_x'))).toMatchObject({ code: 'timeout', retry: 'retryable' });
    await sim.fault({ endpoint: 'create_session', fault: 'slow' });
    const error = await failure(client.createSession(createBody));
    expect(error).toMatchObject({ code: 'timeout', retry: 'ambiguous' });
    expect(error.message).toContain('no response within 500 ms');
  });

  test('a refused connection never reached HeyGen: retryable even for a create', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as net.AddressInfo;
        server.close(() => resolve(free));
      });
    });
    const offline = new HeyGenClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'k' });
    expect(await failure(offline.createSession(createBody))).toMatchObject({ code: 'connection_refused', retry: 'retryable' });
  });

  test('a malformed success body is an error: ambiguous for a create, retryable for a read', async () => {
    await sim.fault({ endpoint: 'create_session', fault: 'malformed' });
    expect(await failure(client.createSession(createBody))).toMatchObject({ status: 200, code: 'malformed_response', retry: 'ambiguous' });
    await sim.fault({ endpoint: 'list_sessions', fault: 'malformed' });
    expect(await failure(client.listSessions())).toMatchObject({ code: 'malformed_response', retry: 'retryable' });
  });

  test("the caller's own abort propagates as an abort, not a HeyGen error", async () => {
    await sim.fault({ endpoint: 'get_session', fault: 'slow' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('activity cancelled')), 50);
    await expect(sim.client().getSession('sess_x', { signal: controller.signal })).rejects.toThrow('activity cancelled');
  });
});

describe('idempotency keys', () => {
  test('the same key returns the same session and creates one', async () => {
    const first = await client.createSession(createBody, { idempotencyKey: 'wf-1/create' });
    const second = await client.createSession(createBody, { idempotencyKey: 'wf-1/create' });
    expect(second.session_id).toBe(first.session_id);
    const stats = await sim.stats();
    expect(stats.sessions).toHaveLength(1);
    expect(stats.sessions[0]!.idempotency_key).toBe('wf-1/create');
    expect(stats.idempotent_replays).toBe(1);
  });

  test('an ambiguous create (reset after HeyGen acted) repeated with its key yields the one session', async () => {
    await sim.fault({ endpoint: 'create_session', fault: 'reset', when: 'after' });
    const error = await failure(client.createSession(createBody, { idempotencyKey: 'wf-2/create' }));
    expect(error.retry).toBe('ambiguous');
    const retried = await client.createSession(createBody, { idempotencyKey: error.idempotencyKey });
    const stats = await sim.stats();
    expect(stats.sessions.map((s) => s.session_id)).toEqual([retried.session_id]);
  });

  test('a duplicate still in flight is 409 request_in_progress, retryable', async () => {
    await sim.fault({ endpoint: 'create_session', fault: 'slow' });
    const slow = sim.client({ writeTimeoutMs: 5_000 }).createSession(createBody, { idempotencyKey: 'wf-3/create' });
    // Held by the fault, its key reserved before: the duplicate comes while it is in flight.
    await eventually(async () => (await sim.stats()).faults_injected.slow === 1, { what: 'the first create held' });
    expect(await failure(client.createSession(createBody, { idempotencyKey: 'wf-3/create' }))).toMatchObject({
      status: 409,
      code: 'request_in_progress',
      retry: 'retryable',
    });
    const first = await slow;
    expect((await client.createSession(createBody, { idempotencyKey: 'wf-3/create' })).session_id).toBe(first.session_id);
  });

  test('the same key with a different body is refused', async () => {
    await client.createSession(createBody, { idempotencyKey: 'wf-4/create' });
    expect(await failure(client.createSession({ ...createBody, prompt: 'other' }, { idempotencyKey: 'wf-4/create' }))).toMatchObject({
      status: 422,
      code: 'idempotency_key_reused',
      retry: 'not_retryable',
    });
  });

  test('messages honour keys too: one message recorded however often it is sent', async () => {
    const { session_id } = await client.createSession({ prompt: 'x [[sim think=1ms]]', mode: 'chat' });
    await eventually(async () => (await client.getSession(session_id)).status === 'reviewing', { what: 'the storyboard' });
    await sim.fault({ endpoint: 'send_message', fault: '500', when: 'after' });
    const error = await failure(client.sendMessage(session_id, { message: 'Go ahead', auto_proceed: true }, { idempotencyKey: 'wf-5/approve-1' }));
    expect(error.retry).toBe('ambiguous');
    await client.sendMessage(session_id, { message: 'Go ahead', auto_proceed: true }, { idempotencyKey: 'wf-5/approve-1' });
    const [session] = (await sim.stats({ session_id })).sessions;
    expect(session!.messages).toHaveLength(1);
  });
});

test('every request sent is reported by route pattern (never the ids) with its outcome; one refused before sending is not', async () => {
  const records: HeyGenRequestRecord[] = [];
  const recording = sim.client({ readTimeoutMs: 500, writeTimeoutMs: 500, onRequest: (record) => records.push(record) });
  const created = await recording.createSession(createBody);
  await recording.getSession(created.session_id);
  await failure(recording.getResource(created.session_id, 'res_missing'));
  await sim.fault({ endpoint: 'send_message', fault: '429' });
  await failure(recording.sendMessage(created.session_id, { message: 'Shorter' }));
  await sim.fault({ endpoint: 'get_video', fault: '502' });
  await failure(recording.getVideo('vid_x'));
  await sim.fault({ endpoint: 'list_session_videos', fault: 'malformed' });
  await failure(recording.listSessionVideos(created.session_id));
  await sim.fault({ endpoint: 'stop_session', fault: 'slow' });
  await failure(recording.stopSession(created.session_id));
  await sim.fault({ endpoint: 'get_session', fault: 'reset' });
  await failure(recording.getSession(created.session_id));
  await sim.fault({ endpoint: 'get_session', fault: 'slow' });
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('activity cancelled')), 50);
  await expect(recording.getSession(created.session_id, { signal: controller.signal })).rejects.toThrow('activity cancelled');
  await failure(recording.createSession({ ...createBody, prompt: '' }));

  expect(records.map(({ method, route, outcome }) => [method, route, outcome])).toEqual([
    ['POST', '/v3/video-agents', 'success'],
    ['GET', '/v3/video-agents/{session_id}', 'success'],
    ['GET', '/v3/video-agents/{session_id}/resources/{resource_id}', 'client_error'],
    ['POST', '/v3/video-agents/{session_id}', 'rate_limited'],
    ['GET', '/v3/videos/{video_id}', 'server_error'],
    ['GET', '/v3/video-agents/{session_id}/videos', 'invalid_response'],
    ['POST', '/v3/video-agents/{session_id}/stop', 'timeout'],
    ['GET', '/v3/video-agents/{session_id}', 'connection_error'],
    ['GET', '/v3/video-agents/{session_id}', 'cancelled'],
  ]);
  for (const record of records) expect(record.seconds).toBeGreaterThan(0);
  // The slow answer was given up on at the 500 ms timeout: its latency says so.
  expect(records[6]!.seconds).toBeGreaterThanOrEqual(0.5);
});

test('a failing onRequest never fails the call', async () => {
  const { logger, lines } = capturingLogger();
  const throwing = sim.client({
    logger,
    onRequest: () => {
      throw new Error('meter broken');
    },
  });
  expect(await throwing.createSession(createBody)).toMatchObject({ status: 'thinking' });
  expect(lines.some((line) => line.includes('"msg":"recording a HeyGen request failed"'))).toBe(true);
});

test('the API key appears in no error and no log line', async () => {
  const { logger, lines } = capturingLogger();
  const logged = sim.client({ logger, readTimeoutMs: 300, writeTimeoutMs: 300 });
  const errors: unknown[] = [];
  for (const fault of ['429', '500', '502', 'reset', 'malformed', 'slow'] as const) {
    await sim.fault({ endpoint: '*', fault });
    errors.push(await logged.createSession(createBody).catch((e: unknown) => e));
  }
  errors.push(await new HeyGenClient({ baseUrl: sim.url, apiKey: 'sk_V2_very_secret', logger }).getSession('x').catch((e: unknown) => e));
  expect(lines.length).toBeGreaterThan(5);
  for (const text of [...lines, ...errors.map((e) => `${String(e)} ${JSON.stringify(e)} ${(e as Error).stack}`)]) {
    expect(text).not.toContain(DEFAULT_SIMULATOR_API_KEY);
    expect(text).not.toContain('sk_V2_very_secret');
  }
});
