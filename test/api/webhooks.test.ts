/**
 * POST /v1/webhooks/heygen: HeyGen's signed callbacks wake sessions at once; forged, tampered, stale
 * and replayed deliveries are refused or deduplicated, and nothing is signalled for them.
 */
import { webhookHeaders } from '../../src/contract/heygen-webhooks';
import { DEFAULT_SIMULATOR_WEBHOOK_SECRET } from '../../src/contract/simulator';
import { startApiHarness, waitForApiPhase, type ApiHarness } from '../harness/api';
import { recordHistory } from '../harness/sessions';
import { uniqueId } from '../harness/temporal';
import { eventually } from '../harness/wait';

let api: ApiHarness;
beforeAll(async () => {
  // Polling alone would look again only after a minute.
  api = await startApiHarness({ webhooks: true, env: { SESSION_TIMING: JSON.stringify({ pollInitial: '60s', pollMax: '60s', videoPollInterval: 20 }) } });
});
afterAll(async () => {
  await api?.close();
});

const signalsOf = async (id: string) =>
  ((await api.sessions.client.workflow.getHandle(id).fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'heygenEvent')
    .length;

function delivery(body: object, options: { secret?: string; eventId?: string; timestamp?: number } = {}) {
  const rawBody = JSON.stringify(body);
  const headers = webhookHeaders(rawBody, options.secret ?? DEFAULT_SIMULATOR_WEBHOOK_SECRET, options.eventId ?? uniqueId('evt'), options.timestamp ?? Math.floor(Date.now() / 1000));
  return { rawBody, headers };
}

const post = (d: { rawBody: string; headers: Record<string, string> }) => api.call('POST', '/v1/webhooks/heygen', { token: null, rawBody: d.rawBody, headers: d.headers });

test('while HeyGen renders and will call back, status reads are only a safety net: a 3 s render at 200 ms polling costs 2 reads, not 15', async () => {
  const handle = await api.sessions.start({
    prompt: 'Rendered quietly [[sim review=skip think=200s generate=3000s]]',
    timing: { pollInitial: 20, pollMax: 200, videoPollInterval: 20 },
  });
  const state = await api.sessions.waitForPhase(handle, 'completed', 20_000);
  const [heygen] = await api.sessions.heygenSessions(handle.workflowId);
  const rendering = state.phaseHistory.find((p) => p.phase === 'generating')!;
  const learned = state.phaseHistory.find((p) => p.phase === 'finalizing')!;
  console.log(`status reads in all: ${heygen!.calls.get}; render learned ${Date.parse(learned.at) - Date.parse(rendering.at)} ms after it began (3000 ms)`);
  expect(heygen!.webhooks).toMatchObject({ delivered: 1 });
  // A few while thinking (20 ms growing to 200 ms over 200 ms), then one as the render starts and one the webhook asked for.
  expect(heygen!.calls.get).toBeLessThanOrEqual(8);
  expect(Date.parse(learned.at) - Date.parse(rendering.at)).toBeLessThan(5_000);
  await recordHistory(handle, 'called-back');
});

test("HeyGen's completion webhook wakes the session at once, where polling would wait a minute", async () => {
  const { body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Woken [[sim review=skip think=1500s generate=1ms]]' } });
  const state = await waitForApiPhase(api, body.id, 'completed', 'acme', 15_000);
  expect(state).toMatchObject({ phase: 'completed' });
  const [heygen] = await api.sessions.heygenSessions(body.id);
  expect(heygen!.webhooks).toMatchObject({ events: 1, delivered: 1 });
  expect(await signalsOf(body.id)).toBe(1);
  // One status read in all: the one the webhook asked for (the follow's first read was a minute away).
  expect(heygen!.calls.get).toBe(1);
});

test("a session HeyGen's webhook finished ends with no activity pending: the follow the webhook cut short finished cancelling first", async () => {
  // The follow's first read is a minute away and its heartbeat (which carries a cancellation to it)
  // comes every 16 s: the session completes long before the follow would learn of its cancellation.
  const handle = await api.sessions.start({
    prompt: 'Finished by its webhook [[sim review=skip think=1500s generate=1ms]]',
    timing: { pollInitial: '60s', pollMax: '60s', videoPollInterval: 20, activityHeartbeatTimeout: '20s' },
  });
  const result = await handle.result();
  expect(result.phase).toBe('completed');
  const { raw } = await handle.describe();
  const pending = (raw.pendingActivities ?? []).map((activity) => `${activity.activityType?.name} (state ${activity.state})`);
  const events = (await handle.fetchHistory()).events ?? [];
  const cancelRequested = events.filter((event) => event.activityTaskCancelRequestedEventAttributes).length;
  console.log(`follows cancelled: ${cancelRequested}; activities pending after completion: ${pending.length} ${pending.join(', ')}`);
  expect(cancelRequested).toBeGreaterThanOrEqual(1);
  expect(pending).toEqual([]);
  await recordHistory(handle, 'follow-cancel-awaited');
});

describe('refused and deduplicated deliveries', () => {
  let id: string;
  beforeAll(async () => {
    id = (await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Target [[sim think=1h]]' } })).body.id;
    await waitForApiPhase(api, id, 'thinking');
  });

  const event = () => ({ event_type: 'video_agent.success', event_data: { session_id: 'sess_x', video_id: 'v', callback_id: id } });

  test('a genuine delivery is signalled once; replays of its body (any event id, fresh timestamps, a restarted or second API instance) are acknowledged and not signalled', async () => {
    const body = { ...event(), event_data: { ...event().event_data, video_id: 'v_replayed' } };
    const genuine = delivery(body, { eventId: 'evt_genuine_1' });
    const first = await post(genuine);
    expect([first.status, first.body]).toEqual([200, { received: true }]);
    await eventually(async () => (await signalsOf(id)) === 1);
    const replays = [genuine, delivery(body, { eventId: 'evt_replay_2' }), delivery(body, { eventId: 'evt_replay_3', timestamp: Math.floor(Date.now() / 1000) + 60 })];
    const statuses = [];
    for (const replay of replays) statuses.push((await post(replay)).status);
    // Another API process: nothing of the first one's memory, the same Temporal.
    const other = await startApiHarness({ sessions: { worker: false }, env: { LOG_LEVEL: 'silent' } });
    try {
      const response = await other.call('POST', '/v1/webhooks/heygen', { token: null, rawBody: replays[1]!.rawBody, headers: delivery(body, { eventId: 'evt_replay_4' }).headers });
      statuses.push(response.status);
    } finally {
      await other.close();
    }
    // The route signals before it answers: every signal it sent is in the history by now.
    const signals = await signalsOf(id);
    console.log(`1 delivery + ${statuses.length} replays of its body: HTTP ${statuses.join(', ')}; heygenEvent signals ${signals}`);
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(signals).toBe(1);
  });

  test.each([
    ['a tampered body', () => ({ ...delivery(event()), rawBody: JSON.stringify({ ...event(), event_type: 'video_agent.fail' }) }), 'bad_signature'],
    ['the wrong secret', () => delivery(event(), { secret: 'whsec_somebody_else' }), 'bad_signature'],
    ['a stale timestamp', () => delivery(event(), { timestamp: Math.floor(Date.now() / 1000) - 360 }), 'stale_timestamp'],
    ['no signature', () => {
      const d = delivery(event());
      const { 'heygen-signature': _dropped, ...headers } = d.headers;
      return { rawBody: d.rawBody, headers };
    }, 'missing_headers'],
  ])('%s is refused with 401 and nothing is signalled', async (_name, make, reason) => {
    const before = await signalsOf(id);
    const response = await post(make());
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: { code: 'unauthorized', message: `The webhook was refused (${reason}).` } });
    // Refused before any signal (the route signals before it answers).
    expect(await signalsOf(id)).toBe(before);
  });

  test('a signed delivery for an unknown session is acknowledged; a signed non-event is a 400', async () => {
    const unknown = await post(delivery({ event_type: 'video_agent.success', event_data: { callback_id: 'session-nobody' } }));
    expect([unknown.status, unknown.body]).toEqual([200, { received: true }]);
    const notAnEvent = await post(delivery({ hello: 'world' }));
    expect(notAnEvent.status).toBe(400);
    const options = await fetch(`${api.url}/v1/webhooks/heygen`, { method: 'OPTIONS' });
    expect(options.status).toBe(200);
  });
});
