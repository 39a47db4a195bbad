/**
 * The archive activity against the simulator's real media over HTTP, into a real folder: a normal
 * archive (checksums match the simulator's files), a URL that expires between the read and the download,
 * a connection dropped mid-download (the retry resumes: no second full copy), a file that is gone, a
 * retry after the commit landed, and archival turned off. The activity runs in the SDK's activity
 * environment (heartbeats recorded), its HeyGen calls and downloads real.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createArchiveActivities, type ArchiveFileInput, type ArchiveFileResult } from '../../src/activities/archive';
import { LocalArchiveStore } from '../../src/archive/store';
import { PinoTemporalLogger } from '../../src/temporal/runtime';
import { ARCHIVE_FAILURE } from '../../src/contract/failures';
import type { ArchiveFile } from '../../src/contract/session';
import { startTestSimulator, type TestSimulator } from '../harness/simulator';
import { testLogger } from '../harness/temporal';
import { eventually } from '../harness/wait';

let sim: TestSimulator;
let root: string;
let store: LocalArchiveStore;

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  await sim.reset();
  root = mkdtempSync(path.join(os.tmpdir(), 'vao-archive-'));
  store = new LocalArchiveStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function completedVideoId(size: string): Promise<string> {
  const client = sim.client();
  const created = await client.createSession({ prompt: `Archive me [[sim think=1s review=skip generate=1s video_size=${size}]]`, mode: 'chat' });
  return eventually(
    async () => {
      const session = await client.getSession(created.session_id);
      if (session.status !== 'completed' || !session.video_id) return undefined;
      return (await client.getVideo(session.video_id)).status === 'completed' ? session.video_id : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 10, what: 'a completed video' },
  );
}

/** Runs the activity once, recording its heartbeats. */
async function archive(input: ArchiveFileInput, activities = createArchiveActivities({ heygen: sim.client(), store, logger: testLogger })) {
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 30_000 }, { logger: new PinoTemporalLogger(testLogger) });
  const beats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => beats.push(details));
  const result = (await env.run(activities.archiveVideoFile, input)) as ArchiveFileResult;
  return { result, beats };
}

/** What the simulator serves for a file right now (a fresh URL): its bytes. */
async function served(videoId: string, file: 'video_url' | 'subtitle_url' | 'thumbnail_url'): Promise<Buffer> {
  const video = await sim.client().getVideo(videoId);
  return Buffer.from(await (await fetch(video[file]!)).arrayBuffer());
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Media bytes the simulator has sent of a video's main file, from its stats. */
async function mediaBytesServed(videoId: string): Promise<number> {
  return (await sim.stats()).media_bytes_served?.[`${videoId}/video.mp4`] ?? 0;
}

test('a normal archive: each file in the folder, its size and SHA-256 those of the simulator\'s file; nothing staged left', async () => {
  const videoId = await completedVideoId('1mb');
  const sessionKey = 'session-normal';
  const entries: ArchiveFileResult[] = [];
  for (const file of ['video', 'captioned', 'subtitles', 'thumbnail', 'gif'] as ArchiveFile[]) {
    entries.push((await archive({ sessionKey, videoId, file })).result);
  }
  const [video, captioned, subtitles, thumbnail, gif] = entries;
  expect(video).toEqual({
    archived: { file: 'video', store: 'local', key: 'session-normal/video.mp4', size: 1024 * 1024, sha256: expect.any(String), contentType: 'video/mp4', archivedAt: expect.any(String) },
  });
  const expected = await served(videoId, 'video_url');
  const archived = readFileSync(path.join(root, 'session-normal', 'video.mp4'));
  expect(archived.equals(expected)).toBe(true);
  expect('archived' in video! && video.archived.sha256).toBe(sha256(expected));
  expect(captioned).toMatchObject({ archived: { key: 'session-normal/captioned.mp4', size: 1024 * 1024 } });
  expect(subtitles).toMatchObject({ archived: { key: 'session-normal/subtitles.srt', contentType: 'application/x-subrip', sha256: sha256(await served(videoId, 'subtitle_url')) } });
  expect(thumbnail).toMatchObject({ archived: { key: 'session-normal/thumbnail.png', contentType: 'image/png', sha256: sha256(await served(videoId, 'thumbnail_url')) } });
  // HeyGen offers no GIF for this video (gif_url null): nothing to archive, said so.
  expect(gif).toEqual({ absent: 'not_offered' });
  expect(readdirSync(path.join(root, '.staging'))).toEqual([]);
});

test('a URL that expires between the read and the download: the video is read again and the download succeeds', async () => {
  const videoId = await completedVideoId('200kb');
  await sim.fault({ endpoint: 'media', fault: 'expired', video_id: videoId });
  const reads = (await sim.stats()).totals.get_video ?? 0;
  const { result } = await archive({ sessionKey: 'session-expired', videoId, file: 'video' });
  expect(result).toMatchObject({ archived: { size: 200 * 1024, sha256: sha256(await served(videoId, 'video_url')) } });
  const stats = await sim.stats();
  console.log(`expired URL: ${stats.faults_injected.expired} refused download, ${(stats.totals.get_video ?? 0) - reads - 1} video reads by the archive`);
  expect(stats.faults_injected.expired).toBe(1);
  // The read before the download, and the one after the 403 (the test's own read comes after).
  expect((stats.totals.get_video ?? 0) - reads - 1).toBe(2);
});

test('a connection dropped mid-download: the attempt fails, the retry resumes from the staged bytes (no second full copy)', async () => {
  const videoId = await completedVideoId('2mb');
  await sim.fault({ endpoint: 'media', fault: 'cut', video_id: videoId });
  const input = { sessionKey: 'session-cut', videoId, file: 'video' as const };
  await expect(archive(input)).rejects.toThrow();
  const staged = readdirSync(path.join(root, '.staging'));
  expect(staged).toHaveLength(1);
  expect(existsSync(path.join(root, 'session-cut', 'video.mp4'))).toBe(false); // nothing partial visible

  const { result, beats } = await archive(input);
  const served_ = await mediaBytesServed(videoId);
  console.log(`dropped connection: ${served_} bytes served for a ${2 * 1024 * 1024}-byte file; heartbeats ${JSON.stringify(beats)}`);
  expect(result).toMatchObject({ archived: { size: 2 * 1024 * 1024, sha256: sha256(await served(videoId, 'video_url')) } });
  // Half before the drop, the rest after (plus what was in flight when it dropped): a second full copy would be 1.5x or more.
  expect(served_).toBeLessThan(2 * 1024 * 1024 * 1.25);
  expect(beats.at(-1)).toEqual({ file: 'video', bytes: 2 * 1024 * 1024 });
  expect(readdirSync(path.join(root, '.staging'))).toEqual([]);
});

test('a file that is gone (404 even with a fresh URL): a non-retryable ArchiveMediaMissing failure, nothing stored', async () => {
  const videoId = await completedVideoId('100kb');
  await sim.fault({ endpoint: 'media', fault: 'missing', video_id: videoId, count: 2 });
  const failure = await archive({ sessionKey: 'session-missing', videoId, file: 'video' }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: ARCHIVE_FAILURE.mediaMissing, nonRetryable: true, message: expect.stringContaining('404') });
  expect(existsSync(path.join(root, 'session-missing'))).toBe(false);
});

test('a retry after the commit landed finds the file and reports it without downloading again', async () => {
  const videoId = await completedVideoId('300kb');
  const input = { sessionKey: 'session-again', videoId, file: 'video' as const };
  const first = await archive(input);
  const servedOnce = await mediaBytesServed(videoId);
  const second = await archive(input);
  expect(await mediaBytesServed(videoId)).toBe(servedOnce);
  expect(second.result).toMatchObject({ archived: { key: 'session-again/video.mp4', size: 300 * 1024 } });
  expect('archived' in second.result && second.result.archived.sha256).toBe('archived' in first.result && first.result.archived.sha256);
});

test('archival turned off: every file reported as not archived, HeyGen not called', async () => {
  const before = (await sim.stats()).totals.get_video ?? 0;
  const off = createArchiveActivities({ heygen: sim.client(), store: null, logger: testLogger });
  const { result } = await archive({ sessionKey: 'session-off', videoId: 'whatever', file: 'video' }, off);
  expect(result).toEqual({ absent: 'off' });
  expect((await sim.stats()).totals.get_video ?? 0).toBe(before);
});
