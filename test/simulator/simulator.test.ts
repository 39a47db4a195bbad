/**
 * The simulator over real HTTP, driven through the client: every state path of the Video Agent, stop at
 * each phase, the concurrency cap, API-key isolation, media URLs, the message window, and that every
 * response has exactly the documented shape.
 */
import { type z } from 'zod';
import type { HeyGenClient } from '../../src/heygen/client';
import { HeyGenApiError } from '../../src/heygen/errors';
import {
  CreateSessionResponseSchema,
  dataEnvelope,
  listEnvelope,
  ResourceSchema,
  SessionMessageSchema,
  SessionSchema,
  VideoSchema,
  type Session,
} from '../../src/contract/heygen';
import { DEFAULT_SIMULATOR_API_KEY } from '../../src/simulator/config';
import { mediaFiles } from '../../src/simulator/media';
import { startTestSimulator, type TestSimulator } from '../harness/simulator';
import { eventually } from '../harness/wait';

let sim: TestSimulator;
let client: HeyGenClient;

beforeAll(async () => {
  sim = await startTestSimulator({ SIMULATOR_API_KEYS: `${DEFAULT_SIMULATOR_API_KEY},sim_other_key` });
  client = sim.client();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  await sim.reset();
});

function waitForStatus(sessionId: string, status: string, timeoutMs = 5_000): Promise<Session> {
  return eventually(
    async () => {
      const session = await client.getSession(sessionId);
      return session.status === status ? session : undefined;
    },
    { timeoutMs, intervalMs: 5, what: `session ${sessionId} to be ${status}` },
  );
}

async function statusesSeen(sessionId: string, until: string[]): Promise<string[]> {
  const seen: string[] = [];
  await eventually(
    async () => {
      const { status } = await client.getSession(sessionId);
      if (seen.at(-1) !== status) seen.push(status);
      return until.includes(status);
    },
    { timeoutMs: 5_000, intervalMs: 2 },
  );
  return seen;
}

async function chat(prompt: string, extra: Record<string, unknown> = {}): Promise<string> {
  return (await client.createSession({ prompt, mode: 'chat', ...extra })).session_id;
}

/** The raw JSON of a GET, with the default key. */
async function raw(path: string): Promise<unknown> {
  const response = await fetch(`${sim.url}${path}`, { headers: { 'x-api-key': DEFAULT_SIMULATOR_API_KEY } });
  return response.json();
}

/** Every documented key present, no other key: the simulator must not drift from the contract. */
function expectExactKeys(value: unknown, schema: z.ZodObject): void {
  expect(Object.keys(value as object).sort()).toEqual(Object.keys(schema.shape).sort());
}

describe('the documented chat flow', () => {
  test('thinking → reviewing with a storyboard → approve → generating → completed, with a downloadable video', async () => {
    const created: unknown = await fetch(`${sim.url}/v3/video-agents`, {
      method: 'POST',
      headers: { 'x-api-key': DEFAULT_SIMULATOR_API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Onboarding for new hires [[sim think=50s generate=200s scenes=3]]', mode: 'chat', orientation: 'landscape' }),
    }).then((r) => r.json());
    const { data } = dataEnvelope(CreateSessionResponseSchema).parse(created);
    expectExactKeys((created as { data: object }).data, CreateSessionResponseSchema);
    expect(data).toMatchObject({ status: 'thinking', video_id: null });
    const id = data.session_id;

    const review = await waitForStatus(id, 'reviewing');
    const rawSession = (await raw(`/v3/video-agents/${id}`)) as { data: { messages: object[] } };
    expect(dataEnvelope(SessionSchema).safeParse(rawSession).success).toBe(true);
    expectExactKeys(rawSession.data, SessionSchema);
    for (const message of rawSession.data.messages) expectExactKeys(message, SessionMessageSchema);
    expect(review.title).toBe('Onboarding for new hires');
    expect(review.progress).toBe(45);
    const storyboard = review.messages[0]!;
    expect(storyboard).toMatchObject({ role: 'model', type: 'text' });
    expect(storyboard.content).toMatch(/storyboard with 3 scenes/);
    expect(storyboard.resource_ids).toHaveLength(3);
    expect(review.messages.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('Onboarding for new hires') });

    const rawResource = (await raw(`/v3/video-agents/${id}/resources/${storyboard.resource_ids![0]}`)) as { data: object };
    expectExactKeys(rawResource.data, ResourceSchema);
    const resource = await client.getResource(id, storyboard.resource_ids![0]!);
    expect(resource).toMatchObject({ resource_type: 'image', source_type: 'generated', metadata: { scene: 1, revision: 1 } });
    const image = await fetch(resource.url!);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await image.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');

    const reply = await client.sendMessage(id, { message: 'Looks perfect, go ahead and generate the video.', auto_proceed: true });
    expect(reply).toMatchObject({ session_id: id, run_id: expect.stringMatching(/^run_/), title: 'Onboarding for new hires' });
    const generating = await client.getSession(id);
    expect(generating.status).toBe('generating');
    expect(generating.video_id).toEqual(expect.any(String));
    const early = await client.getVideo(generating.video_id!);
    expect(['pending', 'processing']).toContain(early.status);
    expect(early.video_url).toBeNull();
    const later = await eventually(async () => {
      const s = await client.getSession(id);
      return s.progress > generating.progress ? s : undefined;
    });
    expect(later.progress).toBeGreaterThan(generating.progress);

    const done = await waitForStatus(id, 'completed');
    expect(done.progress).toBe(100);
    expect(done.messages[0]).toMatchObject({ role: 'model', type: 'resource', resource_ids: [expect.any(String)] });
    const rawVideo = (await raw(`/v3/videos/${done.video_id}`)) as { data: object };
    expectExactKeys(rawVideo.data, VideoSchema);
    const video = await client.getVideo(done.video_id!);
    expect(video).toMatchObject({ id: done.video_id, status: 'completed', duration: 30, failure_code: null, title: 'Onboarding for new hires' });
    expect(video.completed_at).toEqual(expect.any(Number));

    const mp4 = await fetch(video.video_url!);
    expect(mp4.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await mp4.arrayBuffer()).equals(mediaFiles().mp4)).toBe(true);
    expect((await fetch(video.captioned_video_url!)).status).toBe(200);
    expect(await (await fetch(video.subtitle_url!)).text()).toMatch(/^1\n00:00:00,000 --> 00:00:30,000\nOnboarding for new hires\n/);
    expect((await fetch(video.thumbnail_url!)).headers.get('content-type')).toBe('image/png');

    const videoResource = await client.getResource(id, done.messages[0]!.resource_ids![0]!);
    expect(videoResource).toMatchObject({ resource_type: 'video', metadata: { video_id: done.video_id } });
    const rawList = await raw(`/v3/video-agents/${id}/videos`);
    expect(listEnvelope(VideoSchema).safeParse(rawList).success).toBe(true);
    expect((await client.listSessionVideos(id)).items.map((v) => v.id)).toEqual([done.video_id]);
  });

  test('two revision rounds, then approval', async () => {
    const id = await chat('A teaser [[sim think=20s revise=5m generate=20s]]');
    await waitForStatus(id, 'reviewing');
    for (const [round, feedback] of ['Make the intro shorter', 'Use a warmer tone'].entries()) {
      await client.sendMessage(id, { message: feedback });
      expect((await client.getSession(id)).status).toBe('thinking');
      const review = await waitForStatus(id, 'reviewing');
      expect(review.messages[0]!.content).toContain(`revision ${round + 2} of the storyboard`);
      expect(review.messages[1]).toMatchObject({ role: 'user', content: feedback });
    }
    await client.sendMessage(id, { message: 'Approved', auto_proceed: true });
    await waitForStatus(id, 'completed');
    const [stats] = (await sim.stats({ session_id: id })).sessions;
    expect(stats).toMatchObject({ storyboards: 3, status: 'completed' });
    expect(stats!.messages.map((m) => m.auto_proceed)).toEqual([null, null, true]);
  });

  test('ask=2: two questions, each answered by any message, before the storyboard', async () => {
    const id = await chat('Explainer [[sim ask=2 think=10s]]');
    const first = await waitForStatus(id, 'waiting_for_input');
    expect(first.messages[0]).toMatchObject({ role: 'model', type: 'text', content: expect.stringMatching(/\?$/) });
    await client.sendMessage(id, { message: 'Warm' });
    const second = await waitForStatus(id, 'waiting_for_input');
    expect(second.messages[0]!.content).not.toBe(first.messages[0]!.content);
    await client.sendMessage(id, { message: 'Title card' });
    const review = await waitForStatus(id, 'reviewing');
    expect(review.messages[0]!.resource_ids).not.toBeNull();
  });

  test('review=skip goes straight from thinking to generating', async () => {
    const id = await chat('Quick one [[sim review=skip think=200s generate=200s]]');
    expect(await statusesSeen(id, ['completed'])).toEqual(['thinking', 'generating', 'completed']);
  });

  test('auto_proceed on create skips review; generate mode never pauses and takes no messages', async () => {
    const auto = await chat('Auto [[sim think=200s generate=200s]]', { auto_proceed: true });
    expect(await statusesSeen(auto, ['completed'])).toEqual(['thinking', 'generating', 'completed']);
    const oneShot = (await client.createSession({ prompt: 'One shot [[sim think=200s generate=200s]]' })).session_id;
    expect(await statusesSeen(oneShot, ['completed'])).toEqual(['thinking', 'generating', 'completed']);
    await expect(client.sendMessage(oneShot, { message: 'more' })).rejects.toMatchObject({ status: 400, code: 'invalid_parameter' });
  });

  test('after completion a message starts a follow-up run and a second video', async () => {
    const id = await chat('Series [[sim think=10s generate=10s]]');
    await waitForStatus(id, 'reviewing');
    await client.sendMessage(id, { message: 'Go', auto_proceed: true });
    const first = await waitForStatus(id, 'completed');
    await client.sendMessage(id, { message: 'Now a portrait cut' });
    expect((await client.getSession(id)).video_id).toBeNull();
    await waitForStatus(id, 'reviewing');
    await client.sendMessage(id, { message: 'Go', auto_proceed: true });
    const second = await waitForStatus(id, 'completed');
    expect(second.video_id).not.toBe(first.video_id);
    expect((await client.listSessionVideos(id)).items.map((v) => v.id)).toEqual([second.video_id, first.video_id]);
  });

  test('proceed=text: the text decides, the flag is ignored (as later API revisions do)', async () => {
    const id = await chat('Text approvals [[sim proceed=text think=10s revise=5m generate=1h]]');
    await waitForStatus(id, 'reviewing');
    await client.sendMessage(id, { message: 'Add a scene about code review', auto_proceed: true });
    expect((await client.getSession(id)).status).toBe('thinking');
    await waitForStatus(id, 'reviewing');
    await client.sendMessage(id, { message: 'Approved, go ahead and generate the video.' });
    expect((await client.getSession(id)).status).toBe('generating');
  });

  test('unknown_status: contract drift, an undocumented status instead of thinking', async () => {
    const id = await chat('Drift [[sim unknown_status=queued think=1h]]');
    expect((await client.getSession(id)).status).toBe('queued');
  });

  test('stored user messages carry the prompt without its [[sim ...]] directive', async () => {
    const id = await chat('Make a [[sim think=1ms scenes=1]] product teaser [[sim revise=1h]]');
    const review = await waitForStatus(id, 'reviewing');
    expect(review.messages.at(-1)).toMatchObject({ role: 'user', content: 'Make a product teaser' });
    expect(review.title).toBe('Make a product teaser');
    const oneShot = (await client.createSession({ prompt: '[[sim think=1h]] A one-shot explainer' })).session_id;
    expect((await client.getSession(oneShot)).messages).toEqual([expect.objectContaining({ role: 'user', content: 'A one-shot explainer' })]);
  });

  test('messages are newest-first and at most 40', async () => {
    const id = await chat('Long chat [[sim think=1ms scenes=1]]');
    await waitForStatus(id, 'reviewing');
    for (let round = 1; round <= 21; round++) {
      await client.sendMessage(id, { message: `change ${round}` });
      await waitForStatus(id, 'reviewing');
    }
    const session = await client.getSession(id);
    expect(session.messages).toHaveLength(40);
    expect(session.messages[0]!.content).toContain('revision 22 of the storyboard');
    expect(session.messages[1]).toMatchObject({ role: 'user', content: 'change 21' });
    const times = session.messages.map((m) => m.created_at!);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });
});

describe('failures', () => {
  test('fail=thinking: failed, an error message, no video', async () => {
    const id = await chat('Doomed [[sim fail=thinking think=10s]]');
    const failed = await waitForStatus(id, 'failed');
    expect(failed.video_id).toBeNull();
    expect(failed.messages[0]).toMatchObject({ role: 'model', type: 'error', content: expect.stringContaining('Script generation failed') });
  });

  test('fail=generating: failed, an error message, and the video carries failure_code/failure_message', async () => {
    const id = await chat('Doomed [[sim fail=generating review=skip think=10s generate=10s]]');
    const failed = await waitForStatus(id, 'failed');
    expect(failed.messages[0]).toMatchObject({ type: 'error', content: expect.stringContaining('Avatar rendering timed out') });
    expect(await client.getVideo(failed.video_id!)).toMatchObject({
      status: 'failed',
      failure_code: 'rendering_failed',
      failure_message: 'Avatar rendering timed out',
      video_url: null,
    });
  });

  test('fail=video: the session completes but the video fails', async () => {
    const id = await chat('Doomed [[sim fail=video review=skip think=10s generate=10s]]');
    const done = await waitForStatus(id, 'completed');
    expect(await client.getVideo(done.video_id!)).toMatchObject({ status: 'failed', failure_code: 'rendering_failed', video_url: null });
  });

  test('fail=silent: failed with no reason anywhere', async () => {
    const id = await chat('Doomed [[sim fail=silent review=skip think=10s generate=10s]]');
    const failed = await waitForStatus(id, 'failed');
    expect(failed.messages.some((m) => m.type === 'error')).toBe(false);
    expect(await client.getVideo(failed.video_id!)).toMatchObject({ status: 'failed', failure_code: null, failure_message: null });
  });

  test('video_delay: the video stays processing after the session completes', async () => {
    const id = await chat('Slow encode [[sim review=skip think=10s generate=10s video_delay=1h]]');
    const done = await waitForStatus(id, 'completed');
    expect((await client.getVideo(done.video_id!)).status).toBe('processing');
  });

  test('messages while busy or after failure are refused with 409', async () => {
    const busy = await chat('Busy [[sim think=1h]]');
    await expect(client.sendMessage(busy, { message: 'hello?' })).rejects.toMatchObject({ status: 409, code: 'conflict', retry: 'not_retryable' });
    const failed = await chat('Doomed [[sim fail=thinking think=1ms]]');
    await waitForStatus(failed, 'failed');
    await expect(client.sendMessage(failed, { message: 'retry' })).rejects.toMatchObject({ status: 409, code: 'conflict' });
  });
});

describe('a phase ended by the test', () => {
  test('finish-phase ends a long thinking or render now; a session at review has none to end (409)', async () => {
    const id = await chat('Held [[sim think=1000h generate=1000h]]');
    expect((await client.getSession(id)).status).toBe('thinking');
    await sim.finishPhase(id);
    const review = await client.getSession(id);
    expect(review).toMatchObject({ status: 'reviewing', progress: 45 });
    await expect(sim.finishPhase(id)).rejects.toThrow(/409/);
    await client.sendMessage(id, { message: 'Go', auto_proceed: true });
    const generating = await waitForStatus(id, 'generating');
    await sim.finishPhase(id);
    expect(await client.getSession(id)).toMatchObject({ status: 'completed', video_id: generating.video_id });
  });
});

describe('stuck sessions and stop', () => {
  test('stuck=thinking never leaves thinking; stop halts it at the next checkpoint', async () => {
    const id = await chat('Stuck [[sim stuck=thinking think=1ms]]');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await client.getSession(id)).status).toBe('thinking');
    await client.stopSession(id);
    const halted = await waitForStatus(id, 'waiting_for_input');
    expect(halted.messages[0]!.content).toContain('Stopped at your request');
    expect((await sim.stats({ session_id: id })).sessions[0]).toMatchObject({ halted: true, calls: { stop: 1 } });
  });

  test('stuck=generating creeps to 97% and stays; stop fails the video as stopped', async () => {
    const id = await chat('Stuck [[sim stuck=generating review=skip think=1ms generate=10s]]');
    await waitForStatus(id, 'generating');
    const stuck = await eventually(async () => {
      const s = await client.getSession(id);
      return s.progress === 97 ? s : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await client.getSession(id)).toMatchObject({ status: 'generating', progress: 97 });
    await client.stopSession(id);
    await waitForStatus(id, 'waiting_for_input');
    expect(await client.getVideo(stuck.video_id!)).toMatchObject({ status: 'failed', failure_code: 'stopped' });
  });

  test('stop while thinking, reviewing, generating and after completion', async () => {
    const thinking = await chat('T [[sim think=1h]]');
    await client.stopSession(thinking);
    await waitForStatus(thinking, 'waiting_for_input');

    const reviewing = await chat('R [[sim think=1ms]]');
    await waitForStatus(reviewing, 'reviewing');
    await client.stopSession(reviewing);
    // Already paused at a checkpoint: the stop halts it there at once, and the job no longer counts.
    const haltedAtReview = await client.getSession(reviewing);
    expect(haltedAtReview.status).toBe('waiting_for_input');
    expect(haltedAtReview.messages[0]!.content).toContain('Stopped at your request');
    expect((await sim.stats({ session_id: reviewing })).sessions[0]).toMatchObject({ halted: true });

    const generating = await chat('G [[sim review=skip think=1ms generate=1h]]');
    await waitForStatus(generating, 'generating');
    await client.stopSession(generating);
    await client.stopSession(generating); // repeating is harmless
    const halted = await waitForStatus(generating, 'waiting_for_input');
    expect((await client.getVideo(halted.video_id!)).failure_code).toBe('stopped');

    const completed = await chat('C [[sim review=skip think=1ms generate=1ms]]');
    await waitForStatus(completed, 'completed');
    await client.stopSession(completed);
    expect((await client.getSession(completed)).status).toBe('completed');

    const stats = await sim.stats();
    expect(stats.totals.stop_session).toBe(5);
    expect(stats.sessions.find((s) => s.session_id === generating)!.calls.stop).toBe(2);
  });

  test('generate mode: a stop while thinking ends the session failed, with an error message, not a pause', async () => {
    const id = (await client.createSession({ prompt: 'One shot [[sim think=1h]]' })).session_id;
    await client.stopSession(id);
    const failed = await waitForStatus(id, 'failed');
    expect(failed.video_id).toBeNull();
    expect(failed.messages[0]).toMatchObject({ role: 'model', type: 'error', content: expect.stringContaining('Stopped at your request') });
    expect(failed.messages.some((m) => m.content.includes('Send a message'))).toBe(false);
    expect((await sim.stats({ session_id: id })).sessions[0]).toMatchObject({ status: 'failed', halted: false });
    await expect(client.sendMessage(id, { message: 'continue' })).rejects.toMatchObject({ status: 400, code: 'invalid_parameter' });
  });

  test('generate mode: a stop while generating fails the session and its video (stopped)', async () => {
    await sim.configure({ concurrencyLimit: 1 });
    const id = (await client.createSession({ prompt: 'One shot [[sim think=1ms generate=1h]]' })).session_id;
    await waitForStatus(id, 'generating');
    await client.stopSession(id);
    const failed = await waitForStatus(id, 'failed');
    expect(failed.messages[0]).toMatchObject({ type: 'error', content: expect.stringContaining('Stopped at your request') });
    expect(await client.getVideo(failed.video_id!)).toMatchObject({ status: 'failed', failure_code: 'stopped' });
    // Failed is terminal: the slot is free.
    await client.createSession({ prompt: 'Next [[sim think=1h]]' });
  });

  test('a halted session continues with a message', async () => {
    const id = await chat('Resume [[sim think=1h revise=1ms]]');
    await client.stopSession(id);
    await waitForStatus(id, 'waiting_for_input');
    await client.sendMessage(id, { message: 'Please continue' });
    await waitForStatus(id, 'reviewing');
  });
});

describe('limits and isolation', () => {
  test('the per-key concurrency cap answers 429 with Retry-After; a stopped session frees its slot', async () => {
    await sim.configure({ concurrencyLimit: 2, retryAfterSeconds: 4 });
    const first = await chat('one [[sim think=1h]]');
    await chat('two [[sim think=1h]]');
    const error = (await client.createSession({ prompt: 'three' }).catch((e: unknown) => e)) as HeyGenApiError;
    expect(error).toBeInstanceOf(HeyGenApiError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', retryAfterMs: 4_000, retry: 'retryable' });
    // Another key has its own cap.
    await sim.client({ apiKey: 'sim_other_key' }).createSession({ prompt: 'other key [[sim think=1h]]' });
    await client.stopSession(first);
    await waitForStatus(first, 'waiting_for_input');
    await chat('three, now [[sim think=1h]]');
  });

  test("a session of another key does not exist for you; lists are per key and paginated", async () => {
    const mine = await chat('mine [[sim think=1h]]');
    const other = sim.client({ apiKey: 'sim_other_key' });
    await expect(other.getSession(mine)).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(other.stopSession(mine)).rejects.toMatchObject({ status: 404 });
    const newer = await chat('mine too [[sim think=1h]]');
    const firstPage = await client.listSessions({ limit: 1 });
    expect(firstPage).toMatchObject({ hasMore: true, nextToken: expect.any(String) });
    const secondPage = await client.listSessions({ limit: 1, token: firstPage.nextToken! });
    expect(secondPage.hasMore).toBe(false);
    expect([...firstPage.items, ...secondPage.items].map((s) => s.session_id)).toEqual([newer, mine]); // newest first
    expect((await other.listSessions()).items).toEqual([]);
    await expect(client.listSessions({ limit: 500 })).rejects.toMatchObject({ status: 400, param: 'limit' });
  });

  test('media URLs are signed: a tampered or expired URL is refused with 403', async () => {
    const id = await chat('Media [[sim review=skip think=1ms generate=1ms]]');
    const video = await client.getVideo((await waitForStatus(id, 'completed')).video_id!);
    const tampered = video.video_url!.replace(/Signature=[0-9a-f]{4}/, 'Signature=0000');
    expect((await fetch(tampered)).status).toBe(403);
    expect((await fetch(video.video_url!.replace(/Expires=\d+/, 'Expires=1'))).status).toBe(403);
    const shortLived = await startTestSimulator({ SIMULATOR_MEDIA_URL_TTL_SECONDS: '0' });
    try {
      const c = shortLived.client();
      const s = (await c.createSession({ prompt: 'x [[sim review=skip think=1ms generate=1ms]]' })).session_id;
      const done = await eventually(async () => {
        const session = await c.getSession(s);
        return session.status === 'completed' ? session : undefined;
      });
      const url = (await c.getVideo(done.video_id!)).video_url!;
      // Refused once its second has passed, whenever that is on this machine.
      const response = await eventually(async () => {
        const r = await fetch(url);
        return r.status === 403 ? r : undefined;
      }, { what: 'the URL to expire' });
      expect(await response.text()).toBe('Request has expired');
    } finally {
      await shortLived.close();
    }
  });
});

describe('HTTP surface', () => {
  test('errors use the v3 envelope: unknown route, bad JSON, missing key, bad field', async () => {
    const post = (path: string, body: string, key = DEFAULT_SIMULATOR_API_KEY) =>
      fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body });
    const notFound = await fetch(`${sim.url}/v3/nothing-here`, { headers: { 'x-api-key': DEFAULT_SIMULATOR_API_KEY } });
    expect([notFound.status, ((await notFound.json()) as { error: { code: string } }).error.code]).toEqual([404, 'not_found']);
    const badJson = await post('/v3/video-agents', '{"prompt":');
    expect(await badJson.json()).toMatchObject({ error: { code: 'invalid_parameter', message: 'Request body is not valid JSON.' } });
    const noKey = await post('/v3/video-agents', '{}', '');
    expect([noKey.status, await noKey.json()]).toEqual([401, { error: expect.objectContaining({ code: 'unauthorized', doc_url: expect.any(String) }) }]);
    const badOrientation = await post('/v3/video-agents', JSON.stringify({ prompt: 'x', orientation: 'square' }));
    expect(await badOrientation.json()).toMatchObject({ error: { code: 'invalid_parameter', param: 'orientation' } });
    expect(badOrientation.headers.get('x-request-id')).toMatch(/^req_/);
  });

  test('stop accepts an empty body as well as {}', async () => {
    const id = await chat('x [[sim think=1h]]');
    const response = await fetch(`${sim.url}/v3/video-agents/${id}/stop`, {
      method: 'POST',
      headers: { 'x-api-key': DEFAULT_SIMULATOR_API_KEY, 'content-type': 'application/json' },
    });
    expect(await response.json()).toEqual({ data: { session_id: id } });
  });

  test('latency and random fault rates apply at runtime; reset restores the start configuration', async () => {
    await sim.configure({ latencyMs: 300 });
    await expect(sim.client({ readTimeoutMs: 100 }).listSessions()).rejects.toMatchObject({ code: 'timeout' });
    await sim.configure({ latencyMs: 0, faultRates: { serverError: 1 } });
    for (let i = 0; i < 5; i++) {
      const error = (await client.listSessions().catch((e: unknown) => e)) as HeyGenApiError;
      expect([500, 502, 503]).toContain(error.status);
      expect(error.retry).toBe('retryable');
    }
    const stats = await sim.stats();
    expect(Object.values(stats.faults_injected).reduce((a, b) => a + b, 0)).toBe(5);
    await sim.reset();
    await expect(client.listSessions()).resolves.toMatchObject({ items: [] });
    const invalid = await fetch(`${sim.url}/__sim/config`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"timeScale":0}' });
    expect(invalid.status).toBe(400);
  });
});
