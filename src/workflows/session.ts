/**
 * `videoAgentSession`: one HeyGen Video Agent session, start to finish, durably.
 *
 * creating → (thinking | generating: poll HeyGen through activities, with durable timers that a
 * `heygenEvent` signal cuts short) → (reviewing | waiting_for_input: build a review packet, then wait,
 * without polling, for `approve` / `sendMessage` or the review deadline) → ... → finalizing (read the
 * video) → completed. Failures end it with the reason HeyGen gave; cancellation stops the HeyGen session
 * exactly once and ends as Cancelled.
 *
 * Signals are idempotent by `requestId` and only act at a checkpoint; anything else is recorded in the
 * action log with the reason. Every HeyGen write carries an Idempotency-Key derived from this execution.
 */
import * as wf from '@temporalio/workflow';
import { z } from 'zod';
import type { HeyGenActivities, SessionSnapshot, SnapshotMessage, VideoDetails } from '../activities';
import { formatDuration } from '../duration';
import { HEYGEN_FAILURE, SESSION_FAILURE } from './failure-types';
import { HeyGenSessionId, VideoAgentRequestedBy, VideoAgentStatus, VideoAgentTenant } from './search-attributes';
import {
  ApproveSignalSchema,
  CHECKPOINT_PHASES,
  HeygenEventSignalSchema,
  resolveTiming,
  SendMessageSignalSchema,
  SessionInputSchema,
  summarizePrompt,
  type Action,
  type ApproveSignal,
  type ChatMessage,
  type HeygenEventSignal,
  type ParsedSessionInput,
  type Phase,
  type SendMessageSignal,
  type SessionFile,
  type SessionInput,
  type SessionResult,
  type SessionState,
  type Timing,
} from './session-types';

export const WORKFLOW_TYPE = 'videoAgentSession';

// Messages: defined beside the workflow that owns them, importable by clients.
export const approveSignal = wf.defineSignal<[ApproveSignal]>('approve');
export const sendMessageSignal = wf.defineSignal<[SendMessageSignal]>('sendMessage');
export const heygenEventSignal = wf.defineSignal<[HeygenEventSignal?]>('heygenEvent');
export const stateQuery = wf.defineQuery<SessionState>('state');

/** What an approval says to HeyGen when the reviewer gives no text of their own. */
export const DEFAULT_APPROVAL_MESSAGE = 'Approved. Please go ahead and generate the video.';

const MAX_MESSAGES = 100;
const MAX_ACTIONS = 200;
/** autoApprove decides at most this many checkpoints; a confused agent then needs a person. */
const AUTO_APPROVE_LIMIT = 5;

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
  private pending: Decision | undefined;
  private poked = false;
  private unknownStatusCount = 0;
  private readonly reads: HeyGenActivities;
  private readonly writes: HeyGenActivities;

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
      requestedBy: input.requestedBy ?? null,
      tenant: input.tenant ?? null,
      labels: input.labels ?? {},
      revisions: 0,
      messages: [],
      review: null,
      video: null,
      videoIds: [],
      error: null,
      actions: [],
      createdAt: iso(now),
      updatedAt: iso(now),
      completedAt: null,
      runs: 0,
    };
    this.state.runs++;
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

    const retry = {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      nonRetryableErrorTypes: [HEYGEN_FAILURE.accessDenied, HEYGEN_FAILURE.rejected],
    };
    const heartbeatTimeout = timing.activityHeartbeatTimeout;
    this.reads = wf.proxyActivities<HeyGenActivities>({
      startToCloseTimeout: '1 minute',
      heartbeatTimeout,
      retry: { ...retry, maximumAttempts: 10 },
    });
    // Writes wait up to 120 s for HeyGen (creates run to a p99 of ~31 s).
    this.writes = wf.proxyActivities<HeyGenActivities>({
      startToCloseTimeout: '150 seconds',
      heartbeatTimeout,
      retry: { ...retry, maximumAttempts: 8 },
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Handlers

  registerHandlers(): void {
    wf.setHandler(stateQuery, () => this.state);
    wf.setHandler(approveSignal, (raw) => this.onDecision('approve', raw));
    wf.setHandler(sendMessageSignal, (raw) => this.onDecision('message', raw));
    wf.setHandler(heygenEventSignal, (raw) => {
      const parsed = HeygenEventSignalSchema.safeParse(raw);
      wf.log.info('HeyGen event hint', { eventType: parsed.success ? parsed.data?.eventType : undefined });
      this.poked = true;
    });
  }

  private onDecision(kind: 'approve' | 'message', raw: unknown): void {
    const parsed = kind === 'approve' ? ApproveSignalSchema.safeParse(raw ?? {}) : SendMessageSignalSchema.safeParse(raw);
    const requestId = parsed.success ? (parsed.data.requestId ?? null) : null;
    const by = parsed.success ? (parsed.data.by ?? null) : null;
    if (requestId !== null && this.seenRequestIds.has(requestId)) return; // a repeat: nothing to do
    if (requestId !== null) this.seenRequestIds.add(requestId);
    const action = this.recordAction(kind, requestId, by, 'pending', null);
    if (!parsed.success) {
      return this.settle(action, 'ignored', `invalid ${kind} signal: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ')}`);
    }
    if (!CHECKPOINT_PHASES.includes(this.state.phase)) {
      return this.settle(action, 'ignored', `not awaiting input (phase ${this.state.phase})`);
    }
    if (this.pending) return this.settle(action, 'ignored', 'a decision for this checkpoint is already being applied');
    const decision: Decision = { kind, message: DEFAULT_APPROVAL_MESSAGE, autoProceed: kind === 'approve', requestId, by, action };
    if (kind === 'approve') {
      decision.message = (parsed.data as ApproveSignal).message ?? DEFAULT_APPROVAL_MESSAGE;
    } else {
      const { message, avatarId, voiceId, files } = parsed.data as SendMessageSignal;
      Object.assign(decision, { message, avatarId, voiceId, files });
    }
    this.pending = decision;
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

  // -------------------------------------------------------------------------------------------------
  // The run

  async run(): Promise<SessionResult> {
    if (this.state.runs === 1) this.announce();
    try {
      for (;;) {
        switch (this.state.phase) {
          case 'queued':
          case 'creating':
            await this.create();
            break;
          case 'thinking':
          case 'generating':
            await this.followWhileWorking();
            break;
          case 'reviewing':
          case 'waiting_for_input':
            if (await this.checkpoint()) return this.finish();
            break;
          case 'finalizing':
            await this.finalize();
            return this.finish();
          default:
            throw wf.ApplicationFailure.nonRetryable(`session in unexpected phase ${this.state.phase}`, SESSION_FAILURE.heygenFailed);
        }
      }
    } catch (error) {
      if (wf.isCancellation(error)) {
        await wf.CancellationScope.nonCancellable(() => this.stopOnCancel());
        throw error;
      }
      throw this.asSessionFailure(error);
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
  }

  private async create(): Promise<void> {
    this.setPhase('creating');
    const info = wf.workflowInfo();
    // Not cancellable: a create cut short could leave a paid session we never learn about, so it
    // finishes and a cancellation then stops the session it made.
    const created = await wf.CancellationScope.nonCancellable(() =>
      this.writes.createHeyGenSession({
        prompt: this.input.prompt,
        avatarId: this.input.avatarId,
        voiceId: this.input.voiceId,
        orientation: this.input.orientation,
        files: this.input.files,
        autoProceed: this.input.autoApprove,
        callbackId: info.workflowId,
        idempotencyKey: this.idempotencyKey('create'),
      }),
    );
    this.state.heygenSessionId = created.sessionId;
    this.state.heygenStatus = created.status;
    wf.upsertSearchAttributes([{ key: HeyGenSessionId, value: created.sessionId }]);
    this.setPhase(created.status === 'generating' ? 'generating' : 'thinking');
  }

  /** Polls while HeyGen works, until a checkpoint, completion or failure. */
  private async followWhileWorking(): Promise<void> {
    let interval = this.timing.pollInitial;
    let lastStatus = this.state.heygenStatus;
    for (;;) {
      const snapshot = await this.reads.getHeyGenSession({ sessionId: this.sessionId(), messagesSince: this.cursor });
      const replied = this.absorb(snapshot);
      if (snapshot.status !== lastStatus) interval = this.timing.pollInitial;
      lastStatus = snapshot.status;

      const status = snapshot.status;
      if (status === 'failed') return this.failFromHeyGen(snapshot);
      if (status === 'completed') return this.setPhase('finalizing');
      if (status === 'reviewing' || status === 'waiting_for_input') {
        this.unknownStatusCount = 0;
        // Right after our message HeyGen may still show the old checkpoint: wait for its reply.
        if (this.awaitingReplyAfterSeq === null || replied) {
          this.awaitingReplyAfterSeq = null;
          // The packet first: a session is `reviewing` for its readers only once there is something to review.
          await this.buildReviewPacket(status === 'reviewing' ? 'storyboard' : 'question');
          return this.setPhase(status);
        }
      } else if (status === 'thinking' || status === 'generating') {
        this.unknownStatusCount = 0;
        this.awaitingReplyAfterSeq = null;
        if (this.state.phase !== status) this.setPhase(status);
      } else if (++this.unknownStatusCount >= this.timing.unknownStatusLimit) {
        await this.stopHeyGen();
        return this.fail(`HeyGen reported the unknown status "${status}" ${this.unknownStatusCount} times in a row`, SESSION_FAILURE.unknownStatus);
      } else {
        wf.log.warn('HeyGen reported an unknown status; carrying on', { status, times: this.unknownStatusCount });
      }

      const limit = this.state.phase === 'generating' ? this.timing.maxGenerating : this.timing.maxThinking;
      const remaining = Date.parse(this.state.phaseSince) + limit - Date.now();
      if (remaining <= 0) {
        await this.stopHeyGen();
        const what = this.state.phase === 'generating' ? 'rendering the video' : 'thinking';
        return this.fail(`HeyGen was still ${what} after ${formatDuration(limit)}; the session was stopped`, SESSION_FAILURE.timedOut);
      }
      await this.continueAsNewIfSuggested();
      this.poked = false;
      await wf.condition(() => this.poked, Math.min(interval, remaining), { summary: 'wait for the next HeyGen status read' });
      interval = Math.min(interval * this.timing.pollBackoff, this.timing.pollMax);
    }
  }

  /**
   * Presents a checkpoint and waits for a decision; returns true when the session ends here (the
   * review deadline passed under the `stop` policy).
   */
  private async checkpoint(): Promise<boolean> {
    const review = this.state.review!;
    let decision = this.pending ?? this.automaticDecision();
    if (!decision) {
      const remaining = Date.parse(review.deadline) - Date.now();
      await wf.condition(() => this.pending !== undefined || wf.workflowInfo().continueAsNewSuggested, Math.max(remaining, 1), {
        summary: 'wait for a reviewer',
      });
      decision = this.pending;
      if (!decision) {
        if (Date.parse(review.deadline) > Date.now()) {
          await this.continueAsNewIfSuggested();
          return false;
        }
        if (this.input.review.onTimeout === 'stop') {
          this.recordAction('review_timeout', null, 'system', 'applied', `no decision by ${review.deadline}; session stopped`);
          await this.stopHeyGen();
          this.state.error = { reason: `No review decision before the deadline (${review.deadline})`, type: 'ReviewDeadlinePassed' };
          this.setPhase('expired');
          return true;
        }
        decision = this.systemDecision('review_timeout', `no decision by ${review.deadline}; approved by policy`);
      }
    }
    await this.apply(decision);
    return false;
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

  private async buildReviewPacket(kind: 'storyboard' | 'question'): Promise<void> {
    const fresh = this.state.messages.filter((m) => m.seq > this.checkpointSeq && m.role === 'model');
    const resourceIds = [...new Set(fresh.flatMap((m) => m.resourceIds))];
    const resources = resourceIds.length ? await this.reads.getHeyGenResources({ sessionId: this.sessionId(), resourceIds }) : [];
    if (kind === 'storyboard') this.state.revisions++;
    const now = Date.now();
    this.checkpointSeq = this.nextSeq - 1;
    this.state.review = {
      kind,
      revision: this.state.revisions,
      messages: fresh,
      resources,
      since: iso(now),
      deadline: iso(now + this.input.review.timeout),
    };
    this.touch();
  }

  /** Sends a decision to HeyGen (once: its key is derived from the request id). */
  private async apply(decision: Decision): Promise<void> {
    const key = decision.requestId ?? `action-${this.actionCount}-${decision.kind}`;
    try {
      await this.writes.sendHeyGenMessage({
        sessionId: this.sessionId(),
        message: decision.message,
        autoProceed: decision.autoProceed,
        avatarId: decision.avatarId,
        voiceId: decision.voiceId,
        files: decision.files,
        idempotencyKey: this.idempotencyKey(`message:${key}`),
      });
    } catch (error) {
      this.pending = undefined;
      if (error instanceof wf.ActivityFailure && error.cause instanceof wf.ApplicationFailure && error.cause.type === HEYGEN_FAILURE.rejected) {
        // HeyGen refused this message (e.g. it is busy): the checkpoint stands; another decision may follow.
        this.settle(decision.action, 'failed', error.cause.message);
        return;
      }
      this.settle(decision.action, 'failed', error instanceof Error ? error.message : String(error));
      throw error;
    }
    this.pending = undefined;
    this.settle(decision.action, 'applied');
    this.lastSentWasApproval = decision.autoProceed;
    this.awaitingReplyAfterSeq = this.nextSeq - 1;
    this.state.review = null;
    this.setPhase(decision.autoProceed ? 'generating' : 'thinking');
  }

  /** Reads the finished video (polling until HeyGen has it ready) and the session's video list. */
  private async finalize(): Promise<void> {
    const sessionId = this.sessionId();
    this.state.videoIds = await this.reads.listHeyGenSessionVideos(sessionId);
    const videoId = this.lastVideoId ?? this.state.videoIds[0];
    if (!videoId) return this.fail('HeyGen reported the session completed, but it has no video', SESSION_FAILURE.heygenFailed);
    const deadline = Date.now() + this.timing.maxVideoWait;
    for (;;) {
      const video = await this.reads.getHeyGenVideo(videoId);
      if (video.status === 'completed') {
        const { failureCode: _code, failureMessage: _message, ...info } = video;
        this.state.video = info;
        this.state.completedAt = iso(Date.now());
        this.setPhase('completed');
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
    const video = snapshot.videoId ? await this.reads.getHeyGenVideo(snapshot.videoId) : null;
    return this.fail(failureReason(video, this.state.messages), SESSION_FAILURE.heygenFailed);
  }

  // -------------------------------------------------------------------------------------------------
  // Endings

  private fail(reason: string, type: string): never {
    this.state.error = { reason, type };
    this.setPhase('failed');
    throw wf.ApplicationFailure.nonRetryable(reason, type, { heygenSessionId: this.state.heygenSessionId });
  }

  /** Turns a refused HeyGen call (bad key, no credit, rejected request) into a clear session failure. */
  private asSessionFailure(error: unknown): unknown {
    if (error instanceof wf.ActivityFailure && error.cause instanceof wf.ApplicationFailure) {
      const cause = error.cause;
      if (cause.type === HEYGEN_FAILURE.accessDenied || cause.type === HEYGEN_FAILURE.rejected) {
        const what = cause.type === HEYGEN_FAILURE.accessDenied ? 'HeyGen refused our API key or account' : 'HeyGen refused a request';
        const reason = `${what}: ${cause.message}`;
        this.state.error = { reason, type: SESSION_FAILURE.heygenRejected };
        this.setPhase('failed');
        return wf.ApplicationFailure.nonRetryable(reason, SESSION_FAILURE.heygenRejected, { heygenSessionId: this.state.heygenSessionId });
      }
    }
    return error;
  }

  private async stopOnCancel(): Promise<void> {
    this.recordAction('stop', null, null, 'applied', 'workflow cancelled');
    await this.stopHeyGen();
    this.setPhase('stopped');
  }

  /** Stops the HeyGen session if one exists and may still be running. */
  private async stopHeyGen(): Promise<void> {
    const status = this.state.heygenStatus;
    if (!this.state.heygenSessionId || status === 'completed' || status === 'failed') return;
    await this.writes.stopHeyGenSession(this.state.heygenSessionId);
  }

  private finish(): SessionResult {
    return this.state;
  }

  // -------------------------------------------------------------------------------------------------
  // Helpers

  private async continueAsNewIfSuggested(): Promise<void> {
    if (!wf.workflowInfo().continueAsNewSuggested) return;
    await wf.condition(wf.allHandlersFinished);
    if (this.pending) return; // a decision arrived meanwhile: apply it in this run
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
    if (changed) this.state.phaseSince = iso(Date.now());
    this.touch();
    if (changed) wf.upsertSearchAttributes([{ key: VideoAgentStatus, value: phase }]);
    wf.setCurrentDetails(this.details());
  }

  private touch(): void {
    this.state.updatedAt = iso(Date.now());
  }

  /** The status line of the Temporal Web UI. */
  private details(): string {
    const since = clock(Date.parse(this.state.phaseSince));
    const { review } = this.state;
    const deadline = review ? `, deadline in ${formatDuration(Date.parse(review.deadline) - Date.now())}` : '';
    switch (this.state.phase) {
      case 'queued':
        return `Queued since ${since}`;
      case 'creating':
        return 'Creating the HeyGen session';
      case 'thinking':
        return `HeyGen is thinking${this.state.revisions ? ` (after storyboard ${this.state.revisions})` : ''} since ${since}`;
      case 'reviewing':
        return `**Awaiting review of storyboard ${review?.revision ?? this.state.revisions}** since ${since}${deadline}`;
      case 'waiting_for_input':
        return `**HeyGen asks a question** since ${since}${deadline}`;
      case 'generating':
        return `Rendering the video since ${since}`;
      case 'finalizing':
        return 'Fetching the finished video';
      case 'completed':
        return `Completed: video ${this.state.video?.videoId ?? ''}${this.state.video?.durationSeconds ? ` (${Math.round(this.state.video.durationSeconds)} s)` : ''}`;
      case 'failed':
        return `Failed: ${this.state.error?.reason ?? 'unknown reason'}`;
      case 'stopped':
        return `Stopped on request at ${since}`;
      case 'expired':
        return `Expired: no review decision before the deadline`;
    }
  }
}

/** The session workflow. `carried` is internal: the state one run hands to the next. */
export async function videoAgentSession(input: SessionInput, carried?: CarriedState): Promise<SessionResult> {
  const parsed = SessionInputSchema.safeParse(input);
  if (!parsed.success) {
    throw wf.ApplicationFailure.nonRetryable(`invalid session input: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ')}`, SESSION_FAILURE.invalidInput);
  }
  const run = new SessionRun(input, parsed.data, resolveTiming(parsed.data.timing), carried);
  run.registerHandlers();
  return run.run();
}
