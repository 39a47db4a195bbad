/**
 * The archived video through the API (issue 13): `GET /v1/sessions/:id/video` lists the archive;
 * `GET /v1/sessions/:id/video/content` streams the file from our archive, with `Range`, and keeps
 * serving it after HeyGen's presigned URLs have expired (the simulator's live 3 seconds here).
 */
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import type { ArchiveState } from '../../src/contract/session';
import { startApiHarness, TOKENS, waitForApiPhase, type ApiHarness } from '../harness/api';
import { eventually } from '../harness/wait';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApiHarness({ sessions: { simulatorEnv: { SIMULATOR_MEDIA_URL_TTL_SECONDS: '3' } } });
});
afterAll(async () => {
  await api?.close();
});

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A raw GET with the admin token (the body is a file, not JSON). */
function download(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${TOKENS.admin.token}`, ...headers } });
}

async function completedSession(size: string): Promise<string> {
  const created = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: `Archived [[sim think=1s generate=1s video_size=${size}]]`, autoApprove: true } });
  expect(created.status).toBe(201);
  await waitForApiPhase(api, created.body.id, 'completed');
  return created.body.id;
}

test('the archive through the API: listed with the video, streamed whole and by range, still there after HeyGen\'s links expire', async () => {
  const id = await completedSession('400kb');
  const video = await api.call<{ url: string; archive: ArchiveState }>('GET', `/v1/sessions/${id}/video`);
  expect(video.status).toBe(200);
  expect(video.body.archive).toMatchObject({ status: 'archived', notOffered: ['gif'] });
  const entry = video.body.archive.entries.find((e) => e.file === 'video')!;
  expect(entry).toMatchObject({ store: 'local', key: `${id}/video.mp4`, size: 400 * 1024, contentType: 'video/mp4' });

  const whole = await download(`/v1/sessions/${id}/video/content`);
  expect(whole.status).toBe(200);
  expect(whole.headers.get('content-type')).toBe('video/mp4');
  expect(whole.headers.get('accept-ranges')).toBe('bytes');
  expect(whole.headers.get('etag')).toBe(`"${entry.sha256}"`);
  expect(whole.headers.get('content-disposition')).toBe(`attachment; filename="${id}-video.mp4"`);
  const bytes = Buffer.from(await whole.arrayBuffer());
  expect(bytes.length).toBe(400 * 1024);
  expect(sha256(bytes)).toBe(entry.sha256);

  const part = await download(`/v1/sessions/${id}/video/content`, { range: 'bytes=1000-1999' });
  expect(part.status).toBe(206);
  expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${400 * 1024}`);
  expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(1000, 2000))).toBe(true);
  const tail = await download(`/v1/sessions/${id}/video/content`, { range: 'bytes=-100' });
  expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(-100))).toBe(true);
  const past = await download(`/v1/sessions/${id}/video/content`, { range: `bytes=${400 * 1024}-` });
  expect(past.status).toBe(416);
  expect(past.headers.get('content-range')).toBe(`bytes */${400 * 1024}`);
  expect(((await past.json()) as ErrorBody).error.code).toBe('range_not_satisfiable');

  const subtitles = await download(`/v1/sessions/${id}/video/content?file=subtitles`);
  expect([subtitles.status, subtitles.headers.get('content-type')]).toEqual([200, 'application/x-subrip']);
  expect(await subtitles.text()).toMatch(/^1\n00:00:00,000 --> /);

  // Once HeyGen's URL in the session has expired, our copy still serves.
  const heygen = await eventually(async () => {
    const response = await fetch(video.body.url);
    return response.status === 403 ? response : undefined;
  }, { what: "HeyGen's link to expire" });
  const later = await download(`/v1/sessions/${id}/video/content`);
  expect(later.status).toBe(200);
  expect(sha256(Buffer.from(await later.arrayBuffer()))).toBe(entry.sha256);
  console.log(`after expiry: HeyGen's link ${heygen.status}, the archive ${later.status}`);
});

test('what is not archived is a 409 that says why; a bad file name a 400; before the video a 409 video_not_ready', async () => {
  const id = await completedSession('10kb');
  const gif = await download(`/v1/sessions/${id}/video/content?file=gif`);
  expect(gif.status).toBe(409);
  expect(((await gif.json()) as ErrorBody).error).toMatchObject({ code: 'video_not_archived', message: expect.stringContaining('HeyGen has no gif'), details: { file: 'gif', archive: 'archived' } });
  expect((await download(`/v1/sessions/${id}/video/content?file=movie`)).status).toBe(400);

  const parked = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Parked [[sim think=1s]]' } });
  await waitForApiPhase(api, parked.body.id, 'reviewing');
  const early = await download(`/v1/sessions/${parked.body.id}/video/content`);
  expect(early.status).toBe(409);
  expect(((await early.json()) as ErrorBody).error.code).toBe('video_not_ready');
  expect((await fetch(`${api.url}/v1/sessions/${id}/video/content`)).status).toBe(401);
});

test('an archived file that no longer matches its entry is not served under the entry\'s ETag: a 409 that says so', async () => {
  const id = await completedSession('100kb');
  const entry = (await api.call<{ archive: ArchiveState }>('GET', `/v1/sessions/${id}/video`)).body.archive.entries.find((e) => e.file === 'video')!;
  // What a second writer did to the file before the archive fenced its writers (issue 22, defect 13).
  appendFileSync(path.join(api.sessions.configEnv.ARCHIVE_DIR!, entry.key), Buffer.alloc(131_072, 1));
  const response = await download(`/v1/sessions/${id}/video/content`);
  const body = response.status === 200 ? `${(await response.arrayBuffer()).byteLength} bytes` : JSON.stringify(await response.json());
  console.log(`a file grown by 131072 bytes: ${response.status} (ETag ${response.headers.get('etag')}), ${body}`);
  expect(response.status).toBe(409);
  expect(response.headers.get('etag')).toBeNull();
  expect(JSON.parse(body)).toMatchObject({ error: { code: 'video_not_archived', message: expect.stringContaining('does not match its archive entry'), details: { file: 'video' } } });
});
