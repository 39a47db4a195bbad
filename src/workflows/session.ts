/**
 * `videoAgentSession`: one HeyGen Video Agent session, start to finish, durably.
 *
 * queued (wait for one of the account's HeyGen job slots, from the governor) → creating → (thinking |
 * generating: poll HeyGen through activities, with durable timers that a `heygenEvent` signal cuts
 * short) → (reviewing | waiting_for_input: build a review packet, then wait, without polling, for
 * `approve` / `sendMessage` or the review deadline) → ... → finalizing (read the video) → completed.
 *
 * HeyGen's bad days are waited out: a call that keeps failing is retried without an attempt cap until
 * the deadline of the phase it serves, and the state says HeyGen is unreachable meanwhile. Every ending
 * is true: `failed`, `stopped` or `expired` with a typed error, the search attribute in step, HeyGen
 * told to stop whatever may still run, and the slot given back.
 *
 * Signals are idempotent by `requestId` and only act at a checkpoint; a decision that arrives while
 * another is applied waits its turn and is then applied or ignored with the reason, never left pending.
 * Every HeyGen write carries an Idempotency-Key derived from this execution.
 */
import * as wf from '@temporalio/workflow';
import type {
  ArchiveActivities,
  FollowInput,
  FollowResult,
  GovernorActivities,
  HeyGenActivities,
  NotifyActivities,
  ProgressSample,
  ResourceRead,
  SessionSnapshot,
  SnapshotMessage,
  VideoDetails,
} from '../activities';
import { formatDuration } from '../contract/duration';
import type { ReviewWaitDecision } from '../contract/metrics';
import { ARCHIVE_FAILURE, HEYGEN_FAILURE, SESSION_FAILURE } from '../contract/failures';
import { queuePositionSignal, releaseSlotSignal, slotGrantedSignal, type QueuePosition } from '../contract/governor';
import { HeyGenSessionId, VideoAgentRequestedBy, VideoAgentStatus, VideoAgentTenant } from '../contract/search-attributes';
import {
  checkApproveSignal,
  checkDecisionOutcomeInput,
  checkHeygenEventSignal,
  checkSendMessageSignal,
  checkSessionInput,
  describeProblems,
  resolveTiming,
} from '../contract/session-checks';
import {
  sessionLinks,
  type NotificationDelivery,
  type NotifyEvent,
  approveSignal,
  decisionOutcomeUpdate,
  type DecisionOutcome,
  heygenEventSignal,
  retryArchiveSignal,
  sendMessageSignal,
  stateQuery,
  ARCHIVE_FILES,
  CHECKPOINT_PHASES,
  FINAL_PHASES,
  summarizePrompt,
  type Action,
  type ApproveSignal,
  type ChatMessage,
  type ParsedSessionInput,
  type Phase,
  type ResourceInfo,
  type ReviewPacket,
  type SendMessageSignal,
  type SessionFile,
  type SessionInput,
  type SessionResult,
  type SessionState,
  type Timing,
  REQUEST_ID_MAX,
} from '../contract/session';
import { countPhaseEntry, recordReviewWait } from './metrics';

/** What an approval says to HeyGen when the reviewer gives no text of their own. */
export const DEFAULT_APPROVAL_MESSAGE = 'Approved. Please go ahead and generate the video.';

const MAX_MESSAGES = 100;
const MAX_ACTIONS = 200;
/** autoApprove decides at most this many checkpoints; a confused agent then needs a person. */
const AUTO_APPROVE_LIMIT = 5;
/** Phase changes kept in the state, for live streams that read it now and then. */
const MAX_PHASE_HISTORY = 30;
/** Notifications kept in the state's delivery log. */
const MAX_NOTIFICATIONS = 50;
/** Storyboards kept for comparison once the session has moved past them. */
const MAX_EARLIER_STORYBOARDS = 10;
/** The longest wait between two attempts of one notification. */
const NOTIFY_MAX_BACKOFF_MS = 3_600_000;
/** Which phases are worth telling the caller about, as which event (`session.queued`: when a wait has a position). */
const EVENT_OF_PHASE: Partial<Record<Phase, NotifyEvent>> = {
  reviewing: 'session.awaiting_review',
  waiting_for_input: 'session.awaiting_answer',
  completed: 'session.completed',
  failed: 'session.failed',
  stopped: 'session.stopped',
  expired: 'session.expired',
  archive_failed: 'session.archive_failed',
};
/** How long a stop is retried while HeyGen cannot be reached (a job left running keeps billing). */
const STOP_RETRY_WINDOW_MS = 24 * 3_600_000;
/** A call's quick attempts before the session reports HeyGen unreachable and retries patiently. */
const QUICK_ATTEMPTS = 4;
/** Backoff cap of the patient retries (one minute, so a recovered HeyGen is noticed within one). */
const PATIENT_MAX_INTERVAL = '1 minute';
/** Marks sessions that follow HeyGen through one activity per stretch (not one activity and timer per read). */
const FOLLOW_IN_ACTIVITY = 'follow-in-activity';
/** One follow activity returns after this at the latest, whatever it saw. */
const FOLLOW_STRETCH_MAX_MS = 30 * 60_000;
/** On top of a follow's stretch: the time its last read may take. */
const FOLLOW_READ_ALLOWANCE_MS = 2 * 60_000;
/** The state's progress is at most this many points behind HeyGen's while it works. */
const FOLLOW_PROGRESS_STEP = 20;
/** Marks sessions that archive their video before completing. */
const ARCHIVE_MEDIA = 'archive-media';
/** How long one file's archival is retried (a download resumes on retry) before the phase turns `archive_failed`. */
const ARCHIVE_RETRY_FOR = '1 hour';
/** How long a session waits in `archive_failed` for `retryArchive` before its workflow ends. */
const ARCHIVE_RETRY_WINDOW_MS = 7 * 24 * 3_600_000;
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
/** Marks sessions that read a checkpoint's images in one activity. */
const RESOURCES_IN_ONE_ACTIVITY = 'resources-in-one-activity';

/** What one run hands the next at continue-as-new. */
export interface CarriedState {
  state: SessionState;
  seenRequestIds: string[];
  cursor: number;
  nextSeq: number;
  checkpointSeq: number;
  awaitingReplyAfterSeq: number | null;
  lastSentWasApproval: boolean;
  reapprovals: number;
  autoApprovals: number;
  actionCount: number;
  lastVideoId: string | null;
  governorId: string | null;
  holdSlotWhileParked: boolean;
  slotGranted: boolean;
  /** Absent in runs carried before notifications existed. */
  notificationSeq?: number;
  pendingNotifications?: { id: string; body: string }[];
  /** Absent in runs carried before webhooks shaped the polling. */
  callsBack?: boolean;
}

interface Decision {
  kind: Action['kind'];
  message: string;
  autoProceed: boolean;
  requestId: string | null;
  by: string | null;
  avatarId?: string;
  voiceId?: string;
  files?: SessionFile[];
  action: Action;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function clock(ms: number): string {
  return `${iso(ms).slice(11, 16)} UTC`;
}

/** The end of a session that is no failure: the review or queue deadline passed (phase `expired`). */
class Expiry extends Error {
  constructor(
    readonly reason: string,
    readonly type: string,
  ) {
    super(reason);
  }
}

type HeyGenCallKind = 'read' | 'write';

function messageKey(message: { role: string; type: string; createdAt: string | null; content: string }): string {
  return `${message.role}|${message.type}|${message.createdAt ?? ''}|${message.content}`;
}

/** The reason a failed session gives: video failure fields, newest error message, newest model message. */
export function failureReason(video: Pick<VideoDetails, 'failureCode' | 'failureMessage'> | null, messages: readonly ChatMessage[]): string {
  if (video?.failureMessage || video?.failureCode) {
    return video.failureMessage ? `${video.failureMessage}${video.failureCode ? ` (${video.failureCode})` : ''}` : `HeyGen failure code ${video.failureCode}`;
  }
  const newest = [...messages].reverse();
  const error = newest.find((m) => m.type === 'error');
  if (error) return error.content;
  const model = newest.find((m) => m.role === 'model');
  if (model) return `HeyGen gave no error details; the agent's last message was: "${model.content}"`;
  return 'unknown: HeyGen reported the session failed without any reason';
}

class SessionRun {
  private readonly state: SessionState;
  private readonly seenRequestIds: Set<string>;
  private cursor: number;
  private nextSeq: number;
  private checkpointSeq: number;
  private awaitingReplyAfterSeq: number | null;
  private lastSentWasApproval: boolean;
  private reapprovals: number;
  private autoApprovals: number;
  private actionCount: number;
  private lastVideoId: string | null;
  private governorId: string | null;
  private holdSlotWhileParked: boolean;
  private slotGranted: boolean;
  /** Human decisions in arrival order, applied one at a time. */
  private readonly decisions: Decision[] = [];
  private applying: Decision | undefined;
  /** Background reads of storyboard images still loading; cancelled when the checkpoint is over. */
  private imageLoads: wf.CancellationScope | undefined;
  private poked = false;
  /** Whether HeyGen calls our webhook when the render ends (it was given one at create). */
  private callsBack: boolean;
  private unknownStatusCount = 0;
  private readonly quickReads: HeyGenActivities;
  private readonly quickWrites: HeyGenActivities;
  private readonly governor: GovernorActivities;
  private readonly notifier: NotifyActivities;
  private readonly archiver: ArchiveActivities;
  /** Who sent `retryArchive` while the session waited in `archive_failed` (null: nobody yet). */
  private archiveRetryBy: string | null = null;
  private notificationSeq: number;
  /** Notifications being delivered, by id: the body (carried across continue-as-new) and the retry loop. */
  private readonly deliveries = new Map<string, { body: string; done: Promise<void> }>();

  constructor(
    private readonly rawInput: SessionInput,
    private readonly input: ParsedSessionInput,
    private readonly timing: Timing,
    carried: CarriedState | undefined,
  ) {
    const info = wf.workflowInfo();
    const now = Date.now();
    this.state = carried?.state ?? {
      id: info.workflowId,
      heygenSessionId: null,
      phase: 'creating',
      phaseSince: iso(now),
      heygenStatus: null,
      progress: null,
      title: null,
      promptSummary: summarizePrompt(input.prompt),
      prompt: input.prompt,
      requestedBy: input.requestedBy ?? null,
      tenant: input.tenant ?? null,
      labels: input.labels ?? {},
      revisions: 0,
      messages: [],
      review: null,
      earlierStoryboards: [],
      video: null,
      archive: null,
      videoIds: [],
      error: null,
      queue: null,
      heygen: { slot: 'none', slotSince: null, unreachableSince: null, lastError: null, stopRequestedAt: null },
      actions: [],
      notifications: [],
      phaseHistory: [{ seq: 1, phase: 'creating', at: iso(now) }],
      createdAt: iso(now),
      updatedAt: iso(now),
      completedAt: null,
      runs: 0,
    };
    this.state.runs++;
    this.state.notifications ??= [];
    this.state.phaseHistory ??= [];
    this.state.prompt ||= input.prompt;
    this.state.earlierStoryboards ??= [];
    this.state.archive ??= null;
    this.notificationSeq = carried?.notificationSeq ?? 0;
    this.seenRequestIds = new Set(carried?.seenRequestIds ?? []);
    this.cursor = carried?.cursor ?? 0;
    this.nextSeq = carried?.nextSeq ?? 1;
    this.checkpointSeq = carried?.checkpointSeq ?? 0;
    this.awaitingReplyAfterSeq = carried?.awaitingReplyAfterSeq ?? null;
    this.lastSentWasApproval = carried?.lastSentWasApproval ?? false;
    this.reapprovals = carried?.reapprovals ?? 0;
    this.autoApprovals = carried?.autoApprovals ?? 0;
    this.actionCount = carried?.actionCount ?? 0;
    this.lastVideoId = carried?.lastVideoId ?? null;
    this.governorId = carried?.governorId ?? null;
    this.holdSlotWhileParked = carried?.holdSlotWhileParked ?? true;
    this.slotGranted = carried?.slotGranted ?? false;
    this.callsBack = carried?.callsBack ?? false;

    // A few quick attempts first; a call still failing then is retried patiently (see callHeyGen).
    this.quickReads = wf.proxyActivities<HeyGenActivities>({ ...this.activityOptions('read'), retry: { ...this.retryPolicy(), maximumAttempts: QUICK_ATTEMPTS } });
    this.quickWrites = wf.proxyActivities<HeyGenActivities>({ ...this.activityOptions('write'), retry: { ...this.retryPolicy(), maximumAttempts: QUICK_ATTEMPTS } });
    // Temporal itself, not HeyGen: retried until it answers.
    this.governor = wf.proxyActivities<GovernorActivities>({ startToCloseTimeout: '30 seconds', retry: { initialInterval: '1s', maximumInterval: '30s' } });
    // One attempt per call: the workflow retries, so the delivery log shows every attempt.
    this.notifier = wf.proxyActivities<NotifyActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 1 } });
    // A download heartbeats its progress; a retry (another worker, or after a crash) resumes it.
    this.archiver = wf.proxyActivities<ArchiveActivities>({
      startToCloseTimeout: '1 hour',
      scheduleToCloseTimeout: ARCHIVE_RETRY_FOR,
      heartbeatTimeout: this.timing.activityHeartbeatTimeout,
      retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
    });
    for (const pending of carried?.pendingNotifications ?? []) {
      const delivery = this.state.notifications.find((d) => d.id === pending.id);
      if (delivery) this.deliver(delivery, pending.body);
    }
  }

  private activityOptions(kind: HeyGenCallKind): wf.ActivityOptions {
    // Writes wait up to 120 s for HeyGen (creates run to a p99 of ~31 s).
    return { startToCloseTimeout: kind === 'write' ? '150 seconds' : '1 minute', heartbeatTimeout: this.timing.activityHeartbeatTimeout };
  }

  private retryPolicy() {
    return {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      nonRetryableErrorTypes: [HEYGEN_FAILURE.accessDenied, HEYGEN_FAILURE.rejected],
    };
  }

  // -------------------------------------------------------------------------------------------------
  // Handlers

  registerHandlers(): void {
    wf.setHandler(stateQuery, () => this.state);
    wf.setHandler(approveSignal, (raw) => this.onDecision('approve', raw));
    wf.setHandler(sendMessageSignal, (raw) => this.onDecision('message', raw));
    wf.setHandler(decisionOutcomeUpdate, ({ requestId }) => this.decisionOutcome(requestId), {
      validator: (input) => {
        const checked = checkDecisionOutcomeInput(input);
        if (!checked.ok) throw new Error(`invalid decisionOutcome input: ${describeProblems(checked.problems)}`);
      },
    });
    wf.setHandler(retryArchiveSignal, (raw) => {
      const by = raw && typeof raw === 'object' && typeof raw.by === 'string' ? raw.by.slice(0, 200) : null;
      const waiting = this.state.phase === 'archive_failed';
      this.recordAction('retry_archive', null, by, waiting ? 'applied' : 'ignored', waiting ? null : `the session is ${this.state.phase}, not archive_failed`);
      if (waiting) this.archiveRetryBy = by ?? 'unnamed';
    });
    wf.setHandler(heygenEventSignal, (raw) => {
      const parsed = checkHeygenEventSignal(raw);
      wf.log.info('HeyGen event hint', { eventType: parsed.ok ? parsed.value?.eventType : undefined });
      this.poked = true;
    });
    wf.setHandler(slotGrantedSignal, () => {
      this.slotGranted = true;
    });
    wf.setHandler(queuePositionSignal, (position) => this.onQueuePosition(position));
  }

  private onDecision(kind: 'approve' | 'message', raw: unknown): void {
    const parsed = kind === 'approve' ? checkApproveSignal(raw) : checkSendMessageSignal(raw);
    // Even a malformed signal is recorded under its request id, so whoever sent it can learn the outcome.
    const rawRequestId = (raw as { requestId?: unknown } | undefined)?.requestId;
    const requestId = parsed.ok ? (parsed.value.requestId ?? null) : typeof rawRequestId === 'string' ? rawRequestId.slice(0, REQUEST_ID_MAX) : null;
    const by = parsed.ok ? (parsed.value.by ?? null) : null;
    if (requestId !== null && this.seenRequestIds.has(requestId)) return; // a repeat: nothing to do
    if (requestId !== null) this.seenRequestIds.add(requestId);
    const action = this.recordAction(kind, requestId, by, 'pending', null);
    if (!parsed.ok) return this.settle(action, 'ignored', `invalid ${kind} signal: ${describeProblems(parsed.problems)}`);
    if (!CHECKPOINT_PHASES.includes(this.state.phase)) {
      return this.settle(action, 'ignored', `not awaiting input (phase ${this.state.phase})`);
    }
    const decision: Decision = { kind, message: DEFAULT_APPROVAL_MESSAGE, autoProceed: kind === 'approve', requestId, by, action };
    if (kind === 'approve') {
      decision.message = (parsed.value as ApproveSignal).message ?? DEFAULT_APPROVAL_MESSAGE;
    } else {
      const { message, avatarId, voiceId, files } = parsed.value as SendMessageSignal;
      Object.assign(decision, { message, avatarId, voiceId, files });
    }
    if (this.applying) action.reason = `waiting: the ${this.applying.kind} by ${this.applying.by ?? 'system'} is being sent to HeyGen first`;
    this.decisions.push(decision);
  }

  /**
   * Resolves once the decision with this request id has an outcome. Every recorded decision is settled
   * (applied, ignored, failed; the endings settle what still waits), so this never waits past it. A
   * request id with no action (never signalled, or long gone from the log) is answered at once: waiting
   * for a signal that may never come would hold up continue-as-new, which waits for every handler.
   */
  private async decisionOutcome(requestId: string): Promise<DecisionOutcome> {
    const action = () => this.state.actions.find((a) => a.requestId === requestId);
    await wf.condition(() => action()?.outcome !== 'pending');
    return { action: action() ?? null, state: this.state };
  }

  private onQueuePosition({ position, queued }: QueuePosition): void {
    if (!this.state.queue) return;
    // Every session passes through `queued` for a moment; only one that really waits is worth a word.
    const firstPosition = this.state.queue.position === null;
    this.state.queue.position = position;
    this.state.queue.queued = queued;
    this.state.queue.updatedAt = iso(Date.now());
    this.touch();
    wf.setCurrentDetails(this.details());
    if (firstPosition && this.state.phase === 'queued') this.notify('session.queued');
  }

  private recordAction(kind: Action['kind'], requestId: string | null, by: string | null, outcome: Action['outcome'], reason: string | null): Action {
    const action: Action = { at: iso(Date.now()), kind, requestId, by, outcome, reason, phase: this.state.phase };
    this.actionCount++;
    this.state.actions.push(action);
    if (this.state.actions.length > MAX_ACTIONS) this.state.actions.splice(0, this.state.actions.length - MAX_ACTIONS);
    this.touch();
    return action;
  }

  private settle(action: Action, outcome: Action['outcome'], reason?: string): void {
    action.outcome = outcome;
    if (reason !== undefined) action.reason = reason;
    this.touch();
    if (outcome === 'ignored') wf.log.info('signal recorded without effect', { kind: action.kind, reason });
  }

  /** Decisions still waiting when the checkpoint is over (or the session ends) are settled, never left pending. */
  private settleWaitingDecisions(reason: string): void {
    for (const decision of this.decisions.splice(0)) this.settle(decision.action, 'ignored', reason);
  }

  // -------------------------------------------------------------------------------------------------
  // The run

  async run(): Promise<SessionResult> {
    if (this.state.runs === 1) this.announce();
    this.resumeImageLoads();
    try {
      for (;;) {
        switch (this.state.phase) {
          case 'queued':
          case 'creating':
            await this.acquireSlot();
            await this.create();
            break;
          case 'thinking':
          case 'generating':
            await this.followWhileWorking();
            break;
          case 'reviewing':
          case 'waiting_for_input':
            await this.checkpoint();
            break;
          case 'finalizing':
            await this.finalize();
            // Sessions that reached here before archival existed complete as they did.
            if (!wf.patched(ARCHIVE_MEDIA)) return await this.endCompleted();
            this.setPhase('archiving');
            break;
          case 'archiving':
            if (await this.archiveVideo()) return await this.endCompleted();
            break;
          case 'archive_failed':
            if (await this.waitForArchiveRetry()) break;
            return await this.endArchiveFailed();
          default:
            throw wf.ApplicationFailure.nonRetryable(`session in unexpected phase ${this.state.phase}`, SESSION_FAILURE.internal);
        }
      }
    } catch (error) {
      if (error instanceof wf.ContinueAsNew) throw error;
      if (wf.isCancellation(error)) {
        await wf.CancellationScope.nonCancellable(() => this.endStopped());
        throw error;
      }
      if (error instanceof Expiry) return wf.CancellationScope.nonCancellable(() => this.endExpired(error));
      throw await wf.CancellationScope.nonCancellable(() => this.endFailed(error));
    }
  }

  /** First run only: the static facts operators search and read. */
  private announce(): void {
    const attributes: Parameters<typeof wf.upsertSearchAttributes>[0] = [{ key: VideoAgentStatus, value: this.state.phase }];
    if (this.input.requestedBy) attributes.push({ key: VideoAgentRequestedBy, value: this.input.requestedBy });
    if (this.input.tenant) attributes.push({ key: VideoAgentTenant, value: this.input.tenant });
    wf.upsertSearchAttributes(attributes);
    wf.upsertMemo({ promptSummary: this.state.promptSummary });
    wf.setCurrentDetails(this.details());
    countPhaseEntry(this.state.phase);
  }

  /**
   * Waits for one of the account's HeyGen job slots (phase `queued` while others hold them all). With
   * no governor configured there is nothing to wait for.
   */
  private async acquireSlot(): Promise<void> {
    if (this.state.heygen.slot === 'held') return;
    // A first slot is asked for as of the session's start (FIFO by start, whenever the request arrives);
    // across continue-as-new the place in the queue and its deadline stay as they were.
    const info = wf.workflowInfo();
    const since = this.state.queue ? Date.parse(this.state.queue.since) : this.state.heygen.slot === 'none' ? info.startTime.getTime() : Date.now();
    const ticket = await this.governor.requestHeyGenSlot({ sessionId: info.workflowId, tenant: this.state.tenant, requestedAt: iso(since) });
    if (!ticket.governed) return;
    this.governorId = ticket.governorId;
    this.holdSlotWhileParked = ticket.holdSlotWhileParked;
    if (!this.slotGranted) {
      if (this.state.heygen.slot !== 'waiting') this.state.heygen.slotSince = iso(since);
      this.state.heygen.slot = 'waiting';
      this.state.queue ??= { account: ticket.account, position: null, queued: null, since: iso(since), updatedAt: null };
      if (this.state.phase === 'creating') this.setPhase('queued');
      else this.refreshDetails();
      const deadline = since + this.timing.maxQueued;
      for (;;) {
        // Position updates add history while a session waits: a long wait continues as new.
        await wf.condition(() => this.slotGranted || wf.workflowInfo().continueAsNewSuggested, Math.max(deadline - Date.now(), 1), {
          summary: 'wait for a HeyGen job slot',
        });
        if (this.slotGranted) break;
        if (Date.now() >= deadline) {
          throw new Expiry(`No HeyGen job slot became free within ${formatDuration(this.timing.maxQueued)}`, SESSION_FAILURE.queueTimedOut);
        }
        await this.continueAsNewIfSuggested();
      }
    }
    this.state.heygen.slot = 'held';
    this.state.heygen.slotSince = iso(Date.now());
    this.state.queue = null;
    this.refreshDetails();
  }

  /** Gives the slot (or the place in the queue) back to the governor. */
  private async releaseSlot(reason: string): Promise<void> {
    const { slot } = this.state.heygen;
    if (!this.governorId || (slot !== 'held' && slot !== 'waiting')) return;
    this.slotGranted = false;
    this.state.heygen.slot = 'released';
    this.state.heygen.slotSince = iso(Date.now());
    this.state.queue = null;
    try {
      await wf.getExternalWorkflowHandle(this.governorId).signal(releaseSlotSignal, { sessionId: wf.workflowInfo().workflowId, reason });
    } catch (error) {
      // No governor runs (an operator ended it): it holds no slot of ours either.
      wf.log.warn('the governor could not be told of a released slot', { error: String(error) });
    }
  }

  private async create(): Promise<void> {
    this.setPhase('creating');
    const info = wf.workflowInfo();
    // Not cancellable: a create cut short could leave a paid session we never learn about, so it
    // finishes and a cancellation then stops the session it made. A 429 (the account's cap reached by
    // jobs we do not govern) is retried after Retry-After until the queue deadline.
    const created = await wf.CancellationScope.nonCancellable(() =>
      this.callHeyGen(
        'createHeyGenSession',
        [
          {
            prompt: this.input.prompt,
            avatarId: this.input.avatarId,
            voiceId: this.input.voiceId,
            orientation: this.input.orientation,
            files: this.input.files,
            autoProceed: this.input.autoApprove,
            callbackId: info.workflowId,
            idempotencyKey: this.idempotencyKey('create'),
          },
        ],
        { kind: 'write', deadline: Date.parse(this.state.createdAt) + this.timing.maxQueued, what: 'creating the session', onDeadline: 'expire' },
      ),
    );
    this.state.heygenSessionId = created.sessionId;
    this.state.heygenStatus = created.status;
    this.callsBack = created.callsBack ?? false;
    wf.upsertSearchAttributes([{ key: HeyGenSessionId, value: created.sessionId }]);
    this.setPhase(created.status === 'generating' ? 'generating' : 'thinking');
  }

  /** Follows HeyGen while it works, until a checkpoint, completion or failure. */
  private async followWhileWorking(): Promise<void> {
    // Sessions started before the follow activity existed keep reading through workflow timers.
    if (!wf.patched(FOLLOW_IN_ACTIVITY)) return this.followWithTimers();
    let stretch: Stretch = { status: this.state.heygenStatus ?? '' };
    let readFirst = false;
    for (;;) {
      const followed = await this.followOnce(readFirst, stretch);
      if (!followed) {
        readFirst = true; // a webhook said something happened: read at once
        continue;
      }
      readFirst = false;
      const { snapshot, interval, pace, last } = followed;
      stretch = snapshot.status === stretch.status ? { status: snapshot.status, interval, pace: pace ?? undefined, last } : { status: snapshot.status };
      // HeyGen went back to work after our message: whatever pause comes next is its answer.
      if (followed.statusesSeen.some((status) => status === 'thinking' || status === 'generating')) this.awaitingReplyAfterSeq = null;
      if (await this.settleOnSnapshot(snapshot, this.absorb(snapshot))) return;
      if (this.phaseDeadlinePassed()) return this.failPhaseTimedOut();
      await this.continueAsNewIfSuggested();
    }
  }

  /**
   * One follow activity, until it returns or a webhook pokes (then null, the activity cancelled). Its
   * reads cost no history: one activity stands for all the reads of a stretch.
   */
  private async followOnce(readFirst: boolean, stretch: Stretch): Promise<FollowResult | null> {
    const generating = this.state.phase === 'generating';
    const calledBack = generating && this.callsBack;
    const until = Math.min(this.phaseDeadline(), Date.now() + FOLLOW_STRETCH_MAX_MS);
    const quietStatuses = [this.state.phase];
    // Right after our message HeyGen may still show the old checkpoint: quiet too, until it replies.
    if (this.awaitingReplyAfterSeq !== null) quietStatuses.push(...CHECKPOINT_PHASES);
    const atCursor = this.state.messages.filter((m) => m.role === 'model' && m.createdAt !== null && Date.parse(m.createdAt) === this.cursor * 1000).length;
    const input: FollowInput = {
      sessionId: this.sessionId(),
      messagesSince: this.cursor,
      modelMessagesAtCursor: atCursor,
      quietStatuses,
      lastStatus: this.state.heygenStatus ?? this.state.phase,
      progressStep: FOLLOW_PROGRESS_STEP,
      reportedProgress: this.state.progress ?? 0,
      until,
      // A webhook that came in since the last follow (with its result, or while we acted on it) is
      // consumed here: this follow reads at once instead of waiting out its schedule.
      readFirst: readFirst || this.poked,
      schedule: {
        // HeyGen calls back when a render ends: reads while rendering are then only a safety net.
        initial: calledBack ? this.timing.pollWhileCalledBack : this.timing.pollInitial,
        backoff: this.timing.pollBackoff,
        max: calledBack ? Math.max(this.timing.pollMax, this.timing.pollWhileCalledBack) : this.timing.pollMax,
        paceToward: calledBack ? null : generating ? 100 : STORYBOARD_PROGRESS,
      },
      interval: stretch.interval,
      pace: stretch.pace,
      last: stretch.last,
    };
    this.poked = false;
    return wf.CancellationScope.cancellable(async () => {
      const follow = this.callHeyGen('followHeyGenSession', [input], {
        kind: 'read',
        deadline: this.phaseDeadline(),
        what: generating ? 'following the render' : 'following the agent',
        startToCloseTimeout: until - Date.now() + FOLLOW_READ_ALLOWANCE_MS,
      });
      const poked = wf.condition(() => this.poked).then(() => null);
      try {
        return await Promise.race([follow, poked]);
      } finally {
        follow.catch(() => undefined);
        poked.catch(() => undefined);
        wf.CancellationScope.current().cancel();
      }
    });
  }

  /** Before the follow activity: one read activity per poll, a durable timer between. */
  private async followWithTimers(): Promise<void> {
    let interval = this.timing.pollInitial;
    let lastStatus = this.state.heygenStatus;
    for (;;) {
      const snapshot = await this.callHeyGen('getHeyGenSession', [{ sessionId: this.sessionId(), messagesSince: this.cursor }], {
        kind: 'read',
        deadline: this.phaseDeadline(),
        what: this.state.phase === 'generating' ? 'following the render' : 'following the agent',
      });
      const replied = this.absorb(snapshot);
      if (snapshot.status !== lastStatus) interval = this.timing.pollInitial;
      lastStatus = snapshot.status;
      if (await this.settleOnSnapshot(snapshot, replied)) return;

      const remaining = this.phaseDeadline() - Date.now();
      if (remaining <= 0) return this.failPhaseTimedOut();
      await this.continueAsNewIfSuggested();
      this.poked = false;
      const wait = this.state.phase === 'generating' && this.callsBack ? Math.max(interval, this.timing.pollWhileCalledBack) : interval;
      await wf.condition(() => this.poked, Math.min(wait, remaining), { summary: 'wait for the next HeyGen status read' });
      interval = Math.min(interval * this.timing.pollBackoff, this.timing.pollMax);
    }
  }

  /** Acts on a read of HeyGen's status; true when following is over (a checkpoint, the end, a failure). */
  private async settleOnSnapshot(snapshot: SessionSnapshot, replied: boolean): Promise<boolean> {
    const status = snapshot.status;
    if (status === 'failed') {
      await this.failFromHeyGen(snapshot);
      return true;
    }
    if (status === 'completed') {
      this.setPhase('finalizing');
      return true;
    }
    if (status === 'reviewing' || status === 'waiting_for_input') {
      this.unknownStatusCount = 0;
      // Right after our message HeyGen may still show the old checkpoint: wait for its reply.
      if (this.awaitingReplyAfterSeq === null || replied) {
        this.awaitingReplyAfterSeq = null;
        // The packet first: a session is `reviewing` for its readers only once there is something to review.
        await this.buildReviewPacket(status === 'reviewing' ? 'storyboard' : 'question');
        this.setPhase(status);
        if (!this.holdSlotWhileParked) await this.releaseSlot('parked at a checkpoint');
        return true;
      }
    } else if (status === 'thinking' || status === 'generating') {
      this.unknownStatusCount = 0;
      this.awaitingReplyAfterSeq = null;
      if (this.state.phase !== status) this.setPhase(status);
    } else if (++this.unknownStatusCount >= this.timing.unknownStatusLimit) {
      this.fail(`HeyGen reported the unknown status "${status}" ${this.unknownStatusCount} times in a row`, SESSION_FAILURE.unknownStatus);
    } else {
      wf.log.warn('HeyGen reported an unknown status; carrying on', { status, times: this.unknownStatusCount });
    }
    return false;
  }

  private phaseDeadlinePassed(): boolean {
    return Date.now() >= this.phaseDeadline();
  }

  private failPhaseTimedOut(): never {
    const what = this.state.phase === 'generating' ? 'rendering the video' : 'thinking';
    return this.fail(`HeyGen was still ${what} after ${formatDuration(this.phaseLimit())}; the session was stopped`, SESSION_FAILURE.timedOut);
  }

  private phaseLimit(): number {
    return this.state.phase === 'generating' ? this.timing.maxGenerating : this.timing.maxThinking;
  }

  private phaseDeadline(): number {
    return Date.parse(this.state.phaseSince) + this.phaseLimit();
  }

  /** Presents a checkpoint and waits for a decision (a person's, an automatic one, or the deadline's). */
  private async checkpoint(): Promise<void> {
    const review = this.state.review!;
    /** What ended the wait for a reviewer (null: the session decided by itself, nobody was waited for). */
    let waitEnded: ReviewWaitDecision | null = null;
    let decision = this.decisions.shift();
    if (decision) waitEnded = reviewerDecision(decision);
    decision ??= this.automaticDecision();
    if (!decision) {
      const remaining = Date.parse(review.deadline) - Date.now();
      await wf.condition(() => this.decisions.length > 0 || wf.workflowInfo().continueAsNewSuggested, Math.max(remaining, 1), {
        summary: 'wait for a reviewer',
      });
      decision = this.decisions.shift();
      if (decision) waitEnded = reviewerDecision(decision);
      if (!decision) {
        if (Date.parse(review.deadline) > Date.now()) return this.continueAsNewIfSuggested();
        if (this.input.review.onTimeout === 'stop') {
          this.recordAction('review_timeout', null, 'system', 'applied', `no decision by ${review.deadline}; session stopped`);
          recordReviewWait(review.kind, 'timeout', Date.now() - Date.parse(review.since));
          throw new Expiry(`No review decision before the deadline (${review.deadline})`, SESSION_FAILURE.reviewDeadlinePassed);
        }
        decision = this.systemDecision('review_timeout', `no decision by ${review.deadline}; approved by policy`);
        waitEnded = 'timeout';
      }
    }
    await this.apply(decision);
    // The wait is over once the decision reached HeyGen; one HeyGen refused leaves the checkpoint standing.
    if (waitEnded && this.state.review === null) {
      const endedAt = waitEnded === 'timeout' ? Date.now() : Date.parse(decision.action.at);
      recordReviewWait(review.kind, waitEnded, endedAt - Date.parse(review.since));
    }
  }

  private automaticDecision(): Decision | undefined {
    if (this.input.autoApprove) {
      if (this.autoApprovals >= AUTO_APPROVE_LIMIT) return undefined;
      this.autoApprovals++;
      return this.systemDecision('approve', 'autoApprove');
    }
    if (this.state.phase === 'reviewing' && this.lastSentWasApproval && this.reapprovals < this.timing.maxReapprovals) {
      // We approved, and HeyGen came back with a storyboard: it read the approval as feedback.
      this.reapprovals++;
      return this.systemDecision('reapprove', 'HeyGen answered the approval with a new storyboard; approving again');
    }
    return undefined;
  }

  private systemDecision(kind: Action['kind'], reason: string): Decision {
    const action = this.recordAction(kind, null, 'system', 'pending', reason);
    return { kind, message: DEFAULT_APPROVAL_MESSAGE, autoProceed: true, requestId: null, by: 'system', action };
  }

  /**
   * The packet of a checkpoint: the agent's messages since the last one and its storyboard images. Each
   * image is read on its own; one that does not arrive in a few quick tries is shown as `loading` and
   * keeps being read in the background, one HeyGen will not give is `unavailable`. Neither holds up the
   * review nor fails the session.
   */
  private async buildReviewPacket(kind: 'storyboard' | 'question'): Promise<void> {
    const fresh = this.state.messages.filter((m) => m.seq > this.checkpointSeq && m.role === 'model');
    const resourceIds = [...new Set(fresh.flatMap((m) => m.resourceIds))];
    if (kind === 'storyboard') this.state.revisions++;
    const now = Date.now();
    this.checkpointSeq = this.nextSeq - 1;
    const packet: ReviewPacket = {
      kind,
      revision: this.state.revisions,
      messages: fresh,
      resources: resourceIds.map((resourceId) => pendingResource(resourceId, 'loading', null)),
      since: iso(now),
      deadline: iso(now + this.input.review.timeout),
    };
    this.state.review = packet;
    if (resourceIds.length > 0 && wf.patched(RESOURCES_IN_ONE_ACTIVITY)) {
      const reads = await this.quickReads.getHeyGenResources({ sessionId: this.sessionId(), resourceIds });
      for (const read of reads) this.fillFromRead(packet, read);
      this.touch();
      return;
    }
    const reads = await Promise.allSettled(
      resourceIds.map((resourceId) => this.quickReads.getHeyGenResource({ sessionId: this.sessionId(), resourceId })),
    );
    reads.forEach((read, index) => {
      if (read.status === 'fulfilled') return this.fillResource(packet, read.value);
      const resourceId = resourceIds[index]!;
      if (isTransient(read.reason)) {
        this.fillResource(packet, pendingResource(resourceId, 'loading', `HeyGen did not answer yet (${describeFailure(read.reason)}); retrying`));
        this.loadImageLater(packet, resourceId);
      } else {
        this.fillResource(packet, pendingResource(resourceId, 'unavailable', describeFailure(read.reason)));
      }
    });
    this.touch();
  }

  private fillFromRead(packet: ReviewPacket, read: ResourceRead): void {
    if ('resource' in read) return this.fillResource(packet, read.resource);
    if (read.transient) {
      this.fillResource(packet, pendingResource(read.resourceId, 'loading', `HeyGen did not answer yet (${read.error}); retrying`));
      this.loadImageLater(packet, read.resourceId);
    } else {
      this.fillResource(packet, pendingResource(read.resourceId, 'unavailable', read.error));
    }
  }

  /** Keeps reading one image until it arrives, the review deadline passes or the checkpoint is over. Never throws. */
  private loadImageLater(packet: ReviewPacket, resourceId: string): void {
    this.imageLoads ??= new wf.CancellationScope();
    void this.imageLoads.run(async () => {
      try {
        const patient = this.patientActivities('read', Date.parse(packet.deadline) - Date.now());
        this.fillResource(packet, await patient.getHeyGenResource({ sessionId: this.sessionId(), resourceId }));
      } catch (error) {
        if (!wf.isCancellation(error)) this.fillResource(packet, pendingResource(resourceId, 'unavailable', describeFailure(error)));
      }
    });
  }

  private stopImageLoads(): void {
    this.imageLoads?.cancel();
    this.imageLoads = undefined;
  }

  /** After continue-as-new: images the previous run was still loading. */
  private resumeImageLoads(): void {
    const packet = this.state.review;
    if (!packet || !CHECKPOINT_PHASES.includes(this.state.phase)) return;
    for (const resource of packet.resources) if (resource.status === 'loading') this.loadImageLater(packet, resource.resourceId);
  }

  private fillResource(packet: ReviewPacket, resource: ResourceInfo): void {
    const index = packet.resources.findIndex((r) => r.resourceId === resource.resourceId);
    if (index >= 0) packet.resources[index] = resource;
    this.touch();
  }

  /** Sends a decision to HeyGen (once: its key is derived from the request id). */
  private async apply(decision: Decision): Promise<void> {
    const key = decision.requestId ?? `action-${this.actionCount}-${decision.kind}`;
    this.applying = decision;
    try {
      if (this.state.heygen.slot === 'released') await this.acquireSlot(); // given back while parked (HEYGEN_HOLD_SLOT_IN_REVIEW=false)
      await this.callHeyGen(
        'sendHeyGenMessage',
        [
          {
            sessionId: this.sessionId(),
            message: decision.message,
            autoProceed: decision.autoProceed,
            avatarId: decision.avatarId,
            voiceId: decision.voiceId,
            files: decision.files,
            idempotencyKey: this.idempotencyKey(`message:${key}`),
          },
        ],
        { kind: 'write', deadline: Date.now() + this.timing.maxThinking, what: `sending the ${decision.kind}` },
      );
    } catch (error) {
      this.applying = undefined;
      if (isRejection(error)) {
        // HeyGen refused this message (e.g. it is busy): the checkpoint stands; the next decision may follow.
        this.settle(decision.action, 'failed', (error as wf.ActivityFailure).cause!.message);
        return;
      }
      this.settle(decision.action, 'failed', describeFailure(error));
      throw error;
    }
    this.applying = undefined;
    this.stopImageLoads();
    this.settle(decision.action, 'applied');
    this.settleWaitingDecisions(`superseded: the ${decision.kind} by ${decision.by ?? 'system'} was applied first and the session left the checkpoint`);
    this.lastSentWasApproval = decision.autoProceed;
    this.awaitingReplyAfterSeq = this.nextSeq - 1;
    this.keepEarlierStoryboard();
    this.state.review = null;
    this.setPhase(decision.autoProceed ? 'generating' : 'thinking');
  }

  /** The storyboard being left stays in view beside the ones that follow. */
  private keepEarlierStoryboard(): void {
    const packet = this.state.review;
    if (packet?.kind !== 'storyboard') return;
    const { revision, resources, since } = packet;
    this.state.earlierStoryboards.push({ revision, resources, since });
    if (this.state.earlierStoryboards.length > MAX_EARLIER_STORYBOARDS) this.state.earlierStoryboards.shift();
  }

  /** Reads the finished video (polling until HeyGen has it ready) and the session's video list. */
  private async finalize(): Promise<void> {
    const sessionId = this.sessionId();
    const deadline = Date.parse(this.state.phaseSince) + this.timing.maxVideoWait;
    const read = { kind: 'read', deadline, what: 'reading the finished video' } as const;
    this.state.videoIds = await this.callHeyGen('listHeyGenSessionVideos', [sessionId], read);
    const videoId = this.lastVideoId ?? this.state.videoIds[0];
    if (!videoId) return this.fail('HeyGen reported the session completed, but it has no video', SESSION_FAILURE.heygenFailed);
    for (;;) {
      const video = await this.callHeyGen('getHeyGenVideo', [videoId], read);
      if (video.status === 'completed') {
        const { failureCode: _code, failureMessage: _message, ...info } = video;
        this.state.video = info;
        this.state.completedAt = iso(Date.now());
        return;
      }
      if (video.status === 'failed') return this.fail(failureReason(video, this.state.messages), SESSION_FAILURE.heygenFailed);
      if (Date.now() >= deadline) {
        return this.fail(`The video was still ${video.status} ${formatDuration(this.timing.maxVideoWait)} after the session completed`, SESSION_FAILURE.timedOut);
      }
      this.poked = false;
      await wf.condition(() => this.poked, Math.min(this.timing.videoPollInterval, deadline - Date.now()), { summary: 'wait for the video' });
    }
  }

  /** Folds a snapshot into the state; true when HeyGen said something after our last message. */
  private absorb(snapshot: SessionSnapshot): boolean {
    this.state.heygenStatus = snapshot.status;
    this.state.progress = snapshot.progress;
    this.state.title = snapshot.title ?? this.state.title;
    if (snapshot.videoId) this.lastVideoId = snapshot.videoId;
    const known = new Set(this.state.messages.map(messageKey));
    let replied = false;
    for (const message of snapshot.messages) {
      const chat = this.toChatMessage(message);
      if (known.has(messageKey(chat))) continue;
      known.add(messageKey(chat));
      chat.seq = this.nextSeq++;
      this.state.messages.push(chat);
      if (message.createdAt !== null) this.cursor = Math.max(this.cursor, message.createdAt);
      if (chat.role === 'model' && this.awaitingReplyAfterSeq !== null && chat.seq > this.awaitingReplyAfterSeq) replied = true;
    }
    if (this.state.messages.length > MAX_MESSAGES) this.state.messages.splice(0, this.state.messages.length - MAX_MESSAGES);
    this.touch();
    return replied;
  }

  private toChatMessage(message: SnapshotMessage): ChatMessage {
    return {
      seq: 0,
      role: message.role,
      type: message.type,
      content: message.content,
      createdAt: message.createdAt === null ? null : iso(message.createdAt * 1000),
      resourceIds: message.resourceIds,
    };
  }

  private async failFromHeyGen(snapshot: SessionSnapshot): Promise<void> {
    let video: VideoDetails | null = null;
    if (snapshot.videoId) {
      try {
        video = await this.quickReads.getHeyGenVideo(snapshot.videoId);
      } catch (error) {
        // The reason then comes from the messages: the session has failed either way.
        wf.log.warn('the failed video could not be read', { error: describeFailure(error) });
      }
    }
    return this.fail(failureReason(video, this.state.messages), SESSION_FAILURE.heygenFailed);
  }

  // -------------------------------------------------------------------------------------------------
  // Calling HeyGen through bad days

  /**
   * Calls a HeyGen activity: a few quick attempts, then, while HeyGen cannot be reached (or refuses
   * with 429), patient retries with backoff capped at a minute until `deadline`, the state saying so
   * meanwhile. Refusals (4xx) fail at once. When the deadline passes the session fails as
   * `HeyGenUnreachable`, or expires where `onDeadline` says so (the queue deadline of a create).
   */
  private async callHeyGen<K extends keyof HeyGenActivities>(
    name: K,
    args: Parameters<HeyGenActivities[K]>,
    options: { kind: HeyGenCallKind; deadline: number; what: string; onDeadline?: 'fail' | 'expire'; startToCloseTimeout?: number },
  ): Promise<Awaited<ReturnType<HeyGenActivities[K]>>> {
    type Call = (...a: Parameters<HeyGenActivities[K]>) => Promise<Awaited<ReturnType<HeyGenActivities[K]>>>;
    const { kind, startToCloseTimeout } = options;
    const quickActivities =
      startToCloseTimeout === undefined
        ? kind === 'write'
          ? this.quickWrites
          : this.quickReads
        : wf.proxyActivities<HeyGenActivities>({ ...this.activityOptions(kind), startToCloseTimeout, retry: { ...this.retryPolicy(), maximumAttempts: QUICK_ATTEMPTS } });
    const quick = quickActivities[name] as unknown as Call;
    let patientArgs = args;
    const firstAttemptAt = Date.now();
    try {
      const result = await quick(...args);
      this.markReachable();
      return result;
    } catch (error) {
      if (!isTransient(error)) throw error;
      this.markUnreachable(error);
      if (name === 'sendHeyGenMessage') {
        // An attempt may have landed: the patient sender checks HeyGen's messages before sending again.
        patientArgs = [{ ...(args[0] as object), firstAttemptAt }] as typeof args;
      }
    }
    const remaining = options.deadline - Date.now();
    try {
      if (remaining <= 0) throw new Error('deadline already passed');
      const patient = this.patientActivities(kind, remaining, startToCloseTimeout)[name] as unknown as Call;
      const result = await patient(...patientArgs);
      this.markReachable();
      return result;
    } catch (error) {
      if (wf.isCancellation(error) || isRejection(error)) throw error;
      const reason = `HeyGen could not be reached while ${options.what} (since ${clock(Date.parse(this.state.heygen.unreachableSince ?? iso(Date.now())))}, last error: ${this.state.heygen.lastError ?? describeFailure(error)})`;
      if (options.onDeadline === 'expire') throw new Expiry(reason, SESSION_FAILURE.queueTimedOut);
      return this.fail(reason, SESSION_FAILURE.heygenUnreachable);
    }
  }

  private patientActivities(kind: HeyGenCallKind, withinMs: number, startToCloseTimeout?: number): HeyGenActivities {
    return wf.proxyActivities<HeyGenActivities>({
      ...this.activityOptions(kind),
      ...(startToCloseTimeout === undefined ? {} : { startToCloseTimeout }),
      scheduleToCloseTimeout: Math.max(withinMs, 1_000),
      retry: { ...this.retryPolicy(), initialInterval: '2s', maximumInterval: PATIENT_MAX_INTERVAL },
    });
  }

  /** A call keeps failing: HeyGen cannot be reached, or (429) refuses for now; either way we retry. */
  private markUnreachable(error: unknown): void {
    if (httpStatusOf(error) !== 429) this.state.heygen.unreachableSince ??= iso(Date.now());
    this.state.heygen.lastError = describeFailure(error);
    wf.log.warn('HeyGen calls keep failing; retrying', { error: this.state.heygen.lastError });
    this.refreshDetails();
  }

  private markReachable(): void {
    if (this.state.heygen.unreachableSince === null && this.state.heygen.lastError === null) return;
    this.state.heygen.unreachableSince = null;
    this.state.heygen.lastError = null;
    this.refreshDetails();
  }

  // -------------------------------------------------------------------------------------------------
  // Archival: our own copy of the finished video's files (HeyGen's URLs expire)

  /**
   * Archives each file not archived yet, in order; true when done (or archival is off). A failure that
   * outlasts its retries turns the phase `archive_failed`, keeping what was archived and the video.
   */
  private async archiveVideo(): Promise<boolean> {
    // HeyGen's work is done: its job slot goes back before a long download.
    await this.releaseSlot('completed');
    const video = this.state.video!;
    const archive = (this.state.archive ??= { status: 'archiving', entries: [], notOffered: [], error: null, attempts: 0, updatedAt: iso(Date.now()) });
    Object.assign(archive, { status: 'archiving', error: null, attempts: archive.attempts + 1, updatedAt: iso(Date.now()) });
    this.touch();
    for (const file of ARCHIVE_FILES) {
      if (archive.entries.some((entry) => entry.file === file) || archive.notOffered.includes(file)) continue;
      let result;
      try {
        result = await this.archiver.archiveVideoFile({ sessionKey: wf.workflowInfo().workflowId, videoId: video.videoId, file });
      } catch (error) {
        if (wf.isCancellation(error)) throw error;
        Object.assign(archive, { status: 'failed', error: `${file}: ${describeFailure(error)}`, updatedAt: iso(Date.now()) });
        this.state.error = { reason: `The video could not be archived (${archive.error})`, type: archiveFailureType(error) };
        this.setPhase('archive_failed');
        return false;
      }
      if ('absent' in result && result.absent === 'off') {
        Object.assign(archive, { status: 'off', updatedAt: iso(Date.now()) });
        this.touch();
        return true;
      }
      if ('archived' in result) archive.entries.push(result.archived);
      else archive.notOffered.push(file);
      archive.updatedAt = iso(Date.now());
      this.touch();
    }
    Object.assign(archive, { status: 'archived', updatedAt: iso(Date.now()) });
    this.state.error = null;
    this.touch();
    return true;
  }

  /** In `archive_failed`: true when `retryArchive` came (the phase is `archiving` again), false when the window passed. */
  private async waitForArchiveRetry(): Promise<boolean> {
    const remaining = Date.parse(this.state.phaseSince) + ARCHIVE_RETRY_WINDOW_MS - Date.now();
    if (remaining > 0) await wf.condition(() => this.archiveRetryBy !== null, remaining, { summary: 'wait for retryArchive' });
    if (this.archiveRetryBy === null) return false;
    wf.log.info('archive retried on request', { by: this.archiveRetryBy });
    this.archiveRetryBy = null;
    this.setPhase('archiving');
    return true;
  }

  /** Nobody retried in time: the session ends `archive_failed`, the video info and any archived files kept. */
  private async endArchiveFailed(): Promise<SessionResult> {
    await this.releaseSlot('archive_failed');
    this.settleWaitingDecisions('the session has ended');
    await this.deliveriesSettled();
    return this.state;
  }

  // -------------------------------------------------------------------------------------------------
  // Endings: each one leaves a true state, HeyGen stopped if it may still run, the slot given back.

  private fail(reason: string, type: string): never {
    throw wf.ApplicationFailure.nonRetryable(reason, type, { heygenSessionId: this.state.heygenSessionId });
  }

  private async endCompleted(): Promise<SessionResult> {
    this.stopImageLoads();
    // The slot first, so the phase turns `completed` in the workflow task that completes the workflow.
    await this.releaseSlot('completed');
    this.setPhase('completed');
    this.settleWaitingDecisions('the session has completed');
    await this.deliveriesSettled();
    return this.state;
  }

  private async endExpired(expiry: Expiry): Promise<SessionResult> {
    await this.endUnsuccessfully('expired', { reason: expiry.reason, type: expiry.type }, `the session expired: ${expiry.reason}`);
    return this.state;
  }

  private async endStopped(): Promise<void> {
    this.recordAction('stop', null, null, 'applied', 'workflow cancelled');
    await this.endUnsuccessfully('stopped', { reason: 'Stopped on request (the workflow was cancelled)', type: SESSION_FAILURE.stopped }, 'the session was stopped');
  }

  /** Ends the session as failed, whatever the error, and returns the failure the workflow fails with. */
  private async endFailed(error: unknown): Promise<wf.ApplicationFailure> {
    const { type, reason } = classifyFailure(error);
    await this.endUnsuccessfully('failed', { reason, type }, `the session failed: ${reason}`);
    return wf.ApplicationFailure.nonRetryable(reason, type, { heygenSessionId: this.state.heygenSessionId });
  }

  /** The true state first, then HeyGen told to stop and the slot given back. */
  private async endUnsuccessfully(phase: 'failed' | 'stopped' | 'expired', error: { reason: string; type: string }, settleReason: string): Promise<void> {
    this.stopImageLoads();
    this.state.error = error;
    this.setPhase(phase);
    this.settleWaitingDecisions(settleReason);
    await this.stopHeyGen();
    await this.releaseSlot(phase);
    await this.deliveriesSettled();
  }

  /**
   * Stops the HeyGen session once, if one exists and may still be running; retried while HeyGen cannot
   * be reached (for a day). A stop that never gets through is recorded, and the ending goes on.
   */
  private async stopHeyGen(): Promise<void> {
    const status = this.state.heygenStatus;
    if (!this.state.heygenSessionId || status === 'completed' || status === 'failed' || this.state.heygen.stopRequestedAt) return;
    this.state.heygen.stopRequestedAt = iso(Date.now());
    try {
      await this.callHeyGen('stopHeyGenSession', [this.state.heygenSessionId], {
        kind: 'write',
        deadline: Date.now() + STOP_RETRY_WINDOW_MS,
        what: 'stopping the session',
      });
    } catch (error) {
      this.recordStopFailure(error);
    }
  }

  private recordStopFailure(error: unknown): void {
    this.state.heygen.lastError = `stop failed: ${describeFailure(error)}`;
    wf.log.error('HeyGen could not be told to stop', { error: this.state.heygen.lastError });
    this.touch();
  }

  // -------------------------------------------------------------------------------------------------
  // Helpers

  private async continueAsNewIfSuggested(): Promise<void> {
    if (!wf.workflowInfo().continueAsNewSuggested) return;
    await wf.condition(wf.allHandlersFinished);
    if (this.decisions.length) return; // a decision arrived meanwhile: apply it in this run
    const carried: CarriedState = {
      state: this.state,
      seenRequestIds: [...this.seenRequestIds],
      cursor: this.cursor,
      nextSeq: this.nextSeq,
      checkpointSeq: this.checkpointSeq,
      awaitingReplyAfterSeq: this.awaitingReplyAfterSeq,
      lastSentWasApproval: this.lastSentWasApproval,
      reapprovals: this.reapprovals,
      autoApprovals: this.autoApprovals,
      actionCount: this.actionCount,
      lastVideoId: this.lastVideoId,
      governorId: this.governorId,
      holdSlotWhileParked: this.holdSlotWhileParked,
      slotGranted: this.slotGranted,
      callsBack: this.callsBack,
      notificationSeq: this.notificationSeq,
      pendingNotifications: [...this.deliveries].map(([id, { body }]) => ({ id, body })),
    };
    wf.log.info('continuing as new', { historyLength: wf.workflowInfo().historyLength, runs: this.state.runs });
    await wf.continueAsNew<typeof videoAgentSession>(this.rawInput, carried);
  }

  private sessionId(): string {
    return this.state.heygenSessionId!;
  }

  /** Unique to this execution (not just the workflow id, which a later execution may reuse). */
  private idempotencyKey(suffix: string): string {
    const info = wf.workflowInfo();
    return `vao:${info.workflowId}:${info.firstExecutionRunId}:${suffix}`;
  }

  private setPhase(phase: Phase): void {
    const changed = phase !== this.state.phase;
    this.state.phase = phase;
    if (changed) {
      this.state.phaseSince = iso(Date.now());
      const history = this.state.phaseHistory;
      history.push({ seq: (history.at(-1)?.seq ?? 0) + 1, phase, at: this.state.phaseSince });
      if (history.length > MAX_PHASE_HISTORY) history.splice(0, history.length - MAX_PHASE_HISTORY);
    }
    this.touch();
    if (changed) {
      wf.upsertSearchAttributes([{ key: VideoAgentStatus, value: phase }]);
      countPhaseEntry(phase);
    }
    wf.setCurrentDetails(this.details());
    const event = EVENT_OF_PHASE[phase];
    if (changed && event) this.notify(event);
  }

  // -------------------------------------------------------------------------------------------------
  // Notifications: delivered in the background, never in the session's way

  private notify(event: NotifyEvent): void {
    const { notify, autoApprove } = this.input;
    if (!notify || (notify.events && !notify.events.includes(event))) return;
    // Nobody is asked to decide anything in a session that approves itself.
    if (autoApprove && (event === 'session.awaiting_review' || event === 'session.awaiting_answer')) return;
    const delivery: NotificationDelivery = {
      id: `evt-${wf.workflowInfo().firstExecutionRunId}-${++this.notificationSeq}`,
      event,
      createdAt: iso(Date.now()),
      outcome: 'pending',
      attempts: 0,
      lastStatus: null,
      lastError: null,
      deliveredAt: null,
    };
    this.state.notifications.push(delivery);
    if (this.state.notifications.length > MAX_NOTIFICATIONS) this.state.notifications.splice(0, this.state.notifications.length - MAX_NOTIFICATIONS);
    this.deliver(delivery, JSON.stringify(this.notificationBody(delivery)));
  }

  private notificationBody(delivery: NotificationDelivery) {
    const { id, phase, phaseSince, heygenSessionId, promptSummary, requestedBy, tenant, labels, revisions, progress, queue, review, video, error, completedAt } = this.state;
    return {
      type: delivery.event,
      timestamp: delivery.createdAt,
      data: {
        session: { id, phase, phaseSince, heygenSessionId, promptSummary, requestedBy, tenant, labels, revisions, progress, queue, review, video, error, completedAt },
        links: sessionLinks(id),
      },
    };
  }

  /** Attempts until delivered, refused, or past the retry window; each attempt lands in the log. */
  private deliver(delivery: NotificationDelivery, body: string): void {
    const giveUpAt = Date.parse(delivery.createdAt) + this.timing.notifyRetryWindow;
    const done = wf.CancellationScope.nonCancellable(async () => {
      let backoff = this.timing.notifyRetryInitial;
      for (;;) {
        delivery.attempts++;
        try {
          const { status } = await this.notifier.deliverNotification({ url: this.input.notify!.url, id: delivery.id, body, signedBy: this.input.requestedBy ?? '' });
          Object.assign(delivery, { outcome: 'delivered', lastStatus: status, lastError: null, deliveredAt: iso(Date.now()) });
          return;
        } catch (error) {
          Object.assign(delivery, { lastStatus: httpStatusOf(error) ?? null, lastError: describeFailure(error).slice(0, 300) });
          if (applicationCause(error)?.nonRetryable || Date.now() + backoff > giveUpAt) {
            delivery.outcome = 'failed';
            wf.log.warn('notification given up', { id: delivery.id, event: delivery.event, attempts: delivery.attempts, error: delivery.lastError });
            return;
          }
        } finally {
          this.touch();
        }
        await wf.sleep(backoff);
        backoff = Math.min(backoff * 2, NOTIFY_MAX_BACKOFF_MS);
      }
    }).finally(() => this.deliveries.delete(delivery.id));
    this.deliveries.set(delivery.id, { body, done });
  }

  /** At the end: the session's phase is final already; its last notifications get their retry window. */
  private async deliveriesSettled(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.all([...this.deliveries.values()].map((d) => d.done));
  }

  private refreshDetails(): void {
    this.touch();
    wf.setCurrentDetails(this.details());
  }

  private touch(): void {
    this.state.updatedAt = iso(Date.now());
  }

  /** The status line of the Temporal Web UI. */
  private details(): string {
    const line = this.phaseLine();
    const { unreachableSince, lastError } = this.state.heygen;
    if (FINAL_PHASES.includes(this.state.phase)) return line;
    if (unreachableSince !== null) return `**HeyGen unreachable since ${clock(Date.parse(unreachableSince))}, retrying** · ${line}`;
    if (lastError !== null) return `**HeyGen refuses for now (${lastError.slice(0, 120)}), retrying** · ${line}`;
    return line;
  }

  private phaseLine(): string {
    const since = clock(Date.parse(this.state.phaseSince));
    const { review, queue } = this.state;
    // A date, not "in 7d": the line is written once per phase and read any time after.
    const deadline = review ? `, decide by ${review.deadline.slice(0, 10)} ${clock(Date.parse(review.deadline))}` : '';
    const waitingForSlot = this.state.heygen.slot === 'waiting' && queue ? ` (waiting for a HeyGen slot${queue.position ? `: position ${queue.position} of ${queue.queued}` : ''})` : '';
    switch (this.state.phase) {
      case 'queued':
        return queue?.position ? `Queued: position ${queue.position} of ${queue.queued} since ${since}` : `Queued for a HeyGen slot since ${since}`;
      case 'creating':
        return 'Creating the HeyGen session';
      case 'thinking':
        return `HeyGen is thinking${this.state.revisions ? ` (after storyboard ${this.state.revisions})` : ''} since ${since}`;
      case 'reviewing':
        return `**Awaiting review of storyboard ${review?.revision ?? this.state.revisions}** since ${since}${deadline}${waitingForSlot}`;
      case 'waiting_for_input':
        return `**HeyGen asks a question** since ${since}${deadline}${waitingForSlot}`;
      case 'generating':
        return `Rendering the video since ${since}`;
      case 'finalizing':
        return 'Fetching the finished video';
      case 'archiving':
        return `Archiving the video (${this.state.archive?.entries.length ?? 0} files so far, attempt ${this.state.archive?.attempts ?? 1})`;
      case 'archive_failed':
        return `**The video could not be archived**: ${this.state.archive?.error ?? 'unknown reason'}. Send the \`retryArchive\` signal to try again.`;
      case 'completed':
        return `Completed: video ${this.state.video?.videoId ?? ''}${this.state.video?.durationSeconds ? ` (${Math.round(this.state.video.durationSeconds)} s)` : ''}`;
      case 'failed':
        return `Failed (${this.state.error?.type ?? 'unknown'}): ${this.state.error?.reason ?? 'unknown reason'}`;
      case 'stopped':
        return `Stopped on request at ${since}`;
      case 'expired':
        return `Expired: ${this.state.error?.reason ?? 'a deadline passed'}`;
    }
  }
}

/** A person's decision as the review wait's metric names it. */
function reviewerDecision(decision: Decision): ReviewWaitDecision {
  return decision.kind === 'approve' ? 'approve' : 'message';
}

function pendingResource(resourceId: string, status: 'loading' | 'unavailable', note: string | null): ResourceInfo {
  return { resourceId, status, type: null, url: null, thumbnailUrl: null, previewUrl: null, note };
}

/** The failure type an archival failure is recorded with: the activity's own, or ArchiveDownloadFailed. */
function archiveFailureType(error: unknown): string {
  const type = applicationCause(error)?.type;
  return type && (Object.values(ARCHIVE_FAILURE) as string[]).includes(type) ? type : ARCHIVE_FAILURE.downloadFailed;
}

/** The HeyGen failure behind an activity failure, if that is what it is. */
function applicationCause(error: unknown): wf.ApplicationFailure | undefined {
  return error instanceof wf.ActivityFailure && error.cause instanceof wf.ApplicationFailure ? error.cause : undefined;
}

/** HeyGen refused the request (4xx other than 429): repeating it cannot help. */
function isRejection(error: unknown): boolean {
  const type = applicationCause(error)?.type;
  return type === HEYGEN_FAILURE.rejected || type === HEYGEN_FAILURE.accessDenied;
}

/** HeyGen could not be reached, answered 5xx or 429, or the call timed out: worth retrying later. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof wf.ActivityFailure)) return false;
  return applicationCause(error)?.type === HEYGEN_FAILURE.unavailable || error.cause instanceof wf.TimeoutFailure;
}

/** The HTTP status a failed call was answered with (HeyGen's, or a notification receiver's), if any. */
function httpStatusOf(error: unknown): number | undefined {
  const details = applicationCause(error)?.details?.[0] as { status?: unknown } | undefined;
  return typeof details?.status === 'number' ? details.status : undefined;
}

function describeFailure(error: unknown): string {
  const cause = error instanceof wf.ActivityFailure && error.cause ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

/** The typed error a failure ends the session with (never a bare "Activity task failed"). */
function classifyFailure(error: unknown): { type: string; reason: string } {
  if (error instanceof wf.ApplicationFailure && error.type && (Object.values(SESSION_FAILURE) as string[]).includes(error.type)) {
    return { type: error.type, reason: error.message };
  }
  const cause = applicationCause(error);
  if (cause?.type === HEYGEN_FAILURE.accessDenied) return { type: SESSION_FAILURE.heygenRejected, reason: `HeyGen refused our API key or account: ${cause.message}` };
  if (cause?.type === HEYGEN_FAILURE.rejected) return { type: SESSION_FAILURE.heygenRejected, reason: `HeyGen refused a request: ${cause.message}` };
  if (isTransient(error)) return { type: SESSION_FAILURE.heygenUnreachable, reason: `HeyGen could not be reached: ${describeFailure(error)}` };
  if (error instanceof wf.ActivityFailure) {
    return { type: SESSION_FAILURE.internal, reason: `Internal error: ${error.activityType ?? 'an activity'} failed: ${describeFailure(error)}` };
  }
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { type: SESSION_FAILURE.internal, reason: `Internal error: ${what}` };
}

/** The session workflow. `carried` is internal: the state one run hands to the next. */
export async function videoAgentSession(input: SessionInput, carried?: CarriedState): Promise<SessionResult> {
  const parsed = checkSessionInput(input);
  if (!parsed.ok) throw wf.ApplicationFailure.nonRetryable(`invalid session input: ${describeProblems(parsed.problems)}`, SESSION_FAILURE.invalidInput);
  const run = new SessionRun(input, parsed.value, resolveTiming(parsed.value.timing), carried);
  run.registerHandlers();
  return run.run();
}
