/**
 * Crash safety: the worker process is killed with SIGKILL mid-session (while polling, while an approval
 * is on its way to HeyGen, and while the video is being archived); a new worker process takes over and
 * the session completes with one HeyGen session, one approval message, and one copy of the video.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { approveSignal } from '../../src/contract/session';
import type { RunningProcess } from '../harness/processes';
import { startSessionHarness, type SessionHarness } from '../harness/sessions';
import { eventually } from '../harness/wait';
import { buildWorkflowBundle, startWorkerProcess } from '../harness/worker-processes';

let h: SessionHarness;
let scratch: string;
let bundlePath: string;

beforeAll(async () => {
  h = await startSessionHarness({ worker: false });
  scratch = await mkdtemp(path.join(os.tmpdir(), 'vao-crash-'));
  // Worker processes start from a prebuilt bundle, as in production (and without bundling each time).
  bundlePath = await buildWorkflowBundle(scratch);
});
afterAll(async () => {
  await h?.close();
  await rm(scratch, { recursive: true, force: true });
});

const startWorker = () => startWorkerProcess(h, bundlePath);

async function kill(worker: RunningProcess): Promise<void> {
  worker.child.kill('SIGKILL');
  await worker.exited;
}

test('killed while polling: the next worker carries on, with one HeyGen session', async () => {
  let worker = await startWorker();
  const handle = await h.start({ prompt: 'Crash while polling [[sim think=4000s generate=50s]]' });
  await eventually(async () => ((await h.heygenSessions(handle.workflowId))[0]?.calls.get ?? 0) >= 2);
  await kill(worker);

  worker = await startWorker();
  try {
    await h.waitForPhase(handle, 'reviewing', 60_000);
    await handle.signal(approveSignal, { requestId: 'approve' });
    expect((await handle.result()).phase).toBe('completed');
  } finally {
    await kill(worker);
  }
  const sessions = await h.heygenSessions(handle.workflowId);
  expect(sessions).toHaveLength(1);
  expect(sessions[0]!.messages).toHaveLength(1);
});

test('killed while the approval is on its way to HeyGen: the approval reaches HeyGen once', async () => {
  let worker = await startWorker();
  const handle = await h.start({ prompt: 'Crash while approving [[sim think=50s generate=50s]]' });
  const review = await h.waitForPhase(handle, 'reviewing');
  // HeyGen records the message, then holds its answer for 30 s: the worker dies meanwhile.
  await h.sim.configure({ slowMs: 30_000 });
  await h.sim.fault({ endpoint: 'send_message', fault: 'slow', when: 'after', session_id: review.heygenSessionId! });
  await handle.signal(approveSignal, { requestId: 'approve-once', by: 'grace' });
  await eventually(async () => (await h.heygenSessions(handle.workflowId))[0]!.messages.length === 1);
  await kill(worker);

  worker = await startWorker();
  try {
    const result = await handle.result();
    expect(result.phase).toBe('completed');
    expect(result.actions).toEqual([expect.objectContaining({ kind: 'approve', requestId: 'approve-once', outcome: 'applied' })]);
  } finally {
    await kill(worker);
    await h.sim.configure({ slowMs: 35_000 });
  }
  const sessions = await h.heygenSessions(handle.workflowId);
  expect(sessions).toHaveLength(1);
  expect(sessions[0]!.messages).toHaveLength(1);
});

test('killed mid-download while archiving: no partial file visible, the next worker resumes it, no second full copy', async () => {
  const size = 2 * 1024 * 1024;
  // 8 s for the video at this pace: the worker dies a quarter of the way in.
  await h.sim.configure({ mediaBytesPerSecond: 256 * 1024 });
  let worker = await startWorker();
  try {
    const handle = await h.start({
      prompt: 'Crash while archiving [[sim think=2s generate=2s video_size=2mb]]',
      autoApprove: true,
      timing: { activityHeartbeatTimeout: '2s' },
    });
    const archiving = await h.waitForPhase(handle, 'archiving', 30_000);
    const videoId = archiving.video!.videoId;
    const served = async () => (await h.sim.stats()).media_bytes_served?.[`${videoId}/video.mp4`] ?? 0;
    await eventually(async () => (await served()) >= size / 4, { timeoutMs: 30_000, what: 'a quarter of the video downloaded' });
    await kill(worker);

    const archive = h.configEnv.ARCHIVE_DIR!;
    const target = path.join(archive, handle.workflowId, 'video.mp4');
    const staged = readdirSync(path.join(archive, '.staging')).map((name) => statSync(path.join(archive, '.staging', name)).size);
    expect(existsSync(target)).toBe(false);
    expect(staged.length).toBe(1);
    const stagedBytes = staged[0]!;

    worker = await startWorker();
    const state = await handle.result();
    const total = await served();
    console.log(`killed at ${stagedBytes} of ${size} bytes staged; ${total} bytes served in all (${(total / size).toFixed(2)}x the file)`);
    expect(state.phase).toBe('completed');
    const entry = state.archive!.entries.find((e) => e.file === 'video')!;
    expect(entry.size).toBe(size);
    expect(createHash('sha256').update(readFileSync(target)).digest('hex')).toBe(entry.sha256);
    // The download resumed from what was staged: far less than a second full copy.
    expect(total).toBeLessThan(size * 1.5);
    expect(readdirSync(path.join(archive, '.staging'))).toEqual([]);
  } finally {
    await kill(worker);
    await h.sim.configure({ mediaBytesPerSecond: 0 });
  }
});
