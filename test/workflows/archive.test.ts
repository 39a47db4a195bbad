/**
 * Archival in the session workflow (issue 13): the real dev server, a worker with the real activities,
 * the simulator's media over HTTP, a real folder. A completed session has its files archived first
 * (phase `archiving`); a file that cannot be archived leaves the session `archive_failed` with its video
 * kept, and `retryArchive` archives it then.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { VideoAgentStatus } from '../../src/contract/search-attributes';
import { retryArchiveSignal } from '../../src/contract/session';
import { ARCHIVE_FAILURE } from '../../src/contract/failures';
import { recordHistory, startSessionHarness, type SessionHarness } from '../harness/sessions';

let h: SessionHarness;
beforeAll(async () => {
  h = await startSessionHarness();
});
afterAll(async () => {
  await h?.close();
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** What the simulator serves for the video's main file now (a fresh URL). */
async function servedVideo(videoId: string): Promise<Buffer> {
  const video = await h.sim.client().getVideo(videoId);
  return Buffer.from(await (await fetch(video.video_url!)).arrayBuffer());
}

test('a completed session has its files archived before it completes; each matches the simulator\'s', async () => {
  const handle = await h.start({ prompt: 'Archive this [[sim think=2s generate=2s video_size=1mb]]', autoApprove: true });
  const state = await handle.result();
  expect(state.phase).toBe('completed');
  const phases = state.phaseHistory.map((entry) => entry.phase);
  expect(phases.slice(-3)).toEqual(['finalizing', 'archiving', 'completed']);
  expect(state.archive).toMatchObject({ status: 'archived', notOffered: ['gif'], error: null, attempts: 1 });
  expect(state.archive!.entries.map((entry) => entry.file)).toEqual(['video', 'captioned', 'subtitles', 'thumbnail']);
  const video = state.archive!.entries[0]!;
  expect(video).toMatchObject({ store: 'local', key: `${handle.workflowId}/video.mp4`, size: 1024 * 1024, contentType: 'video/mp4' });
  const archived = readFileSync(path.join(h.configEnv.ARCHIVE_DIR!, video.key));
  expect(sha256(archived)).toBe(video.sha256);
  expect(archived.equals(await servedVideo(state.video!.videoId))).toBe(true);
  // The video info stays as HeyGen gave it.
  expect(state.video).toMatchObject({ status: 'completed', url: expect.stringContaining('/media/videos/') });
  await recordHistory(handle, 'archived');
});

test('a file that is gone: archive_failed with the video kept and a typed error; retryArchive then archives it and completes', async () => {
  const handle = await h.start({ prompt: 'Archive fails once [[sim think=2s generate=2s video_size=100kb]]', autoApprove: true });
  // The video file answers 404 (also with the fresh URL read after the first 404).
  await h.sim.fault({ endpoint: 'media', fault: 'missing', count: 2 });
  const failed = await h.waitForPhase(handle, 'archive_failed', 30_000);
  expect(failed.video).toMatchObject({ status: 'completed', videoId: expect.any(String) });
  expect(failed.error).toMatchObject({ type: ARCHIVE_FAILURE.mediaMissing, reason: expect.stringContaining('404') });
  expect(failed.archive).toMatchObject({ status: 'failed', entries: [], attempts: 1, error: expect.stringContaining('video') });
  expect(failed.heygen.slot === 'released' || failed.heygen.slot === 'none').toBe(true);
  expect((await handle.describe()).typedSearchAttributes.get(VideoAgentStatus)).toBe('archive_failed');
  expect((await handle.describe()).status.name).toBe('RUNNING');

  await handle.signal(retryArchiveSignal, { by: 'operator' });
  const state = await handle.result();
  expect(state.phase).toBe('completed');
  expect(state.error).toBeNull();
  expect(state.archive).toMatchObject({ status: 'archived', attempts: 2 });
  expect(state.archive!.entries.map((entry) => entry.file)).toEqual(['video', 'captioned', 'subtitles', 'thumbnail']);
  expect(state.actions.at(-1)).toMatchObject({ kind: 'retry_archive', by: 'operator', outcome: 'applied' });
  expect(state.phaseHistory.map((entry) => entry.phase).slice(-4)).toEqual(['archiving', 'archive_failed', 'archiving', 'completed']);
  await recordHistory(handle, 'archive-retried');
});

test('retryArchive outside archive_failed is recorded and ignored', async () => {
  const handle = await h.start({ prompt: 'Parked [[sim think=1s]]' });
  await h.waitForPhase(handle, 'reviewing');
  await handle.signal(retryArchiveSignal, { by: 'someone' });
  const state = await h.state(handle);
  expect(state.actions.at(-1)).toMatchObject({ kind: 'retry_archive', by: 'someone', outcome: 'ignored', reason: expect.stringContaining('reviewing') });
  await handle.cancel();
});
