/**
 * The status line of the Temporal Web UI (a workflow's current details): what the session is doing,
 * since when, and what it waits for. A pure function of the state.
 */
import { FINAL_PHASES, type SessionState } from '../../contract/session';
import { clock } from './context';

export function statusLine(state: SessionState): string {
  const line = phaseLine(state);
  const { unreachableSince, lastError } = state.heygen;
  if (FINAL_PHASES.includes(state.phase)) return line;
  if (unreachableSince !== null) return `**HeyGen unreachable since ${clock(Date.parse(unreachableSince))}, retrying** · ${line}`;
  if (lastError !== null) return `**HeyGen refuses for now (${lastError.slice(0, 120)}), retrying** · ${line}`;
  return line;
}

function phaseLine(state: SessionState): string {
  const since = clock(Date.parse(state.phaseSince));
  const { review, queue } = state;
  // A date, not "in 7d": the line is written once per phase and read any time after.
  const deadline = review ? `, decide by ${review.deadline.slice(0, 10)} ${clock(Date.parse(review.deadline))}` : '';
  const waitingForSlot = state.heygen.slot === 'waiting' && queue ? ` (waiting for a HeyGen slot${queue.position ? `: position ${queue.position} of ${queue.queued}` : ''})` : '';
  switch (state.phase) {
    case 'queued':
      return queue?.position ? `Queued: position ${queue.position} of ${queue.queued} since ${since}` : `Queued for a HeyGen slot since ${since}`;
    case 'creating':
      return 'Creating the HeyGen session';
    case 'thinking':
      return `HeyGen is thinking${state.revisions ? ` (after storyboard ${state.revisions})` : ''} since ${since}`;
    case 'reviewing':
      return `**Awaiting review of storyboard ${review?.revision ?? state.revisions}** since ${since}${deadline}${waitingForSlot}`;
    case 'waiting_for_input':
      return `**HeyGen asks a question** since ${since}${deadline}${waitingForSlot}`;
    case 'generating':
      return `Rendering the video since ${since}`;
    case 'finalizing':
      return 'Fetching the finished video';
    case 'archiving':
      return `Archiving the video (${state.archive?.entries.length ?? 0} files so far, attempt ${state.archive?.attempts ?? 1})`;
    case 'archive_failed':
      return `**The video could not be archived**: ${state.archive?.error ?? 'unknown reason'}. Send the \`retryArchive\` signal to try again.`;
    case 'completed':
      return `Completed: video ${state.video?.videoId ?? ''}${state.video?.durationSeconds ? ` (${Math.round(state.video.durationSeconds)} s)` : ''}`;
    case 'failed':
      return `Failed (${state.error?.type ?? 'unknown'}): ${state.error?.reason ?? 'unknown reason'}`;
    case 'stopped':
      return `Stopped on request at ${since}`;
    case 'expired':
      return `Expired: ${state.error?.reason ?? 'a deadline passed'}`;
  }
}
