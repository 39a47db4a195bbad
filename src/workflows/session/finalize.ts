/**
 * The finished video: read from HeyGen (phase `finalizing`), then its files copied to our own storage
 * (phase `archiving`; HeyGen's URLs expire). An archival failure that outlasts its retries leaves the
 * phase `archive_failed`, the video and whatever was archived kept, and the session waits a week for
 * `retryArchive` before its workflow ends.
 */
import * as wf from '@temporalio/workflow';
import { formatDuration } from '../../contract/duration';
import { SESSION_FAILURE } from '../../contract/failures';
import { retryArchiveSignal, ARCHIVE_FILES } from '../../contract/session';
import { iso, type SessionRun } from './context';
import { recordAction } from './decisions';
import { archiveFailureType, describeFailure, failureReason } from './failures';
import { callHeyGen } from './heygen-calls';
import { archivesBeforeCompleting, keepsWebhookAtVideoRead } from './legacy';
import { releaseSlot } from './slot';
import { failed, type Step } from './steps';

/** How long a session waits in `archive_failed` for `retryArchive` before its workflow ends. */
const ARCHIVE_RETRY_WINDOW_MS = 7 * 24 * 3_600_000;

export function registerArchiveHandlers(run: SessionRun): void {
  wf.setHandler(retryArchiveSignal, (raw) => {
    const by = raw && typeof raw === 'object' && typeof raw.by === 'string' ? raw.by.slice(0, 200) : null;
    const { phase } = run.state;
    const waiting = phase === 'archive_failed';
    recordAction(run, 'retry_archive', null, by, waiting ? 'applied' : 'ignored', waiting ? null : `the session is ${phase}, not archive_failed`);
    if (waiting) run.archiveRetryBy = by ?? 'unnamed';
  });
}

/** Phase `finalizing`: reads the finished video (polling until HeyGen has it ready) and the session's video list. */
export async function finalizeStep(run: SessionRun): Promise<Step> {
  const { state, timing } = run;
  const sessionId = run.sessionId();
  const deadline = Date.parse(state.phaseSince) + timing.maxVideoWait;
  const read = { kind: 'read', deadline, what: 'reading the finished video' } as const;
  state.videoIds = await callHeyGen(run, 'listHeyGenSessionVideos', [sessionId], read);
  const videoId = run.lastVideoId ?? state.videoIds[0];
  if (!videoId) return failed('HeyGen reported the session completed, but it has no video', SESSION_FAILURE.heygenFailed);
  for (;;) {
    // A webhook from here on (it may come with this read's result) means: read again at once.
    run.poked = false;
    const video = await callHeyGen(run, 'getHeyGenVideo', [videoId], read);
    if (video.status === 'completed') {
      const { failureCode: _code, failureMessage: _message, ...info } = video;
      state.video = info;
      state.completedAt = iso(Date.now());
      // Sessions that reached here before archival existed complete as they did.
      return archivesBeforeCompleting() ? 'archiving' : { end: 'completed' };
    }
    if (video.status === 'failed') return failed(failureReason(video, state.messages), SESSION_FAILURE.heygenFailed);
    if (Date.now() >= deadline) {
      return failed(`The video was still ${video.status} ${formatDuration(timing.maxVideoWait)} after the session completed`, SESSION_FAILURE.timedOut);
    }
    if (run.poked && keepsWebhookAtVideoRead()) continue;
    run.poked = false;
    await wf.condition(() => run.poked, Math.min(timing.videoPollInterval, deadline - Date.now()), { summary: 'wait for the video' });
  }
}

/**
 * Phase `archiving`: archives each file not archived yet, in order, and completes (at once when
 * archival is off). A failure that outlasts its retries turns the phase `archive_failed`.
 */
export async function archiveStep(run: SessionRun): Promise<Step> {
  const { state } = run;
  // HeyGen's work is done: its job slot goes back before a long download.
  await releaseSlot(run, 'completed');
  const video = state.video!;
  const archive = (state.archive ??= { status: 'archiving', entries: [], notOffered: [], error: null, attempts: 0, updatedAt: iso(Date.now()) });
  Object.assign(archive, { status: 'archiving', error: null, attempts: archive.attempts + 1, updatedAt: iso(Date.now()) });
  run.touch();
  for (const file of ARCHIVE_FILES) {
    if (archive.entries.some((entry) => entry.file === file) || archive.notOffered.includes(file)) continue;
    let result;
    try {
      result = await run.activities.archiver.archiveVideoFile({ sessionKey: wf.workflowInfo().workflowId, videoId: video.videoId, file });
    } catch (error) {
      if (wf.isCancellation(error)) throw error;
      Object.assign(archive, { status: 'failed', error: `${file}: ${describeFailure(error)}`, updatedAt: iso(Date.now()) });
      state.error = { reason: `The video could not be archived (${archive.error})`, type: archiveFailureType(error) };
      return 'archive_failed';
    }
    if ('absent' in result && result.absent === 'off') {
      Object.assign(archive, { status: 'off', updatedAt: iso(Date.now()) });
      run.touch();
      return { end: 'completed' };
    }
    if ('archived' in result) archive.entries.push(result.archived);
    else archive.notOffered.push(file);
    archive.updatedAt = iso(Date.now());
    run.touch();
  }
  Object.assign(archive, { status: 'archived', updatedAt: iso(Date.now()) });
  state.error = null;
  run.touch();
  return { end: 'completed' };
}

/** Phase `archive_failed`: archiving again once `retryArchive` comes; the session ends when the window passes. */
export async function archiveFailedStep(run: SessionRun): Promise<Step> {
  const remaining = Date.parse(run.state.phaseSince) + ARCHIVE_RETRY_WINDOW_MS - Date.now();
  if (remaining > 0) await wf.condition(() => run.archiveRetryBy !== null, remaining, { summary: 'wait for retryArchive' });
  if (run.archiveRetryBy === null) return { end: 'archive_failed' };
  wf.log.info('archive retried on request', { by: run.archiveRetryBy });
  run.archiveRetryBy = null;
  return 'archiving';
}
