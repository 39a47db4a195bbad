/**
 * Following HeyGen while it works (phases `thinking` and `generating`): one follow activity per
 * stretch, which reads HeyGen's status at a pace of its own and returns when something worth acting on
 * happened; a `heygenEvent` webhook cuts it short. The step returns when HeyGen pauses at a checkpoint,
 * completes, fails, or moves between thinking and generating (then the next step goes on following).
 */
import * as wf from '@temporalio/workflow';
import type { FollowInput, FollowResult, ProgressSample, SessionSnapshot, SnapshotMessage, VideoDetails } from '../../activities';
import { formatDuration } from '../../contract/duration';
import { SESSION_FAILURE } from '../../contract/failures';
import { checkHeygenEventSignal } from '../../contract/session-checks';
import { heygenEventSignal, CHECKPOINT_PHASES, type ChatMessage } from '../../contract/session';
import { trackUntilStopped } from './cancelled-follows';
import { iso, type SessionRun } from './context';
import { continueAsNewIfSuggested } from './continue-as-new';
import { describeFailure, failureReason } from './failures';
import { callHeyGen } from './heygen-calls';
import { followsInActivity, followWithTimers } from './legacy';
import { buildReviewPacket } from './review-packet';
import { failed, type Step } from './steps';

const MAX_MESSAGES = 100;
/** One follow activity returns after this at the latest, whatever it saw. */
const FOLLOW_STRETCH_MAX_MS = 30 * 60_000;
/** On top of a follow's stretch: the time its last read may take. */
const FOLLOW_READ_ALLOWANCE_MS = 2 * 60_000;
/** The state's progress is at most this many points behind HeyGen's while it works. */
const FOLLOW_PROGRESS_STEP = 20;
/**
 * HeyGen's progress at a storyboard (its docs show a session `reviewing` at 45): the agent's thinking is
 * paced toward it, a render toward 100.
 */
const STORYBOARD_PROGRESS = 45;

/** One stretch of HeyGen working in one status: where its follows left off. */
interface Stretch {
  status: string;
  interval?: number;
  pace?: ProgressSample;
  last?: ProgressSample;
}

export function registerFollowHandlers(run: SessionRun): void {
  wf.setHandler(heygenEventSignal, (raw) => {
    const parsed = checkHeygenEventSignal(raw);
    wf.log.info('HeyGen event hint', { eventType: parsed.ok ? parsed.value?.eventType : undefined });
    run.poked = true;
  });
}

/** Phases `thinking` and `generating`. */
export async function followStep(run: SessionRun): Promise<Step> {
  const resume = run.follow;
  run.follow = undefined;
  let remaining: number | null = null;
  if (resume) {
    // Where the last step stood when HeyGen's status changed: the phase's time, then continue-as-new.
    remaining = phaseDeadline(run) - Date.now();
    if (remaining <= 0) return phaseTimedOut(run);
    await continueAsNewIfSuggested(run);
  }
  // Sessions started before the follow activity existed keep reading through workflow timers.
  const shape = resume?.shape ?? (followsInActivity() ? 'activity' : 'timers');
  const next =
    shape === 'timers'
      ? await followWithTimers(run, remaining, {
          absorb: (snapshot) => absorb(run, snapshot),
          settle: (snapshot, replied) => settleOnSnapshot(run, snapshot, replied),
          phaseDeadline: () => phaseDeadline(run),
          timedOut: () => phaseTimedOut(run),
        })
      : await followInActivity(run);
  if (next === 'thinking' || next === 'generating') run.follow = { shape };
  return next;
}

async function followInActivity(run: SessionRun): Promise<Step> {
  let stretch: Stretch = { status: run.state.heygenStatus ?? '' };
  let readFirst = false;
  for (;;) {
    const followed = await followOnce(run, readFirst, stretch);
    if (!followed) {
      readFirst = true; // a webhook said something happened: read at once
      continue;
    }
    readFirst = false;
    const { snapshot, interval, pace, last } = followed;
    stretch = snapshot.status === stretch.status ? { status: snapshot.status, interval, pace: pace ?? undefined, last } : { status: snapshot.status };
    // HeyGen went back to work after our message: whatever pause comes next is its answer.
    if (followed.statusesSeen.some((status) => status === 'thinking' || status === 'generating')) run.awaitingReplyAfterSeq = null;
    const next = await settleOnSnapshot(run, snapshot, absorb(run, snapshot));
    if (next !== null) return next;
    if (Date.now() >= phaseDeadline(run)) return phaseTimedOut(run);
    await continueAsNewIfSuggested(run);
  }
}

/**
 * One follow activity, until it returns or a webhook pokes (then null, the activity cancelled). Its
 * reads cost no history: one activity stands for all the reads of a stretch.
 */
async function followOnce(run: SessionRun, readFirst: boolean, stretch: Stretch): Promise<FollowResult | null> {
  const { state, timing } = run;
  const generating = state.phase === 'generating';
  const calledBack = generating && run.callsBack;
  const until = Math.min(phaseDeadline(run), Date.now() + FOLLOW_STRETCH_MAX_MS);
  const quietStatuses = [state.phase];
  // Right after our message HeyGen may still show the old checkpoint: quiet too, until it replies.
  if (run.awaitingReplyAfterSeq !== null) quietStatuses.push(...CHECKPOINT_PHASES);
  const atCursor = state.messages.filter((m) => m.role === 'model' && m.createdAt !== null && Date.parse(m.createdAt) === run.cursor * 1000).length;
  const input: FollowInput = {
    sessionId: run.sessionId(),
    messagesSince: run.cursor,
    modelMessagesAtCursor: atCursor,
    quietStatuses,
    lastStatus: state.heygenStatus ?? state.phase,
    progressStep: FOLLOW_PROGRESS_STEP,
    reportedProgress: state.progress ?? 0,
    until,
    // A webhook that came in since the last follow (with its result, or while we acted on it) is
    // consumed here: this follow reads at once instead of waiting out its schedule.
    readFirst: readFirst || run.poked,
    schedule: {
      // HeyGen calls back when a render ends: reads while rendering are then only a safety net.
      initial: calledBack ? timing.pollWhileCalledBack : timing.pollInitial,
      backoff: timing.pollBackoff,
      max: calledBack ? Math.max(timing.pollMax, timing.pollWhileCalledBack) : timing.pollMax,
      paceToward: calledBack ? null : generating ? 100 : STORYBOARD_PROGRESS,
    },
    interval: stretch.interval,
    pace: stretch.pace,
    last: stretch.last,
  };
  run.poked = false;
  return wf.CancellationScope.cancellable(async () => {
    const follow = callHeyGen(run, 'followHeyGenSession', [input], {
      kind: 'read',
      deadline: phaseDeadline(run),
      what: generating ? 'following the render' : 'following the agent',
      startToCloseTimeout: until - Date.now() + FOLLOW_READ_ALLOWANCE_MS,
      // Cut short, it settles only once it stopped: the run's end waits for that (cancelled-follows.ts).
      cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    });
    const poked = wf.condition(() => run.poked).then(() => null);
    try {
      return await Promise.race([follow, poked]);
    } finally {
      poked.catch(() => undefined);
      trackUntilStopped(run, follow);
      wf.CancellationScope.current().cancel();
    }
  });
}

/** Acts on a read of HeyGen's status: the next step, or null to go on following. */
async function settleOnSnapshot(run: SessionRun, snapshot: SessionSnapshot, replied: boolean): Promise<Step | null> {
  const { state, timing } = run;
  const status = snapshot.status;
  if (status === 'failed') return failedAtHeyGen(run, snapshot);
  if (status === 'completed') return 'finalizing';
  if (status === 'reviewing' || status === 'waiting_for_input') {
    run.unknownStatusCount = 0;
    // Right after our message HeyGen may still show the old checkpoint: wait for its reply.
    if (run.awaitingReplyAfterSeq === null || replied) {
      run.awaitingReplyAfterSeq = null;
      // The packet first: a session is `reviewing` for its readers only once there is something to review.
      await buildReviewPacket(run, status === 'reviewing' ? 'storyboard' : 'question');
      return status;
    }
  } else if (status === 'thinking' || status === 'generating') {
    run.unknownStatusCount = 0;
    run.awaitingReplyAfterSeq = null;
    if (state.phase !== status) return status;
  } else if (++run.unknownStatusCount >= timing.unknownStatusLimit) {
    return failed(`HeyGen reported the unknown status "${status}" ${run.unknownStatusCount} times in a row`, SESSION_FAILURE.unknownStatus);
  } else {
    wf.log.warn('HeyGen reported an unknown status; carrying on', { status, times: run.unknownStatusCount });
  }
  return null;
}

function phaseLimit(run: SessionRun): number {
  return run.state.phase === 'generating' ? run.timing.maxGenerating : run.timing.maxThinking;
}

function phaseDeadline(run: SessionRun): number {
  return Date.parse(run.state.phaseSince) + phaseLimit(run);
}

function phaseTimedOut(run: SessionRun): Step {
  const what = run.state.phase === 'generating' ? 'rendering the video' : 'thinking';
  return failed(`HeyGen was still ${what} after ${formatDuration(phaseLimit(run))}; the session was stopped`, SESSION_FAILURE.timedOut);
}

/** HeyGen says the session failed: the reason from its video if it has one, else from its messages. */
async function failedAtHeyGen(run: SessionRun, snapshot: SessionSnapshot): Promise<Step> {
  let video: VideoDetails | null = null;
  if (snapshot.videoId) {
    try {
      video = await run.activities.quickReads.getHeyGenVideo(snapshot.videoId);
    } catch (error) {
      // The reason then comes from the messages: the session has failed either way.
      wf.log.warn('the failed video could not be read', { error: describeFailure(error) });
    }
  }
  return failed(failureReason(video, run.state.messages), SESSION_FAILURE.heygenFailed);
}

/** Folds a snapshot into the state; true when HeyGen said something after our last message. */
function absorb(run: SessionRun, snapshot: SessionSnapshot): boolean {
  const { state } = run;
  state.heygenStatus = snapshot.status;
  state.progress = snapshot.progress;
  state.title = snapshot.title ?? state.title;
  if (snapshot.videoId) run.lastVideoId = snapshot.videoId;
  const known = new Set(state.messages.map(messageKey));
  let replied = false;
  for (const message of snapshot.messages) {
    const chat = toChatMessage(message);
    if (known.has(messageKey(chat))) continue;
    known.add(messageKey(chat));
    chat.seq = run.nextSeq++;
    state.messages.push(chat);
    if (message.createdAt !== null) run.cursor = Math.max(run.cursor, message.createdAt);
    if (chat.role === 'model' && run.awaitingReplyAfterSeq !== null && chat.seq > run.awaitingReplyAfterSeq) replied = true;
  }
  if (state.messages.length > MAX_MESSAGES) state.messages.splice(0, state.messages.length - MAX_MESSAGES);
  run.touch();
  return replied;
}

function messageKey(message: { role: string; type: string; createdAt: string | null; content: string }): string {
  return `${message.role}|${message.type}|${message.createdAt ?? ''}|${message.content}`;
}

function toChatMessage(message: SnapshotMessage): ChatMessage {
  return {
    seq: 0,
    role: message.role,
    type: message.type,
    content: message.content,
    createdAt: message.createdAt === null ? null : iso(message.createdAt * 1000),
    resourceIds: message.resourceIds,
  };
}
