/**
 * One run of a session workflow: its state (what readers see), the bookkeeping that goes with it, and
 * the activities it calls. Every module of the session works on this; what is carried across
 * continue-as-new is listed in {@link CarriedState}, and everything else lives for one run only.
 */
import * as wf from '@temporalio/workflow';
import type { NotificationDelivery } from '../../contract/session-state';
import { summarizePrompt, type Action, type ParsedSessionInput, type SessionFile, type SessionInput, type SessionState, type Timing } from '../../contract/session';
import { createSessionActivities, type SessionActivities } from './activity-options';

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

/** A decision waiting at a checkpoint: a person's, or one the session takes itself. */
export interface Decision {
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

/** How the last follow step left HeyGen's working stretch: it returned a change of status, and goes on. */
export interface FollowResume {
  shape: 'activity' | 'timers';
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function clock(ms: number): string {
  return `${iso(ms).slice(11, 16)} UTC`;
}

function newState(input: ParsedSessionInput): SessionState {
  const now = Date.now();
  return {
    id: wf.workflowInfo().workflowId,
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
    revokedLinks: [],
    phaseHistory: [{ seq: 1, phase: 'creating', at: iso(now) }],
    createdAt: iso(now),
    updatedAt: iso(now),
    completedAt: null,
    runs: 0,
  };
}

export class SessionRun {
  readonly state: SessionState;
  readonly activities: SessionActivities;

  // Carried across continue-as-new (see CarriedState).
  readonly seenRequestIds: Set<string>;
  /** Unix seconds: HeyGen's messages from here on are read. */
  cursor: number;
  nextSeq: number;
  /** The last message seq a checkpoint's packet covered. */
  checkpointSeq: number;
  /** Set when we sent a message: HeyGen's next pause counts only once it replied after this seq. */
  awaitingReplyAfterSeq: number | null;
  lastSentWasApproval: boolean;
  reapprovals: number;
  autoApprovals: number;
  actionCount: number;
  lastVideoId: string | null;
  governorId: string | null;
  holdSlotWhileParked: boolean;
  slotGranted: boolean;
  /** Whether HeyGen calls our webhook when the render ends (it was given one at create). */
  callsBack: boolean;
  notificationSeq: number;
  /** Notifications the previous run was still delivering. */
  readonly carriedNotifications: { id: string; body: string }[];

  // This run only.
  /** Human decisions in arrival order, applied one at a time. */
  readonly decisions: Decision[] = [];
  applying: Decision | undefined;
  /** Background reads of storyboard images still loading; cancelled when the checkpoint is over. */
  imageLoads: wf.CancellationScope | undefined;
  /** A HeyGen webhook came in: whatever waits for HeyGen reads at once. */
  poked = false;
  unknownStatusCount = 0;
  /** Whether this run asked the governor for a slot already (a `queued` step then only waits). */
  slotRequested = false;
  /** A queue position the governor sent before the slot request returned (see slot.ts). */
  earlyPosition: { position: number; queued: number } | undefined;
  /** The queue began with such a position: `session.queued` is due once the phase is `queued`. */
  queuedNoticeDue = false;
  /** Follow activities a webhook cut short, until each has stopped (see follow.ts). */
  readonly cancellingFollows = new Set<Promise<void>>();
  /** Set by a follow step that returned HeyGen's change between thinking and generating. */
  follow: FollowResume | undefined;
  /** Who sent `retryArchive` while the session waited in `archive_failed` (null: nobody yet). */
  archiveRetryBy: string | null = null;
  /** Notifications being delivered, by id: the body (carried across continue-as-new) and the retry loop. */
  readonly deliveries = new Map<string, { body: string; done: Promise<void> }>();
  /** Since `notify-in-order`: notifications not yet settled, oldest first, delivered one at a time by the courier. */
  readonly outbox: { delivery: NotificationDelivery; body: string; sequence: number }[] = [];
  /** The loop that delivers the outbox, while it runs. */
  courier: Promise<void> | undefined;
  /** When the session ended (its notifications settle from then on), or null. */
  notifyEndedAt: number | null = null;

  constructor(
    readonly rawInput: SessionInput,
    readonly input: ParsedSessionInput,
    readonly timing: Timing,
    carried: CarriedState | undefined,
  ) {
    this.state = carried?.state ?? newState(input);
    this.state.runs++;
    this.state.notifications ??= [];
    this.state.revokedLinks ??= [];
    this.state.phaseHistory ??= [];
    this.state.prompt ||= input.prompt;
    this.state.earlierStoryboards ??= [];
    this.state.archive ??= null;
    this.notificationSeq = carried?.notificationSeq ?? 0;
    this.carriedNotifications = carried?.pendingNotifications ?? [];
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
    this.activities = createSessionActivities(timing);
  }

  /** What the next run starts from. */
  carry(): CarriedState {
    return {
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
  }

  /** The HeyGen session's id, once created. */
  sessionId(): string {
    return this.state.heygenSessionId!;
  }

  /** Unique to this execution (not just the workflow id, which a later execution may reuse). */
  idempotencyKey(suffix: string): string {
    const info = wf.workflowInfo();
    return `vao:${info.workflowId}:${info.firstExecutionRunId}:${suffix}`;
  }

  touch(): void {
    this.state.updatedAt = iso(Date.now());
  }
}
