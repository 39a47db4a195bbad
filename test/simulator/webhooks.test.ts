/**
 * Webhooks from the simulator to a real local receiver: signed as HeyGen signs them (verified with the
 * shared module the API will use), retried on failure, duplicated and dropped on demand.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookEventSchema } from '../../src/contract/heygen';
import { verifyWebhook } from '../../src/contract/heygen-webhooks';
import { startTestSimulator, type TestSimulator } from '../harness/simulator';
import { eventually } from '../harness/wait';

const SECRET = 'whsec_webhook_test_secret';

interface Delivery {
  headers: http.IncomingHttpHeaders;
  rawBody: string;
}

let sim: TestSimulator;
let receiver: http.Server;
let receiverUrl: string;
let deliveries: Delivery[];
/** Status codes to answer with, in order; 200 once exhausted. */
let answers: number[];

beforeAll(async () => {
  sim = await startTestSimulator({ SIMULATOR_WEBHOOK_SECRET: SECRET });
  receiver = http.createServer((request, response) => {
    let rawBody = '';
    request.on('data', (chunk: Buffer) => (rawBody += chunk.toString()));
    request.on('end', () => {
      deliveries.push({ headers: request.headers, rawBody });
      response.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/heygen`;
});
afterAll(async () => {
  await sim.close();
  await new Promise((resolve) => receiver.close(resolve));
});
beforeEach(async () => {
  await sim.reset();
  deliveries = [];
  answers = [];
});

async function runSession(prompt: string, callbackId: string): Promise<string> {
  const { session_id } = await sim.client().createSession({ prompt, mode: 'chat', callback_url: receiverUrl, callback_id: callbackId });
  return session_id;
}

function verified(delivery: Delivery) {
  return verifyWebhook(toInput(delivery));
}

test('a completed session sends one signed video_agent.success naming the session, video and callback id', async () => {
  const sessionId = await runSession('Hooked [[sim review=skip think=10s generate=10s]]', 'wf-success');
  await eventually(() => deliveries.length === 1);
  const [delivery] = deliveries;
  expect(verified(delivery!)).toMatchObject({ ok: true, eventId: expect.stringMatching(/^evt_/) });
  const event = WebhookEventSchema.parse(JSON.parse(delivery!.rawBody));
  const session = await sim.client().getSession(sessionId);
  expect(event).toEqual({
    event_type: 'video_agent.success',
    event_data: { session_id: sessionId, video_id: session.video_id, callback_id: 'wf-success', video_url: expect.stringContaining('/video.mp4?') },
  });
  expect(verifyWebhook({ ...toInput(delivery!), secret: 'whsec_wrong_secret' })).toEqual({ ok: false, reason: 'bad_signature' });
  expect(verifyWebhook({ ...toInput(delivery!), rawBody: delivery!.rawBody.replace('wf-success', 'wf-other') })).toEqual({ ok: false, reason: 'bad_signature' });
  // One event, sent once and acknowledged: nothing more is due (the simulator counts as it sends).
  const stats = await eventually(async () => {
    const [session] = (await sim.stats({ session_id: sessionId })).sessions;
    return session?.webhooks.delivered === 1 ? session : undefined;
  }, { what: 'the delivery acknowledged' });
  expect(stats.webhooks).toMatchObject({ events: 1, attempts: 1, delivered: 1, duplicated: 0 });
  expect(deliveries).toHaveLength(1);
});

function toInput(delivery: Delivery) {
  return {
    rawBody: delivery.rawBody,
    signature: delivery.headers['heygen-signature'] as string,
    timestamp: delivery.headers['heygen-timestamp'] as string,
    eventId: delivery.headers['heygen-event-id'] as string,
    secret: SECRET,
  };
}

test('a failed session sends video_agent.fail with the reason', async () => {
  await runSession('Doomed [[sim fail=generating review=skip think=10s generate=10s]]', 'wf-fail');
  await eventually(() => deliveries.length === 1);
  expect(JSON.parse(deliveries[0]!.rawBody)).toMatchObject({
    event_type: 'video_agent.fail',
    event_data: { callback_id: 'wf-fail', failure_message: expect.stringContaining('Avatar rendering timed out') },
  });
});

test('a generate-mode session stopped mid-render fails: video_agent.fail names the stop', async () => {
  const { session_id } = await sim
    .client()
    .createSession({ prompt: 'One shot [[sim think=1ms generate=1h]]', callback_url: receiverUrl, callback_id: 'wf-stopped' });
  await eventually(async () => (await sim.client().getSession(session_id)).status === 'generating');
  await sim.client().stopSession(session_id);
  await eventually(() => deliveries.length === 1);
  const { video_id } = await sim.client().getSession(session_id);
  expect(JSON.parse(deliveries[0]!.rawBody)).toEqual({
    event_type: 'video_agent.fail',
    event_data: { session_id, video_id, callback_id: 'wf-stopped', failure_message: expect.stringContaining('Stopped at your request') },
  });
});

test('no callback_url, no webhook; reviewing sends none either (only completion and failure do)', async () => {
  const { session_id } = await sim.client().createSession({ prompt: 'Quiet [[sim review=skip think=1ms generate=1ms]]' });
  const review = await runSession('Review only [[sim think=1ms]]', 'wf-review');
  await eventually(async () => (await sim.client().getSession(session_id)).status === 'completed');
  await eventually(async () => (await sim.client().getSession(review)).status === 'reviewing');
  // Events are counted as the simulator emits them, at each change: none was.
  for (const id of [session_id, review]) expect((await sim.stats({ session_id: id })).sessions[0]!.webhooks.events).toBe(0);
  expect(deliveries).toEqual([]);
});

test('a failed delivery is retried with backoff until acknowledged, with the same event id', async () => {
  answers = [500, 503];
  const sessionId = await runSession('Retry [[sim review=skip think=1ms generate=1ms]]', 'wf-retry');
  await eventually(() => deliveries.length === 3, { timeoutMs: 10_000 });
  expect(new Set(deliveries.map((d) => d.headers['heygen-event-id'])).size).toBe(1);
  expect(deliveries.every((d) => verified(d).ok)).toBe(true);
  const [stats] = (await sim.stats({ session_id: sessionId })).sessions;
  expect(stats!.webhooks).toMatchObject({ events: 1, attempts: 3, delivered: 1, failed_attempts: 2 });
});

test('duplication delivers the same event twice; drops deliver nothing', async () => {
  await sim.configure({ webhooks: { duplicateRate: 1 } });
  await runSession('Twice [[sim review=skip think=1ms generate=1ms]]', 'wf-dup');
  await eventually(() => deliveries.length === 2);
  expect(deliveries[0]!.headers['heygen-event-id']).toBe(deliveries[1]!.headers['heygen-event-id']);

  deliveries = [];
  await sim.configure({ webhooks: { duplicateRate: 0, dropRate: 1 } });
  const dropped = await runSession('Never [[sim review=skip think=1ms generate=1ms]]', 'wf-drop');
  await eventually(async () => (await sim.stats({ session_id: dropped })).sessions[0]?.webhooks.dropped === 1);
  // The one event was dropped, never attempted.
  expect((await sim.stats({ session_id: dropped })).sessions[0]!.webhooks).toMatchObject({ events: 1, attempts: 0 });
  expect(deliveries).toEqual([]);
});
