/**
 * GET /v1/sessions/:id/events (issue #11, part 2): one reader follows a whole session (review, a
 * revision, the approval, completion) and sees each change once, in order; the stream ends with the
 * session, refuses what the other routes refuse, and closes cleanly when the API stops.
 */
import { startApiHarness, waitForApiPhase, TOKENS, type ApiHarness } from '../harness/api';
import { eventually } from '../harness/wait';
import { readEventStream } from '../../src/contract/event-stream';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApiHarness({ env: { API_STREAM_INTERVAL: '50ms' } });
});
afterAll(async () => {
  await api?.close();
});

interface StreamEvent {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/** Reads an event stream until it ends; `events` fills as they arrive. */
function follow(url: string, token = TOKENS.acme.token) {
  const events: StreamEvent[] = [];
  const controller = new AbortController();
  const done = (async () => {
    // A 503 (no worker answered the first read in time, as under a loaded CI machine) is retried, as a
    // client told Retry-After would.
    let response = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal });
    for (let retries = 0; response.status === 503 && retries < 20; retries++) {
      await response.text();
      await new Promise((resolve) => setTimeout(resolve, 250));
      response = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal });
    }
    if (response.status !== 200) return { status: response.status, body: await response.text() };
    for await (const event of readEventStream(response.body as unknown as AsyncIterable<Uint8Array>)) events.push(event as StreamEvent);
    return { status: 200, contentType: response.headers.get('content-type') };
  })();
  return { events, done, stop: () => controller.abort() };
}

test('one reader follows a whole session: each change once, in order, then the end', async () => {
  // HeyGen's thinking and rendering each last until the stream has shown them (the simulator ends them
  // then), however long the stream takes on this machine: every phase is there to be seen.
  const { body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Follow me [[sim think=1000h revise=1000h generate=1000h]]' } });
  const stream = follow(`${api.url}/v1/sessions/${body.id}/events`);
  const heygenSessionId = (await waitForApiPhase(api, body.id, 'thinking')).heygenSessionId as string;
  /** Waits for the stream to show the phase HeyGen is in, then ends HeyGen's part of it. */
  const seenThenFinished = async (phase: string, after: number) => {
    await eventually(() => stream.events.slice(after).some((e) => (e.event === 'phase' || e.event === 'snapshot') && e.data.phase === phase), { what: `${phase} on the stream` });
    await api.sessions.sim.finishPhase(heygenSessionId);
  };
  await seenThenFinished('thinking', 0);
  expect(stream.events[0]!.data.phase).not.toBe('reviewing');
  await waitForApiPhase(api, body.id, 'reviewing');
  await eventually(
    async () => {
      const ended = await Promise.race([stream.done, new Promise((resolve) => setTimeout(resolve, 0, undefined))]);
      if (ended) throw new Error(`the stream ended early: ${JSON.stringify(ended)}`);
      return stream.events.some((e) => e.event === 'phase' && e.data.phase === 'reviewing');
    },
    { what: 'the review on the stream' },
  );
  const beforeMessage = stream.events.length;
  expect((await api.call('POST', `/v1/sessions/${body.id}/messages`, { body: { message: 'Shorter, please' } })).status).toBe(200);
  await seenThenFinished('thinking', beforeMessage);
  await eventually(() => stream.events.some((e) => e.event === 'review' && e.data.revision === 2) && stream.events.at(-1)?.data.phase === 'reviewing', {
    what: 'revision 2 on the stream',
    timeoutMs: 20_000,
  });
  const beforeApprove = stream.events.length;
  expect((await api.call('POST', `/v1/sessions/${body.id}/approve`, { body: {} })).status).toBe(200);
  await seenThenFinished('generating', beforeApprove);
  const result = await stream.done;
  expect(result).toMatchObject({ status: 200, contentType: 'text/event-stream; charset=utf-8' });

  const { events } = stream;
  console.log(`stream: ${events.map((e) => (e.event === 'phase' ? `phase:${String(e.data.phase)}` : e.event === 'review' ? `review:${String(e.data.revision)}` : e.event)).join(' ')}`);
  expect(events[0]!.event).toBe('snapshot');
  expect(events.at(-1)!).toMatchObject({ event: 'end', data: { phase: 'completed' } });
  expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
  // Phases: each once, in order (the snapshot shows where it started).
  const phases = events.filter((e) => e.event === 'phase').map((e) => e.data.phase);
  const start = (events[0]!.data as { phase: string }).phase;
  expect([start, ...phases].filter((phase, i, all) => phase !== all[i - 1])).toEqual([start, ...phases]);
  expect(phases.slice(phases.indexOf('reviewing'))).toEqual(['reviewing', 'thinking', 'reviewing', 'generating', 'finalizing', 'archiving', 'completed']);
  // Two storyboards, one video, every message once.
  expect(events.filter((e) => e.event === 'review').map((e) => e.data.revision).filter((r, i, all) => r !== all[i - 1])).toEqual([1, 2]);
  expect(events.filter((e) => e.event === 'video')).toHaveLength(1);
  const seqs = events.filter((e) => e.event === 'message').map((e) => e.data.seq as number);
  expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
  // A review packet comes before the phase that says it is there.
  const firstReview = events.findIndex((e) => e.event === 'review');
  const firstReviewing = events.findIndex((e) => e.event === 'phase' && e.data.phase === 'reviewing');
  expect(firstReview).toBeLessThan(firstReviewing);
});

test('a finished session: the snapshot and the end at once; another tenant, an unknown id, no token: refused before any stream', async () => {
  const { body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Quick [[sim review=skip think=1s generate=1s]]', autoApprove: true } });
  await waitForApiPhase(api, body.id, 'completed');
  const stream = follow(`${api.url}/v1/sessions/${body.id}/events`);
  await stream.done;
  expect(stream.events.map((e) => e.event)).toEqual(['snapshot', 'end']);

  expect((await follow(`${api.url}/v1/sessions/${body.id}/events`, TOKENS.initech.token).done).status).toBe(404);
  expect((await follow(`${api.url}/v1/sessions/session-nobody/events`).done).status).toBe(404);
  expect((await follow(`${api.url}/v1/sessions/${body.id}/events`, 'tok_not_a_real_token').done).status).toBe(401);
});

test('when the API stops, an open stream is told (shutdown) and ends', async () => {
  const other = await startApiHarness({ sessions: { worker: false }, env: { API_STREAM_INTERVAL: '50ms', LOG_LEVEL: 'silent' } });
  const { body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Long [[sim think=1h]]' } });
  await waitForApiPhase(api, body.id, 'thinking');
  // The second API reads the same Temporal (its own worker is off: the first one's answers the query).
  const stream = follow(`${other.url}/v1/sessions/${body.id}/events`);
  await eventually(() => stream.events.length > 0, { what: 'the snapshot' });
  await other.close();
  await stream.done;
  expect(stream.events.map((e) => e.event)).toEqual(['snapshot', 'shutdown']);
});
