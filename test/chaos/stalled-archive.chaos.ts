/**
 * Issue #22, defect 13: a worker stalled mid-download must not corrupt the archive. Two worker
 * processes share one ARCHIVE_DIR. The one downloading the video is paused (SIGSTOP) past the 20 s
 * heartbeat timeout, the other retries the download, and the first is resumed (SIGCONT) while the retry
 * runs: whatever the stalled attempt still writes when it wakes must land nowhere visible. Before the
 * fix it appended to the shared staging file, and the published video.mp4 was longer than its entry,
 * its SHA-256 neither the entry's nor HeyGen's.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RunningProcess } from '../harness/processes';
import { startSessionHarness, type SessionHarness } from '../harness/sessions';
import { eventually } from '../harness/wait';
import { buildWorkflowBundle, startWorkerProcess } from '../harness/worker-processes';
import { report } from './support';

const SIZE = 8 * 1024 * 1024;
let h: SessionHarness;
let scratch: string;
let bundlePath: string;
const workers: RunningProcess[] = [];

beforeAll(async () => {
  h = await startSessionHarness({ worker: false });
  scratch = await mkdtemp(path.join(os.tmpdir(), 'vao-stall-'));
  bundlePath = await buildWorkflowBundle(scratch);
});
afterAll(async () => {
  for (const worker of workers) {
    worker.child.kill('SIGCONT');
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
  await h?.sim.configure({ mediaBytesPerSecond: 0 });
  await h?.close();
  await rm(scratch, { recursive: true, force: true });
});

async function startWorker(): Promise<RunningProcess> {
  const worker = await startWorkerProcess(h, bundlePath, { WORKER_VERSIONING: 'false', LOG_LEVEL: 'debug' });
  workers.push(worker);
  return worker;
}

/** Whether `worker`'s output shows a download of the video starting, on an attempt `attempt` matches. */
function downloads(worker: RunningProcess, attempt: (n: number) => boolean): boolean {
  return worker
    .output()
    .split('\n')
    .some((line) => line.includes('"msg":"archive download started"') && line.includes('"file":"video"') && attempt(Number(/"attempt":(\d+)/.exec(line)?.[1])));
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

test('a worker paused past its heartbeat timeout beside a second worker: every published file is its entry\'s bytes and HeyGen\'s', async () => {
  // 32 s for the video at this pace: the first worker is paused early, the retry still runs when it wakes.
  await h.sim.configure({ mediaBytesPerSecond: 256 * 1024 });
  await startWorker();
  await startWorker();
  const handle = await h.start({
    prompt: 'Stalled while archiving [[sim think=2s generate=2s video_size=8mb]]',
    autoApprove: true,
    timing: { activityHeartbeatTimeout: '20s' },
  });
  const archiving = await h.waitForPhase(handle, 'archiving', 60_000);
  const videoId = archiving.video!.videoId;
  const served = async () => (await h.sim.stats()).media_bytes_served?.[`${videoId}/video.mp4`] ?? 0;
  const first = await eventually(async () => workers.find((w) => downloads(w, (n) => n === 1)), { timeoutMs: 30_000, what: 'the first attempt of the video download' });
  await eventually(async () => (await served()) >= SIZE / 8, { timeoutMs: 30_000, what: 'an eighth of the video downloaded' });
  first.child.kill('SIGSTOP');
  const pausedAt = Date.now();
  // The paused worker's pending polls may take the next attempts too (each then times out in turn).
  const second = await eventually(async () => workers.find((w) => w !== first && downloads(w, (n) => n >= 2)), {
    timeoutMs: 180_000,
    intervalMs: 250,
    what: 'the other worker retrying the download',
  });
  first.child.kill('SIGCONT');
  const pausedMs = Date.now() - pausedAt;
  const outputBeforeWake = first.output().length;

  const state = await handle.result();
  const servedToArchive = await served();
  // The woken attempt learns at its next heartbeat that it is no longer wanted; then it has written all it will.
  const firstAttemptEnded = (line: string) =>
    /"msg":"Activity (failed|completed as cancelled)"/.test(line) && line.includes('"activityType":"archiveVideoFile"') && line.includes('"attempt":1,');
  await eventually(async () => first.output().slice(outputBeforeWake).split('\n').some(firstAttemptEnded), {
    timeoutMs: 60_000,
    what: 'the woken first attempt to end',
  });
  await h.sim.configure({ mediaBytesPerSecond: 0 });

  const archive = h.configEnv.ARCHIVE_DIR!;
  const lines: string[] = [];
  let mismatches = 0;
  expect(state.phase).toBe('completed');
  expect(state.archive?.status).toBe('archived');
  const video = await h.sim.client().getVideo(videoId);
  const urls = { video: video.video_url, captioned: video.captioned_video_url, subtitles: video.subtitle_url, thumbnail: video.thumbnail_url };
  for (const entry of state.archive!.entries) {
    const published = readFileSync(path.join(archive, entry.key));
    const heygen = Buffer.from(await (await fetch(urls[entry.file as keyof typeof urls]!)).arrayBuffer());
    const ok = published.length === entry.size && sha256(published) === entry.sha256 && published.equals(heygen);
    if (!ok) mismatches++;
    lines.push(
      `${entry.key}: published ${published.length} bytes sha256 ${sha256(published).slice(0, 12)}; entry ${entry.size} ${entry.sha256.slice(0, 12)}; HeyGen ${heygen.length} ${sha256(heygen).slice(0, 12)}`,
    );
  }
  const staging = path.join(archive, '.staging');
  const leftovers = existsSync(staging) ? readdirSync(staging) : [];
  report(
    `stalled worker: paused ${(pausedMs / 1000).toFixed(1)} s, retried on the other worker (pid ${second.child.pid}); ${(servedToArchive / SIZE).toFixed(2)}x the video served to the workers; ` +
      `${mismatches} of ${state.archive!.entries.length} files mismatched; staging leftovers ${JSON.stringify(leftovers)}\n  ${lines.join('\n  ')}`,
  );
  expect(mismatches).toBe(0);
  expect(leftovers).toEqual([]);
});
