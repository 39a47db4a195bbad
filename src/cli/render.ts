/**
 * How the CLI shows sessions to a person: a summary, a one-line live status with a progress bar, tables.
 */
import type { SessionState } from '../contract/session';

/** How to run the CLI in a clone of this project (`vao` is on no PATH there). */
export const VAO = 'npx vao';

export const NEEDS_INPUT = ['reviewing', 'waiting_for_input'];
/** Where `watch` stops: the session has ended (an `archive_failed` one waits only for an operator's retry). */
export const ENDED = ['completed', 'failed', 'stopped', 'expired', 'archive_failed'];

export function progressBar(percent: number, width = 20): string {
  const clamped = Math.max(0, Math.min(100, Math.round(percent)));
  const filled = Math.round((clamped / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(clamped).padStart(3)}%`;
}

/** How long since `since`, as a duration (45s, 3m 05s, 1h 02m), never as a clock time. */
export function elapsed(since: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return m > 0 ? `${m}m ${String(s).padStart(2, '0')}s` : `${s}s`;
}

/** What to run next, given where a session is. */
export function nextStep(state: Pick<SessionState, 'id' | 'phase' | 'review'>): string {
  const id = state.id;
  switch (state.phase) {
    case 'reviewing':
      return `Next: ${VAO} status ${id} (the storyboard), then ${VAO} approve ${id} or ${VAO} message ${id} -m "what to change"`;
    case 'waiting_for_input':
      return `Next: ${VAO} status ${id} (the question), then ${VAO} message ${id} -m "your answer"`;
    case 'completed':
      return `Next: ${VAO} video ${id}`;
    case 'failed':
    case 'stopped':
    case 'expired':
      return `Why: ${VAO} status ${id}`;
    case 'archive_failed':
      return `Why: ${VAO} status ${id}; HeyGen's video: ${VAO} video ${id}`;
    default:
      return `Next: ${VAO} watch ${id}`;
  }
}

/** What the session is waiting for, in a few words. */
export function waitingFor(state: SessionState): string {
  const { unreachableSince } = state.heygen;
  const phase = phaseWaitingFor(state);
  return unreachableSince && !ENDED.includes(state.phase) ? `HeyGen unreachable since ${unreachableSince.slice(11, 16)} UTC, retrying; ${phase}` : phase;
}

function phaseWaitingFor(state: SessionState): string {
  switch (state.phase) {
    case 'queued':
      return state.queue?.position ? `queued for a HeyGen slot: position ${state.queue.position} of ${state.queue.queued}` : 'waiting for a free HeyGen slot';
    case 'creating':
      return 'creating the HeyGen session';
    case 'thinking':
      return state.revisions > 0 ? `HeyGen is revising (after storyboard ${state.revisions})` : 'HeyGen is writing the storyboard';
    case 'reviewing':
      return `storyboard ${state.review?.revision ?? state.revisions} is ready: waiting for your review`;
    case 'waiting_for_input':
      return `HeyGen asks: ${state.review?.messages.at(-1)?.content ?? 'a question'}`;
    case 'generating':
      return 'HeyGen is rendering the video';
    case 'finalizing':
      return 'fetching the finished video';
    case 'archiving':
      return `archiving the video${state.archive?.entries.length ? ` (${state.archive.entries.length} files so far)` : ''}`;
    case 'archive_failed':
      return `the video is done but could not be archived: ${state.archive?.error ?? 'unknown reason'} (the retryArchive signal tries again)`;
    case 'completed':
      return `done: ${state.video?.url ?? 'video ready'}`;
    case 'failed':
      return `failed: ${state.error?.reason ?? 'unknown reason'}`;
    case 'stopped':
      return 'stopped';
    case 'expired':
      return `expired: ${state.error?.reason ?? 'no review in time'}`;
  }
}

/** The live line of `watch`. */
export function statusLine(state: SessionState, now = Date.now(), shownProgress = 0): string {
  // Never backwards: HeyGen starts counting again on a revision, the person watching should not.
  const progress = state.phase === 'completed' ? 100 : Math.max(shownProgress, state.progress ?? 0);
  return `${state.phase.padEnd(17)} ${progressBar(progress)}  ${elapsed(state.createdAt, now).padStart(7)}  ${waitingFor(state)}`;
}

/** HeyGen's status and progress as last read: true only while the session runs (after its end, what HeyGen said before). */
function heygenNow(state: SessionState): string {
  if (ENDED.includes(state.phase)) return '';
  return `${state.heygenStatus ? `, HeyGen: ${state.heygenStatus}` : ''}${state.progress !== null ? `, ${state.progress}%` : ''}`;
}

/**
 * The review packet: at a checkpoint, with its deadline and the commands that act on it; after a session
 * ended at one (a review is cleared once decided), only as what there was, since nothing can act on it.
 */
function reviewLines(state: SessionState, review: NonNullable<SessionState['review']>): string[] {
  const storyboard = review.kind === 'storyboard';
  const open = NEEDS_INPUT.includes(state.phase);
  const heading = open
    ? `${storyboard ? `Storyboard ${review.revision}` : 'Question'} (since ${review.since}, deadline ${review.deadline}):`
    : `${storyboard ? `Last storyboard ${review.revision} (shown ${review.since}, not approved)` : `Last question (asked ${review.since}, not answered)`}:`;
  const lines = ['', heading];
  for (const message of review.messages) lines.push(`  ${message.content}`);
  for (const resource of review.resources) {
    const where = resource.status === 'ready' ? (resource.url ?? '(no URL)') : `(${resource.status}${resource.note ? `: ${resource.note}` : ''})`;
    lines.push(`  - ${resource.type ?? 'image'} ${resource.resourceId}: ${where}`);
  }
  if (open) lines.push('', storyboard ? `Approve: ${VAO} approve ${state.id}   Ask for changes: ${VAO} message ${state.id} -m "..."` : `Answer: ${VAO} message ${state.id} -m "..."`);
  return lines;
}

export function summary(state: SessionState): string {
  const lines = [
    `Session   ${state.id}`,
    `Phase     ${state.phase} (since ${state.phaseSince})${heygenNow(state)}`,
    `Title     ${state.title ?? '-'}`,
    `Prompt    ${state.promptSummary}`,
    `HeyGen    ${state.heygenSessionId ?? '-'}${state.heygen.unreachableSince ? ` (unreachable since ${state.heygen.unreachableSince}: ${state.heygen.lastError ?? ''})` : ''}`,
    `Slot      ${state.heygen.slot}${state.queue?.position ? ` (queue position ${state.queue.position} of ${state.queue.queued})` : ''}`,
    `By        ${state.requestedBy ?? '-'}${state.tenant ? ` (tenant ${state.tenant})` : ''}`,
  ];
  if (state.review) lines.push(...reviewLines(state, state.review));
  if (state.video) {
    lines.push('', `Video     ${state.video.url ?? '-'}`, `          ${state.video.durationSeconds ?? '?'} s, completed ${state.video.completedAt ?? '-'}`);
  }
  if (state.error) lines.push('', `Error     ${state.error.reason} [${state.error.type}]`);
  if (state.actions.length > 0) {
    lines.push('', 'Actions:');
    for (const action of state.actions.slice(-5)) {
      lines.push(`  ${action.at} ${action.kind} by ${action.by ?? '-'}: ${action.outcome}${action.reason ? ` (${action.reason})` : ''}`);
    }
  }
  return lines.join('\n');
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}
