/**
 * `max_active_jobs` in /__sim/stats: per API key, the most HeyGen jobs ever counted by the concurrency
 * cap at once, exact across creates, messages that reopen a session, completions and resets, and
 * keyed by a fingerprint rather than the key itself.
 */
import type { HeyGenClient } from '../../src/heygen/client';
import { apiKeyFingerprint } from '../../src/simulator/app';
import { DEFAULT_SIMULATOR_API_KEY } from '../../src/simulator/config';
import { startTestSimulator, type TestSimulator } from '../harness/simulator';
import { eventually } from '../harness/wait';

const OTHER_KEY = 'sim_other_key';
const MINE = apiKeyFingerprint(DEFAULT_SIMULATOR_API_KEY);
const THEIRS = apiKeyFingerprint(OTHER_KEY);

let sim: TestSimulator;
let client: HeyGenClient;

beforeAll(async () => {
  sim = await startTestSimulator({ SIMULATOR_API_KEYS: `${DEFAULT_SIMULATOR_API_KEY},${OTHER_KEY}` });
  client = sim.client();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  await sim.reset();
});

async function chat(prompt: string): Promise<string> {
  return (await client.createSession({ prompt, mode: 'chat' })).session_id;
}

function waitForStatus(sessionId: string, status: string): Promise<unknown> {
  return eventually(async () => (await client.getSession(sessionId)).status === status, { intervalMs: 5, what: `${sessionId} ${status}` });
}

test('with the cap at 3: three sessions run, a fourth gets 429 with Retry-After; after one completes the peak stays 3', async () => {
  await sim.configure({ concurrencyLimit: 3, retryAfterSeconds: 7 });
  await chat('one [[sim think=1h]]');
  await chat('two [[sim think=1h]]');
  const third = await chat('three [[sim think=1ms generate=1ms]]');
  await waitForStatus(third, 'reviewing'); // paused at review, still an active job

  const refused = await fetch(`${sim.url}/v3/video-agents`, {
    method: 'POST',
    headers: { 'x-api-key': DEFAULT_SIMULATOR_API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'four [[sim think=1h]]', mode: 'chat' }),
  });
  expect(refused.status).toBe(429);
  expect(refused.headers.get('retry-after')).toBe('7');
  expect(await refused.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
  expect(await sim.stats()).toMatchObject({ max_active_jobs: 3, keys: { [MINE]: { active_jobs: 3, max_active_jobs: 3 } } });

  await client.sendMessage(third, { message: 'Go ahead', auto_proceed: true });
  await waitForStatus(third, 'completed');
  expect((await sim.stats()).keys[MINE]).toEqual({ active_jobs: 2, max_active_jobs: 3 });
  await chat('four, now [[sim think=1h]]');
  expect(await sim.stats()).toMatchObject({ max_active_jobs: 3, keys: { [MINE]: { active_jobs: 3, max_active_jobs: 3 } } });
});

test('a message that un-halts a stopped session, or reopens a completed one, raises the peak', async () => {
  await sim.configure({ concurrencyLimit: 0 });
  const halted = await chat('halted [[sim think=1h revise=1h]]');
  await client.stopSession(halted);
  await waitForStatus(halted, 'waiting_for_input');
  const done = await chat('done [[sim review=skip think=1ms generate=1ms revise=1h]]');
  await waitForStatus(done, 'completed');
  await chat('running [[sim think=1h]]');
  expect((await sim.stats()).keys[MINE]).toEqual({ active_jobs: 1, max_active_jobs: 1 });

  await client.sendMessage(halted, { message: 'Please continue' });
  expect((await sim.stats()).keys[MINE]).toEqual({ active_jobs: 2, max_active_jobs: 2 });
  await client.sendMessage(done, { message: 'Now a portrait cut' });
  expect((await sim.stats()).keys[MINE]).toEqual({ active_jobs: 3, max_active_jobs: 3 });
});

test('per key, by fingerprint only; the top level is the maximum over keys; reset forgets it', async () => {
  await chat('mine [[sim think=1h]]');
  await chat('mine too [[sim think=1h]]');
  await sim.client({ apiKey: OTHER_KEY }).createSession({ prompt: 'theirs [[sim think=1h]]' });
  const stats = await sim.stats();
  expect(stats.max_active_jobs).toBe(2);
  expect(stats.keys).toEqual({
    [MINE]: { active_jobs: 2, max_active_jobs: 2 },
    [THEIRS]: { active_jobs: 1, max_active_jobs: 1 },
  });
  expect(MINE).toMatch(/^[0-9a-f]{12}$/);
  const raw = await (await fetch(`${sim.url}/__sim/stats`)).text();
  expect(raw).not.toContain(DEFAULT_SIMULATOR_API_KEY);
  expect(raw).not.toContain(OTHER_KEY);

  await sim.reset();
  expect(await sim.stats()).toMatchObject({
    max_active_jobs: 0,
    keys: { [MINE]: { active_jobs: 0, max_active_jobs: 0 }, [THEIRS]: { active_jobs: 0, max_active_jobs: 0 } },
  });
});

test('sessions that complete between reads still count at their peak (the count is taken after advancing)', async () => {
  await sim.configure({ concurrencyLimit: 0 });
  const quick = await chat('quick [[sim review=skip think=500s generate=500s]]');
  await chat('also quick [[sim review=skip think=500s generate=500s]]');
  expect((await sim.stats()).keys[MINE]!.max_active_jobs).toBe(2);
  await waitForStatus(quick, 'completed');
  // Both are done: a new session makes one active again, not three.
  await eventually(async () => (await sim.stats()).keys[MINE]!.active_jobs === 0);
  await chat('later [[sim think=1h]]');
  expect((await sim.stats()).keys[MINE]).toEqual({ active_jobs: 1, max_active_jobs: 2 });
});
