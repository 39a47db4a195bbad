/**
 * The account-level video endpoints and the style catalogue, over real HTTP: `GET /v3/videos`,
 * `DELETE /v3/videos/{id}`, `GET /v3/videos/statuses` and `GET /v3/video-agents/styles`, with HeyGen's
 * envelopes and validation errors, per-key isolation, and their own names in the counters and faults
 * (not swallowed by the `:video_id` / `:session_id` routes).
 */
import { type z } from 'zod';
import type { HeyGenClient } from '../../src/heygen/client';
import {
  DeleteVideoResponseSchema,
  dataEnvelope,
  listEnvelope,
  STYLE_TAGS,
  VideoAgentStyleSchema,
  VideoSchema,
  VideoStatusItemSchema,
} from '../../src/contract/heygen';
import { DEFAULT_SIMULATOR_API_KEY } from '../../src/simulator/config';
import { mediaFiles } from '../../src/simulator/media';
import { startTestSimulator, type TestSimulator } from '../harness/simulator';
import { eventually } from '../harness/wait';

const OTHER_KEY = 'sim_other_key';

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

/** A raw request: status, headers and parsed JSON body. */
async function call(method: string, path: string, apiKey = DEFAULT_SIMULATOR_API_KEY): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${sim.url}${path}`, { method, headers: { 'x-api-key': apiKey } });
  return { status: response.status, body: await response.json() };
}

function expectExactKeys(value: unknown, schema: z.ZodObject): void {
  expect(Object.keys(value as object).sort()).toEqual(Object.keys(schema.shape).sort());
}

function expectInvalidParameter(response: { status: number; body: unknown }, param: string): void {
  expect(response.status).toBe(400);
  expect(response.body).toMatchObject({ error: { code: 'invalid_parameter', param, doc_url: expect.any(String) } });
}

/** A generate-mode session run to completion; its video id. */
async function completedVideo(prompt: string, apiKey = DEFAULT_SIMULATOR_API_KEY): Promise<string> {
  const c = sim.client({ apiKey });
  const { session_id } = await c.createSession({ prompt: `${prompt} [[sim think=1ms generate=1ms]]` });
  const done = await eventually(async () => {
    const session = await c.getSession(session_id);
    return session.status === 'completed' ? session : undefined;
  });
  return done.video_id!;
}

async function listVideos(query = ''): Promise<{ ids: string[]; hasMore: boolean; nextToken: string | null }> {
  const response = await call('GET', `/v3/videos${query}`);
  expect(response.status).toBe(200);
  const page = listEnvelope(VideoSchema).parse(response.body);
  return { ids: page.data.map((video) => video.id), hasMore: page.has_more, nextToken: page.next_token };
}

describe('GET /v3/videos', () => {
  test('the key’s videos, newest first, as VideoDetail, paginated with limit and token', async () => {
    const first = await completedVideo('Quarterly results');
    const second = await completedVideo('Security training');
    const third = await completedVideo('Quarterly outlook');
    await completedVideo('Not mine', OTHER_KEY);

    const response = await call('GET', '/v3/videos');
    const { data } = response.body as { data: object[] };
    for (const video of data) expectExactKeys(video, VideoSchema);
    expect(await listVideos()).toEqual({ ids: [third, second, first], hasMore: false, nextToken: null });

    const page1 = await listVideos('?limit=2');
    expect(page1).toMatchObject({ ids: [third, second], hasMore: true, nextToken: expect.any(String) });
    expect(await listVideos(`?limit=2&token=${page1.nextToken}`)).toEqual({ ids: [first], hasMore: false, nextToken: null });
  });

  test('title filters by substring, ignoring case; folder_id matches nothing (simulated videos are in no folder)', async () => {
    const results = await completedVideo('Quarterly results');
    await completedVideo('Security training');
    const outlook = await completedVideo('Quarterly outlook');
    expect((await listVideos('?title=quarterly')).ids).toEqual([outlook, results]);
    expect((await listVideos('?title=nothing%20like%20it')).ids).toEqual([]);
    expect((await listVideos('?folder_id=fld_123')).ids).toEqual([]);
  });

  test('the default page is 10 videos', async () => {
    await sim.configure({ concurrencyLimit: 0 });
    for (let i = 0; i < 11; i++) await completedVideo(`Video ${i}`);
    const page = await listVideos();
    expect(page.ids).toHaveLength(10);
    expect(page.hasMore).toBe(true);
  });

  test('bad limit or token: 400 invalid_parameter', async () => {
    expectInvalidParameter(await call('GET', '/v3/videos?limit=0'), 'limit');
    expectInvalidParameter(await call('GET', '/v3/videos?limit=101'), 'limit');
    expectInvalidParameter(await call('GET', '/v3/videos?token=not-a-token'), 'token');
  });
});

describe('DELETE /v3/videos/{video_id}', () => {
  test('deletes an owned video, which then reads 404 everywhere', async () => {
    const videoId = await completedVideo('Short-lived');
    const sessionId = (await client.listSessions()).items[0]!.session_id;
    const { video_url } = await client.getVideo(videoId);

    const deleted = await call('DELETE', `/v3/videos/${videoId}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ data: { id: videoId, deleted: true } });
    expectExactKeys((deleted.body as { data: object }).data, DeleteVideoResponseSchema);
    expect(dataEnvelope(DeleteVideoResponseSchema).parse(deleted.body).data.deleted).toBe(true);

    await expect(client.getVideo(videoId)).rejects.toMatchObject({ status: 404, code: 'video_not_found' });
    expect((await client.listSessionVideos(sessionId)).items).toEqual([]);
    expect((await listVideos()).ids).toEqual([]);
    expect((await call('GET', `/v3/videos/statuses?video_ids=${videoId}`)).body).toMatchObject({ data: [{ video_id: videoId, status: 'not_found' }] });
    expect((await fetch(video_url!)).status).toBe(404);
    // The session's messages still point at its video resource, which no longer has media.
    const session = await client.getSession(sessionId);
    const resource = await client.getResource(sessionId, session.messages[0]!.resource_ids![0]!);
    expect(resource).toMatchObject({ resource_type: 'video', url: null });

    const again = await call('DELETE', `/v3/videos/${videoId}`);
    expect([again.status, again.body]).toEqual([404, { error: expect.objectContaining({ code: 'video_not_found', param: 'video_id' }) }]);
  });

  test('another key’s video or an unknown id: 404 video_not_found, and nothing is deleted', async () => {
    const theirs = await completedVideo('Theirs', OTHER_KEY);
    expect(await call('DELETE', `/v3/videos/${theirs}`)).toMatchObject({ status: 404, body: { error: { code: 'video_not_found' } } });
    expect(await call('DELETE', '/v3/videos/0123456789abcdef')).toMatchObject({ status: 404, body: { error: { code: 'video_not_found' } } });
    expect((await sim.client({ apiKey: OTHER_KEY }).getVideo(theirs)).status).toBe('completed');
  });

  test('deleting a video while it renders: the session still completes, the video stays gone', async () => {
    const { session_id } = await client.createSession({ prompt: 'Doomed render [[sim think=1ms generate=1000s]]' });
    const generating = await eventually(async () => {
      const session = await client.getSession(session_id);
      return session.status === 'generating' ? session : undefined;
    });
    expect((await call('DELETE', `/v3/videos/${generating.video_id}`)).status).toBe(200);
    await eventually(async () => (await client.getSession(session_id)).status === 'completed');
    await expect(client.getVideo(generating.video_id!)).rejects.toMatchObject({ status: 404 });
  });
});

describe('GET /v3/videos/statuses', () => {
  test('one item per id: statuses in the bulk endpoint’s vocabulary, not_found for unknown, other keys’ and batch ids', async () => {
    const completed = await completedVideo('Done');
    const { session_id: queuedSession } = await client.createSession({ prompt: 'Slow [[sim think=1ms generate=100h]]' });
    const { session_id: processingSession } = await client.createSession({ prompt: 'Busy [[sim think=1ms generate=1h]]' });
    const { session_id: failedSession } = await client.createSession({ prompt: 'Doomed [[sim think=1ms generate=1ms fail=generating]]' });
    const theirs = await completedVideo('Theirs', OTHER_KEY);
    const videoOf = (sessionId: string, status: string) =>
      eventually(async () => {
        const session = await client.getSession(sessionId);
        return session.status === status && session.video_id ? session.video_id : undefined;
      });
    const queued = await videoOf(queuedSession, 'generating');
    const processing = await videoOf(processingSession, 'generating');
    const failed = await videoOf(failedSession, 'failed');
    await eventually(async () => (await client.getVideo(processing)).status === 'processing');

    const ids = [completed, queued, processing, failed, theirs, 'no_such_video'].join(',');
    const response = await call('GET', `/v3/videos/statuses?video_ids=${ids}&batch_ids=batch_1`);
    expect(response.status).toBe(200);
    const page = listEnvelope(VideoStatusItemSchema).parse(response.body);
    for (const item of (response.body as { data: object[] }).data) expectExactKeys(item, VideoStatusItemSchema);
    expect(page).toEqual({
      has_more: false,
      next_token: null,
      data: [
        { video_id: completed, status: 'completed', error: null, batch_id: null, item_index: null },
        { video_id: queued, status: 'queued', error: null, batch_id: null, item_index: null },
        { video_id: processing, status: 'processing', error: null, batch_id: null, item_index: null },
        {
          video_id: failed,
          status: 'failed',
          error: { code: 'rendering_failed', message: 'Avatar rendering timed out' },
          batch_id: null,
          item_index: null,
        },
        { video_id: theirs, status: 'not_found', error: null, batch_id: null, item_index: null },
        { video_id: 'no_such_video', status: 'not_found', error: null, batch_id: null, item_index: null },
        { video_id: null, status: 'not_found', error: null, batch_id: 'batch_1', item_index: null },
      ],
    });
  });

  test('no ids, or more than 100: 400 invalid_parameter', async () => {
    expectInvalidParameter(await call('GET', '/v3/videos/statuses'), 'video_ids');
    expectInvalidParameter(await call('GET', '/v3/videos/statuses?video_ids=,,'), 'video_ids');
    const ids = Array.from({ length: 60 }, (_, i) => `v${i}`).join(',');
    const batches = Array.from({ length: 41 }, (_, i) => `b${i}`).join(',');
    expectInvalidParameter(await call('GET', `/v3/videos/statuses?video_ids=${ids}&batch_ids=${batches}`), 'video_ids');
    expect((await call('GET', `/v3/videos/statuses?video_ids=${ids}&batch_ids=${batches.split(',').slice(1).join(',')}`)).status).toBe(200);
  });
});

describe('GET /v3/video-agents/styles', () => {
  test('a static catalogue: every documented field, every documented tag, real preview media', async () => {
    const response = await call('GET', '/v3/video-agents/styles');
    expect(response.status).toBe(200);
    const page = listEnvelope(VideoAgentStyleSchema).parse(response.body);
    for (const style of (response.body as { data: object[] }).data) expectExactKeys(style, VideoAgentStyleSchema);
    expect(page).toMatchObject({ has_more: false, next_token: null });
    for (const tag of STYLE_TAGS) expect(page.data.some((style) => style.tags!.includes(tag))).toBe(true);
    const [style] = page.data;
    expect((await fetch(style!.thumbnail_url!)).headers.get('content-type')).toBe('image/png');
    const preview = await fetch(style!.preview_video_url!);
    expect(Buffer.from(await preview.arrayBuffer()).equals(mediaFiles().mp4)).toBe(true);
  });

  test('tag filters; limit and token paginate; an unknown tag lists nothing', async () => {
    const all = listEnvelope(VideoAgentStyleSchema).parse((await call('GET', '/v3/video-agents/styles')).body).data;
    const cinematic = listEnvelope(VideoAgentStyleSchema).parse((await call('GET', '/v3/video-agents/styles?tag=cinematic')).body).data;
    expect(cinematic.length).toBeGreaterThan(0);
    expect(cinematic.every((style) => style.tags!.includes('cinematic'))).toBe(true);
    expect(cinematic.length).toBeLessThan(all.length);

    const seen: string[] = [];
    let token: string | null = null;
    do {
      const query: string = `?limit=2${token ? `&token=${token}` : ''}`;
      const page = listEnvelope(VideoAgentStyleSchema).parse((await call('GET', `/v3/video-agents/styles${query}`)).body);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((style) => style.style_id));
      token = page.next_token;
    } while (token);
    expect(seen).toEqual(all.map((style) => style.style_id));

    expect((await call('GET', '/v3/video-agents/styles?tag=baroque')).body).toEqual({ data: [], has_more: false, next_token: null });
  });

  test('bad limit or token: 400 invalid_parameter; a key is still required', async () => {
    expectInvalidParameter(await call('GET', '/v3/video-agents/styles?limit=101'), 'limit');
    expectInvalidParameter(await call('GET', '/v3/video-agents/styles?token=x'), 'token');
    expect((await call('GET', '/v3/video-agents/styles', 'sim_wrong_key')).status).toBe(401);
  });
});

describe('each endpoint counts and faults under its own name', () => {
  test('statuses is not get_video, styles is not get_session', async () => {
    expect((await call('GET', '/v3/videos/statuses?video_ids=abc')).status).toBe(200);
    expect((await call('GET', '/v3/video-agents/styles')).status).toBe(200);
    expect((await call('GET', '/v3/videos')).status).toBe(200);
    expect((await call('DELETE', '/v3/videos/abc')).status).toBe(404);
    const stats = await sim.stats();
    expect(stats.totals).toEqual({ get_video_statuses: 1, list_styles: 1, list_videos: 1, delete_video: 1 });
    expect(stats.responses).toEqual({ 'get_video_statuses 200': 1, 'list_styles 200': 1, 'list_videos 200': 1, 'delete_video 404': 1 });
  });

  test('a fault scripted for get_session or get_video leaves them alone; one for list_styles hits them', async () => {
    await sim.fault({ endpoint: 'get_session', fault: '503' });
    await sim.fault({ endpoint: 'get_video', fault: '503' });
    expect((await fetch(`${sim.url}/v3/video-agents/styles`, { headers: { 'x-api-key': DEFAULT_SIMULATOR_API_KEY } })).status).toBe(200);
    expect((await fetch(`${sim.url}/v3/videos/statuses?video_ids=a`, { headers: { 'x-api-key': DEFAULT_SIMULATOR_API_KEY } })).status).toBe(200);
    await sim.fault({ endpoint: 'list_styles', fault: '500' });
    expect(await call('GET', '/v3/video-agents/styles')).toMatchObject({ status: 500, body: { error: { code: 'internal_error' } } });
    expect((await sim.stats()).faults_injected).toEqual({ '500': 1 });
  });
});
