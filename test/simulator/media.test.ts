/**
 * The media behind the simulator's presigned URLs, as object storage serves it: videos of any size (the
 * sample MP4 padded with a `free` box), `Range` requests, a download speed, and scripted download faults
 * (an expired URL, a missing file, a connection dropped halfway, a storage hiccup).
 */
import { createHash } from 'node:crypto';
import { byteRange } from '../../src/contract/byte-range';
import { mediaFiles } from '../../src/simulator/media';
import { startTestSimulator, type TestSimulator } from '../harness/simulator';
import { eventually } from '../harness/wait';

let sim: TestSimulator;

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  await sim.reset();
});

/** A completed video of `size` (a scenario directive), and its file URLs. */
async function completedVideo(size = '300kb'): Promise<{ videoId: string; videoUrl: string; subtitleUrl: string }> {
  const client = sim.client();
  const created = await client.createSession({ prompt: `Media [[sim think=1s review=skip generate=1s video_size=${size}]]`, mode: 'chat' });
  const video = await eventually(
    async () => {
      const session = await client.getSession(created.session_id);
      if (session.status !== 'completed' || !session.video_id) return undefined;
      const details = await client.getVideo(session.video_id);
      return details.status === 'completed' ? details : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 10, what: 'a completed video' },
  );
  return { videoId: video.id, videoUrl: video.video_url!, subtitleUrl: video.subtitle_url! };
}

test('a video of a given size is the sample MP4 followed by a free box, so it stays a valid MP4', async () => {
  const { videoUrl } = await completedVideo('300kb');
  const response = await fetch(videoUrl);
  const body = Buffer.from(await response.arrayBuffer());
  const sample = mediaFiles().mp4;
  expect(response.headers.get('accept-ranges')).toBe('bytes');
  expect(Number(response.headers.get('content-length'))).toBe(300 * 1024);
  expect(body.length).toBe(300 * 1024);
  expect(body.subarray(0, sample.length).equals(sample)).toBe(true);
  expect(body.readUInt32BE(sample.length)).toBe(300 * 1024 - sample.length);
  expect(body.subarray(sample.length + 4, sample.length + 8).toString('ascii')).toBe('free');
  // The same bytes on every read (an archive's checksum has something to match).
  const again = Buffer.from(await (await fetch(videoUrl)).arrayBuffer());
  expect(createHash('sha256').update(again).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
});

test('Range requests read part of a file, as object storage answers them', async () => {
  const { videoUrl } = await completedVideo('100kb');
  const whole = Buffer.from(await (await fetch(videoUrl)).arrayBuffer());
  const part = await fetch(videoUrl, { headers: { range: 'bytes=2500-70000' } });
  expect(part.status).toBe(206);
  expect(part.headers.get('content-range')).toBe(`bytes 2500-70000/${100 * 1024}`);
  expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(2500, 70001))).toBe(true);
  const tail = await fetch(videoUrl, { headers: { range: 'bytes=100000-' } });
  expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(100000))).toBe(true);
  const past = await fetch(videoUrl, { headers: { range: `bytes=${100 * 1024}-` } });
  expect(past.status).toBe(416);
  expect(past.headers.get('content-range')).toBe(`bytes */${100 * 1024}`);
});

test('byteRange reads one range of bytes= and ignores what it cannot read', () => {
  expect(byteRange('bytes=0-9', 100)).toEqual([0, 9]);
  expect(byteRange('bytes=90-', 100)).toEqual([90, 99]);
  expect(byteRange('bytes=-10', 100)).toEqual([90, 99]);
  expect(byteRange('bytes=50-500', 100)).toEqual([50, 99]);
  expect(byteRange('bytes=100-', 100)).toBe('unsatisfiable');
  expect(byteRange('bytes=-0', 100)).toBe('unsatisfiable');
  for (const ignored of [undefined, 'bytes=0-1,5-6', 'items=0-1', 'bytes=9-3', 'bytes=-']) expect(byteRange(ignored, 100)).toBeUndefined();
});

test('mediaBytesPerSecond paces a download', async () => {
  const { videoUrl } = await completedVideo('200kb');
  await sim.configure({ mediaBytesPerSecond: 400 * 1024 });
  const started = Date.now();
  const body = Buffer.from(await (await fetch(videoUrl)).arrayBuffer());
  const took = Date.now() - started;
  console.log(`200 KiB at 400 KiB/s took ${took} ms`);
  expect(body.length).toBe(200 * 1024);
  // Half a second at that pace; a functional bound (the knob works), far from any machine's speed.
  expect(took).toBeGreaterThanOrEqual(400);
});

test('scripted media faults: expired, missing, a dropped connection halfway, a storage hiccup; only for the video named', async () => {
  const { videoId, videoUrl, subtitleUrl } = await completedVideo('200kb');
  await sim.fault({ endpoint: 'media', fault: 'expired', video_id: 'some-other-video' });
  expect((await fetch(videoUrl)).status).toBe(200);

  await sim.reset();
  const again = await completedVideo('200kb');
  await sim.fault({ endpoint: 'media', fault: 'expired', video_id: again.videoId });
  const expired = await fetch(again.videoUrl);
  expect(expired.status).toBe(403);
  expect(await expired.text()).toBe('Request has expired');
  await sim.fault({ endpoint: 'media', fault: 'missing' });
  expect((await fetch(again.subtitleUrl)).status).toBe(404);
  await sim.fault({ endpoint: 'media', fault: '503' });
  expect((await fetch(again.videoUrl)).status).toBe(503);

  await sim.fault({ endpoint: 'media', fault: 'cut' });
  const cut = await fetch(again.videoUrl);
  expect(cut.status).toBe(200);
  expect(Number(cut.headers.get('content-length'))).toBe(200 * 1024);
  await expect(cut.arrayBuffer()).rejects.toThrow();
  // Each fault struck once: the next download is whole.
  expect((await (await fetch(again.videoUrl)).arrayBuffer()).byteLength).toBe(200 * 1024);
  expect(videoId).not.toBe(again.videoId);
  expect(subtitleUrl).toContain(videoId);
  const stats = await sim.stats();
  expect(stats.faults_injected).toMatchObject({ expired: 1, missing: 1, cut: 1, 503: 1 });
});

test('media faults are refused for API endpoints, and API faults for media', async () => {
  await expect(sim.fault({ endpoint: 'media', fault: '429' })).rejects.toThrow(/400/);
  await expect(sim.fault({ endpoint: 'get_video', fault: 'cut' })).rejects.toThrow(/400/);
});
