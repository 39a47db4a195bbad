/**
 * Signed notifications to callers (issue #11, part 1), with a real receiver over HTTP: signatures checked
 * with the `standardwebhooks` library and by hand from the spec, retries that deliver once more with the
 * same id, a dead receiver that never slows a session, and addresses we refuse to send to.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { createNotifyActivities } from '../../src/activities/notify';
import { loadApiConfig } from '../../src/api/config';
import { buildApi } from '../../src/api/app';
import { lazyClient } from '../../src/temporal/connection';
import { startApiHarness, TOKENS, waitForApiPhase, type ApiHarness } from '../harness/api';
import { FAST_TIMING, recordHistory } from '../harness/sessions';
import { testLogger } from '../harness/temporal';
import { eventually } from '../harness/wait';

const SECRET = `whsec_${Buffer.from('a notification secret of 32 bytes').toString('base64')}`;
const tokens = [{ ...TOKENS.acme, notifySecret: SECRET }, TOKENS.globex, TOKENS.admin];
// The API and the worker share the review-link key: the worker's links open the API's pages.
const tokenEnv = {
  API_TOKENS: JSON.stringify(tokens),
  NOTIFY_ALLOW_PRIVATE: 'true',
  REVIEW_LINK_SECRET: 'a review link secret of at least 32 characters',
  API_PUBLIC_URL: 'https://reviews.example.test',
};
// Retries from 50 ms (5 failures take a few seconds with the activity round trips), given up after 10 s.
const timing = { ...FAST_TIMING, notifyRetryInitial: '50ms', notifyRetryWindow: '10s' };

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A receiver on 127.0.0.1 that answers each request with the next status of `plan` (then 200). */
class Receiver {
  readonly received: Received[] = [];
  plan: number[] = [];
  /** Decides the status from the body when set (before `plan`); undefined falls through to the plan. */
  answer: ((body: string) => number | undefined) | undefined;
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = this.answer?.(text) ?? this.plan.shift() ?? 200;
        this.received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), status });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let api: ApiHarness;
let receiver: Receiver;
beforeAll(async () => {
  api = await startApiHarness({ env: { ...tokenEnv, SESSION_TIMING: JSON.stringify(timing) }, sessions: { env: tokenEnv } });
  receiver = await new Receiver().start();
});
afterAll(async () => {
  await receiver?.close();
  await api?.close();
});

type Body = { type: string; timestamp: string; data: { session: Record<string, unknown> & { id: string; phase: string }; links: Record<string, string> } };
type Delivery = { id: string; event: string; outcome: string; attempts: number; lastStatus: number | null; lastError: string | null };

const create = (prompt: string, extra: Record<string, unknown>) =>
  api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt, ...extra } }).then((r) => {
    expect(r.status).toBe(201);
    return r.body.id;
  });
const notificationsOf = async (id: string) => (await api.call<{ notifications: Delivery[]; phase: string }>('GET', `/v1/sessions/${id}`)).body;
const forSession = (id: string) => receiver.received.filter((r) => (JSON.parse(r.body) as Body).data.session.id === id);

/** The Standard Webhooks signature, computed from the spec rather than by the library. */
function specSignature(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

test('review and completion are told to the caller, signed: verified by the standardwebhooks library and by the spec', async () => {
  const id = await create('Notify me [[sim think=50s generate=50s]]', { notify: { url: receiver.url } });
  await waitForApiPhase(api, id, 'reviewing');
  await eventually(() => forSession(id).length === 1, { what: `the awaiting_review notification (got ${JSON.stringify(forSession(id).map((r) => r.body.slice(0, 80)))})` });
  // The notification carries a review link for this session, which opens it and approves as the link.
  const link = (JSON.parse(forSession(id)[0]!.body) as Body).data.links.review!;
  expect(link).toMatch(new RegExp(`^https://reviews\\.example\\.test/review/${id}#t=rl1\\.`));
  const credential = link.slice(link.indexOf('#t=') + 3);
  expect((await api.call('GET', `/v1/sessions/${id}`, { token: credential })).status).toBe(200);
  const approved = await api.call<{ actions: { kind: string; by: string }[] }>('POST', `/v1/sessions/${id}/approve`, { token: credential, body: {} });
  expect(approved.status).toBe(200);
  expect(approved.body.actions.at(-1)).toMatchObject({ kind: 'approve', by: 'link:acme-tool' });
  await waitForApiPhase(api, id, 'completed');
  await eventually(() => forSession(id).length === 2, { what: 'the completed notification' });

  const [review, completed] = forSession(id).map((r) => ({ ...r, parsed: JSON.parse(r.body) as Body }));
  for (const delivery of [review!, completed!]) {
    // The library (not ours) accepts it...
    expect(new Webhook(SECRET).verify(delivery.body, delivery.headers as Record<string, string>)).toEqual(delivery.parsed);
    // ...and so does the spec's own recipe.
    const { 'webhook-id': webhookId, 'webhook-timestamp': timestamp, 'webhook-signature': signature } = delivery.headers as Record<string, string>;
    expect(signature).toBe(specSignature(SECRET, webhookId!, timestamp!, delivery.body));
    expect(() => new Webhook(`whsec_${Buffer.from('somebody else entirely, 32 bytes').toString('base64')}`).verify(delivery.body, delivery.headers as Record<string, string>)).toThrow();
  }
  expect(review!.parsed).toMatchObject({
    type: 'session.awaiting_review',
    data: {
      session: { id, phase: 'reviewing', review: { kind: 'storyboard', revision: 1, resources: expect.arrayContaining([expect.objectContaining({ status: 'ready', url: expect.stringMatching(/^http/) })]) } },
      links: { self: `/v1/sessions/${id}`, approve: `/v1/sessions/${id}/approve` },
    },
  });
  expect(completed!.parsed).toMatchObject({ type: 'session.completed', data: { session: { phase: 'completed', video: { url: expect.stringMatching(/^http/) } } } });
  expect(completed!.parsed.data.links.review).toBeUndefined();
  expect(review!.headers['webhook-id']).not.toBe(completed!.headers['webhook-id']);

  await eventually(async () => (await api.sessions.client.workflow.getHandle(id).describe()).status.name === 'COMPLETED', { what: 'the workflow to close' });
  await recordHistory(api.sessions.client.workflow.getHandle(id), 'notified');
  // The workflow names the token; only the worker holds its secret.
  const raw = JSON.stringify(await api.sessions.client.workflow.getHandle(id).fetchHistory());
  const history = [...raw.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join('\n');
  expect(history).toContain('"signedBy":"acme-tool"');
  expect(`${raw}${history}`).not.toContain(SECRET.slice('whsec_'.length, 30));
  const state = await notificationsOf(id);
  expect(state.notifications.map((d) => [d.event, d.outcome, d.attempts, d.lastStatus])).toEqual([
    ['session.awaiting_review', 'delivered', 1, 200],
    ['session.completed', 'delivered', 1, 200],
  ]);
});

test('a receiver failing 5 times, then answering, gets the event exactly once more, with the same id and body', async () => {
  receiver.plan = [500, 503, 502, 500, 429];
  const id = await create('Retry me [[sim think=50s generate=1h]]', {
    notify: { url: receiver.url, events: ['session.awaiting_review'] },
  });
  await waitForApiPhase(api, id, 'reviewing');
  await eventually(async () => (await notificationsOf(id)).notifications[0]?.outcome === 'delivered', {
    what: 'the delivery',
    timeoutMs: 20_000,
  }).catch(async (error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify((await notificationsOf(id)).notifications)}`);
  });
  // Recorded as delivered once the receiver answered 200: every attempt it got is in by now.
  const attempts = forSession(id);
  console.log(`receiver answers: ${attempts.map((a) => a.status).join(', ')}; state: ${JSON.stringify((await notificationsOf(id)).notifications[0])}`);
  expect(attempts.map((a) => a.status)).toEqual([500, 503, 502, 500, 429, 200]);
  expect(new Set(attempts.map((a) => a.headers['webhook-id'])).size).toBe(1);
  expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
  expect((await notificationsOf(id)).notifications[0]).toMatchObject({ outcome: 'delivered', attempts: 6, lastStatus: 200, lastError: null });
  await recordHistory(api.sessions.client.workflow.getHandle(id), 'notify-retried');
});

test('a dead receiver never slows the session: it completes, the video is there, and the notification is given up after its window', async () => {
  const dead = await new Receiver().start();
  await dead.close(); // nothing listens there any more
  const id = await create('Nobody listens [[sim review=skip think=50s generate=50s]]', { autoApprove: true, notify: { url: dead.url } });
  const state = await waitForApiPhase(api, id, 'completed', 'acme', 20_000);
  // Completed, with the notification still being retried: the session did not wait for it.
  expect((state as unknown as { notifications: Delivery[] }).notifications.map((d) => d.outcome)).toContain('pending');
  expect((await api.call('GET', `/v1/sessions/${id}/video`)).status).toBe(200);
  await eventually(async () => (await api.sessions.client.workflow.getHandle(id).describe()).status.name === 'COMPLETED', { timeoutMs: 30_000, what: 'the workflow to close' });
  const final = await notificationsOf(id);
  console.log(`dead receiver: ${JSON.stringify(final.notifications.map((d) => [d.event, d.outcome, d.attempts, d.lastError]))}`);
  expect(final.notifications.every((d) => d.outcome === 'failed' && d.attempts >= 2 && /ECONNREFUSED/.test(d.lastError ?? ''))).toBe(true);
});

test('order: an older notification still failing is superseded by a newer one, never sent after it; retries stop when the session ends', async () => {
  // The receiver refuses the storyboard's notification until it has the session's last one.
  let stoppedSeen = false;
  receiver.answer = (body) => {
    const type = (JSON.parse(body) as Body).type;
    if (type === 'session.stopped') stoppedSeen = true;
    return type === 'session.awaiting_review' && !stoppedSeen ? 503 : undefined;
  };
  try {
    const id = await create('Order me [[sim think=50s generate=1h]]', { notify: { url: receiver.url } });
    await waitForApiPhase(api, id, 'reviewing');
    await eventually(() => forSession(id).some((r) => r.status === 503), { what: 'a refused awaiting_review attempt' });
    expect((await api.call('POST', `/v1/sessions/${id}/stop`, { body: {} })).status).toBe(202);
    const handle = api.sessions.client.workflow.getHandle(id);
    await eventually(async () => (await handle.describe()).status.name !== 'RUNNING', { timeoutMs: 30_000, what: 'the workflow to close' });
    const arrivals = forSession(id).map((r) => {
      const webhookId = String(r.headers['webhook-id']);
      const parsed = JSON.parse(r.body) as Body & { sequence?: number };
      return { seq: Number(webhookId.slice(webhookId.lastIndexOf('-') + 1)), sequence: parsed.sequence, type: parsed.type, status: r.status };
    });
    const final = await notificationsOf(id);
    console.log(`order: receiver got ${arrivals.map((a) => `${a.type.replace('session.', '')}#${a.seq}=${a.status}`).join(', ')}; log ${JSON.stringify(final.notifications.map((d) => [d.event, d.outcome, d.attempts]))}`);
    // Sequence numbers only grow at the receiver (a retry repeats the same one), and each body says its own.
    for (let i = 1; i < arrivals.length; i++) expect(arrivals[i]!.seq).toBeGreaterThanOrEqual(arrivals[i - 1]!.seq);
    expect(arrivals.map((a) => a.sequence)).toEqual(arrivals.map((a) => a.seq));
    expect(final.notifications.map((d) => [d.event, d.outcome])).toEqual([
      ['session.awaiting_review', 'superseded'],
      ['session.stopped', 'delivered'],
    ]);
    expect(final.notifications[0]!.lastError).toMatch(/not attempted again: a newer notification of the session was waiting/);
    await recordHistory(handle, 'notify-superseded');
  } finally {
    receiver.answer = undefined;
  }
});

describe('where notifications may go', () => {
  test.each([
    ['loopback', 'http://127.0.0.1:9/hooks'],
    ['a private network', 'http://10.1.2.3/hooks'],
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data'],
    ['IPv6 loopback', 'http://[::1]:9/hooks'],
    ['an IPv4-mapped private address', 'http://[::ffff:192.168.1.1]/hooks'],
    ['a local name', 'http://localhost:9/hooks'],
    ['not http', 'ftp://example.com/hooks'],
  ])('%s is refused with a 400 naming notify.url (without NOTIFY_ALLOW_PRIVATE)', async (_name, url) => {
    const config = loadApiConfig({ API_TOKENS: JSON.stringify(tokens), TEMPORAL_ADDRESS: '127.0.0.1:1', LOG_LEVEL: 'silent' });
    const client = lazyClient(config);
    const app = await buildApi({ config, logger: testLogger, client, tokens });
    try {
      const response = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { authorization: `Bearer ${TOKENS.acme.token}` }, payload: { prompt: 'x', notify: { url } } });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.details).toEqual([expect.objectContaining({ path: 'notify.url' })]);
    } finally {
      await app.close();
      await client.connection.close();
    }
  });

  // Issue 22, defect 2: reserved ranges the old list missed, and IPv6 forms that embed a reserved IPv4.
  // Teredo's client address is stored inverted: 80ff:fffe is ~127.0.0.1.
  const RESERVED_LITERALS = [
    ['documentation (TEST-NET-1)', 'http://192.0.2.1/hooks'],
    ['documentation (TEST-NET-2)', 'http://198.51.100.1/hooks'],
    ['documentation (TEST-NET-3)', 'http://203.0.113.1/hooks'],
    ['IPv4-compatible loopback', 'http://[::7f00:1]/hooks'],
    ['IPv4-compatible loopback, dotted', 'http://[::127.0.0.1]/hooks'],
    ['IPv4-translated loopback', 'http://[::ffff:0:7f00:1]/hooks'],
    ['6to4 of loopback', 'http://[2002:7f00:1::1]/hooks'],
    ['6to4 of the cloud metadata address', 'http://[2002:a9fe:a9fe::1]/hooks'],
    ['site-local', 'http://[fec0::1]/hooks'],
    ['IPv6 documentation', 'http://[2001:db8::1]/hooks'],
    ['discard-only', 'http://[100::1]/hooks'],
    ['Teredo of loopback', 'http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hooks'],
  ] as const;

  test.each(RESERVED_LITERALS)('%s is refused by the API with a 400 naming notify.url (without NOTIFY_ALLOW_PRIVATE)', async (_name, url) => {
    const config = loadApiConfig({ API_TOKENS: JSON.stringify(tokens), TEMPORAL_ADDRESS: '127.0.0.1:1', LOG_LEVEL: 'silent' });
    const client = lazyClient(config);
    const app = await buildApi({ config, logger: testLogger, client, tokens });
    try {
      const response = await app.inject({ method: 'POST', url: '/v1/sessions', headers: { authorization: `Bearer ${TOKENS.acme.token}` }, payload: { prompt: 'x', notify: { url } } });
      console.log(`create notifying ${url}: ${response.statusCode} ${response.json().error?.message ?? ''}`);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.details).toEqual([expect.objectContaining({ path: 'notify.url' })]);
    } finally {
      await app.close();
      await client.connection.close();
    }
  });

  test.each(RESERVED_LITERALS)('%s is refused by the worker before it connects (an IP literal is never looked up)', async (_name, url) => {
    const activities = createNotifyActivities({ secrets: new Map([['acme-tool', SECRET]]), allowPrivate: false, logger: testLogger, timeoutMs: 2_000 });
    const outcome = await activities.deliverNotification({ url, id: 'evt-literal', body: '{}', signedBy: 'acme-tool' }).then(
      (result) => ({ type: 'delivered', message: JSON.stringify(result), nonRetryable: false }),
      (error: { type?: string; message: string; nonRetryable?: boolean }) => ({ type: error.type, message: error.message, nonRetryable: error.nonRetryable }),
    );
    console.log(`worker delivering to ${url}: ${outcome.type} (${outcome.message})`);
    expect(outcome).toMatchObject({ type: 'NotificationRefused', nonRetryable: true, message: expect.stringMatching(/^refused: /) });
  });

  test('a token without a notifySecret cannot ask for notifications', async () => {
    const response = await api.call<{ error: { message: string } }>('POST', '/v1/sessions', { token: 'globex', body: { prompt: 'x', notify: { url: receiver.url } } });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/no notifySecret/);
  });

  test('a name that resolves to a private address is refused when the request is made, not retried', async () => {
    const activities = createNotifyActivities({
      secrets: new Map([['acme-tool', SECRET]]),
      allowPrivate: false,
      logger: testLogger,
      resolve: ((_host: string, _options: unknown, callback: (e: null, a: { address: string; family: number }[]) => void) =>
        callback(null, [{ address: '10.0.0.7', family: 4 }])) as never,
    });
    await expect(activities.deliverNotification({ url: 'http://hooks.example.com/x', id: 'evt-1', body: '{}', signedBy: 'acme-tool' })).rejects.toMatchObject({
      type: 'NotificationRefused',
      nonRetryable: true,
      message: expect.stringMatching(/hooks\.example\.com resolves to a private or reserved address/),
    });
  });
});
