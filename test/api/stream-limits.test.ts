/**
 * Live event streams are bounded and re-authorised (issue #22, defects 5 and 6): 150 streams from one
 * read token get no more than the per-token cap (the rest 429 with Retry-After), the process has its
 * own cap, many streams on one session read Temporal as one does, and a stream opened with a review
 * link ends when the link expires, with a last event saying why.
 */
import { startApiHarness, waitForApiPhase, TOKENS, type ApiHarness } from '../harness/api';
import { parseExposition, valueOf } from '../harness/metrics';
import { countTemporalReads, openStream, type OpenedStream } from '../harness/streams';
import { eventually } from '../harness/wait';

const PER_TOKEN = 20;
const PER_PROCESS = 30;
const INTERVAL_MS = 100;

let api: ApiHarness;
beforeAll(async () => {
  api = await startApiHarness({
    env: { API_STREAM_INTERVAL: `${INTERVAL_MS}ms`, API_STREAMS_PER_TOKEN: String(PER_TOKEN), API_STREAMS_MAX: String(PER_PROCESS), REVIEW_LINK_SECRET: 'the review link secret of the stream tests' },
  });
});
afterAll(async () => {
  await api?.close();
});

/** A session parked at review; a revision lasts until the test ends it, so nothing moves on its own. */
const parkedSession = async () => {
  const { status, body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Watch me [[sim think=1s revise=1000h]]' } });
  expect(status).toBe(201);
  await waitForApiPhase(api, body.id, 'reviewing');
  return body.id;
};
/** The API's own account of its streams, from GET /metrics. */
const streamMetrics = async () => {
  const exposition = parseExposition((await api.call<string>('GET', '/metrics', { token: null })).body);
  return { open: valueOf(exposition, 'vao_event_streams_open'), sessions: valueOf(exposition, 'vao_event_stream_sessions'), reads: valueOf(exposition, 'vao_event_stream_reads_total') };
};
const eventsUrl = (id: string) => `${api.url}/v1/sessions/${id}/events`;
const openMany = (id: string, bearer: string, count: number) => Promise.all(Array.from({ length: count }, () => openStream(eventsUrl(id), bearer)));
const byStatus = (streams: OpenedStream[]) => streams.reduce<Record<number, number>>((counts, s) => ({ ...counts, [s.status]: (counts[s.status] ?? 0) + 1 }), {});
const closeAll = async (streams: OpenedStream[]) => {
  for (const stream of streams) stream.stop();
  await Promise.all(streams.map((stream) => stream.ended));
};
/** Open streams the API still counts: one more is accepted once the API has seen the others close. */
const waitUntilAccepted = async (id: string, bearer: string) =>
  eventually(async () => {
    const stream = await openStream(eventsUrl(id), bearer);
    if (stream.status === 200) return stream;
    return undefined;
  }, { what: 'a stream to be accepted again' });

test('150 streams from one read token: the per-token cap holds, the rest get 429 with Retry-After; the process has its cap too', async () => {
  const id = await parkedSession();
  const reader = await openMany(id, TOKENS.acmeReader.token, 150);
  const counts = byStatus(reader);
  console.log(`150 streams from one read token: ${JSON.stringify(counts)} (cap ${PER_TOKEN})`);
  try {
    expect(counts[200]).toBe(PER_TOKEN);
    expect(counts[429]).toBe(150 - PER_TOKEN);
    const refused = reader.find((s) => s.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body?.error).toMatchObject({ code: 'too_many_streams', message: expect.stringContaining(`${PER_TOKEN} open event streams`) });
    // The accepted ones are live streams: each got its snapshot.
    await eventually(() => reader.filter((s) => s.status === 200).every((s) => s.events[0]?.event === 'snapshot'), { what: 'every accepted stream to get its snapshot' });

    // Another token meets the process's cap once the two together reach it.
    const other = await openMany(id, TOKENS.acme.token, 20);
    const otherCounts = byStatus(other);
    console.log(`then 20 from another token: ${JSON.stringify(otherCounts)} (process cap ${PER_PROCESS})`);
    try {
      expect(otherCounts[200]).toBe(PER_PROCESS - PER_TOKEN);
      const refusedOther = other.find((s) => s.status === 429)!;
      expect(refusedOther.body?.error).toMatchObject({ code: 'too_many_streams', message: expect.stringContaining(`${PER_PROCESS} open event streams`) });
      expect(Number(refusedOther.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await closeAll(other);
    }
  } finally {
    await closeAll(reader);
  }
  // A closed stream frees its place.
  const again = await waitUntilAccepted(id, TOKENS.acmeReader.token);
  await closeAll([again]);
});

test('N streams on one session read Temporal as one stream does; the reads stop with the last stream', async () => {
  const id = await parkedSession();
  const reads = countTemporalReads(api.client);
  /** Reads made while `streams` stay open, over a window of `intervals` read intervals. */
  const readsOver = async (intervals: number) => {
    const before = reads.count();
    // A measurement window, not a wait for a condition: the reads in it are what is counted.
    await new Promise((resolve) => setTimeout(resolve, intervals * INTERVAL_MS));
    return reads.count() - before;
  };
  try {
    const one = await openMany(id, TOKENS.acme.token, 1);
    await eventually(() => one[0]!.events.length > 0, { what: 'the first stream to start' });
    const readsOfOne = await readsOver(20);
    const many = await openMany(id, TOKENS.acme.token, PER_TOKEN - 1);
    expect(byStatus(many)).toEqual({ 200: PER_TOKEN - 1 });
    await eventually(() => many.every((s) => s.events.length > 0), { what: 'every stream to start' });
    const readsOfMany = await readsOver(20);
    const watching = await streamMetrics();
    console.log(`Temporal reads in 20 intervals: 1 stream ${readsOfOne}, ${PER_TOKEN} streams on the same session ${readsOfMany}; /metrics: ${JSON.stringify(watching)}`);
    expect(watching).toMatchObject({ open: PER_TOKEN, sessions: 1 });
    expect(readsOfOne).toBeGreaterThan(0);
    // The same reads, within a generous margin for a loaded machine (one reader each: 20 times as many).
    expect(readsOfMany).toBeLessThanOrEqual(2 * readsOfOne + 2);
    await closeAll([...one, ...many]);
    // Nothing reads the session once nobody watches it.
    await eventually(async () => (await readsOver(5)) === 0, { what: 'the reads to stop' });
    expect(await streamMetrics()).toMatchObject({ open: 0, sessions: 0 });
  } finally {
    reads.restore();
  }
});

test('a stream opened with a 5 s review link ends when the link expires, with a last event saying why', async () => {
  const id = await parkedSession();
  const minted = await api.call<{ url: string }>('POST', `/v1/sessions/${id}/review-links`, { body: { name: 'Short Lived', expiresIn: '5s' } });
  expect(minted.status).toBe(201);
  const link = minted.body.url.slice(minted.body.url.indexOf('#t=') + 3);
  const stream = await openStream(eventsUrl(id), link);
  expect(stream.status).toBe(200);
  await eventually(() => stream.events[0]?.event === 'snapshot', { what: 'the snapshot' });

  // The link expires: a plain GET with it answers 401.
  await eventually(async () => (await api.call('GET', `/v1/sessions/${id}`, { token: link })).status === 401, { what: 'the link to expire' });
  const atExpiry = stream.events.length;
  // The session moves on (a change request by its owner): a stream still open would deliver that.
  expect((await api.call('POST', `/v1/sessions/${id}/messages`, { body: { message: 'Shorter, please' } })).status).toBe(200);
  await waitForApiPhase(api, id, 'thinking');
  try {
    await eventually(() => stream.isEnded(), { what: 'the stream to end after the link expired', timeoutMs: 10_000 });
  } finally {
    const after = stream.events.slice(atExpiry);
    console.log(`events after the link expired: ${JSON.stringify(after.map((e) => e.event))}; stream ended: ${stream.isEnded()}`);
    stream.stop();
  }
  const after = stream.events.slice(atExpiry);
  expect(after.filter((e) => e.event === 'phase')).toEqual([]);
  expect(stream.events.at(-1)).toMatchObject({ event: 'revoked', data: { code: 'unauthorized', message: 'This review link has expired; ask for a new one.' } });
});
