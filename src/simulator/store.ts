/**
 * The simulated Video Agent: sessions, their state machine in simulated time, resources and videos.
 *
 * State advances lazily (every read first applies the transitions whose time has come) and by a timer
 * per session (so webhooks fire without anyone polling). Phase durations are simulated milliseconds,
 * divided by the time scale in force when the phase starts.
 *
 *   thinking ─┬─> waiting_for_input (ask=n) ── any message ──> thinking
 *             ├─> reviewing (storyboard) ──┬─ message ──────────────> thinking (revision)
 *             │                            └─ approval (auto_proceed) ─> generating
 *             └─> generating (review=skip, auto_proceed on create, generate mode)
 *   generating ──> completed (video ready after video_delay) | failed
 *   stop: the current run halts at its next checkpoint (at once when paused at one), then waits for
 *   input (chat mode) or ends `failed` (generate mode, which takes no messages and so could never continue).
 */
import { randomBytes } from 'node:crypto';
import {
  TERMINAL_SESSION_STATUSES,
  type CreateSessionRequest,
  type KnownSessionStatus,
  type SendMessageRequest,
} from '../contract/heygen';
import type { SimulatorKnobs } from './config';
import { readsAsApproval, type Scenario } from './scenario';

/** How many messages `GET /v3/video-agents/{id}` returns (newest-first). */
export const MESSAGE_WINDOW = 40;
/** Where a chat session pauses for the user: a stop there halts it at once. */
const CHECKPOINT_STATUSES: readonly string[] = ['reviewing', 'waiting_for_input'];
/** A stop takes effect at the next checkpoint, at most this long (simulated) after it is requested. */
export const STOP_CHECKPOINT_MS = 2_000;

export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export interface SimMessage {
  role: 'user' | 'model';
  type: 'text' | 'resource' | 'error';
  content: string;
  createdAtMs: number;
  resourceIds: string[] | null;
}

export interface SimResource {
  id: string;
  kind: 'storyboard' | 'video';
  createdAtMs: number;
  /** The video a `video` resource points at. */
  videoId?: string;
  metadata: Record<string, unknown>;
}

export interface SimVideo {
  id: string;
  sessionId: string;
  title: string;
  createdAtMs: number;
  durationSeconds: number;
  /** Size of its video files in bytes (absent in state saved before sizes existed: the sample's). */
  bytes?: number;
  /** Until this time the video is `pending`, then `processing`. */
  pendingUntilMs: number;
  /** The outcome and when it becomes visible; unset while rendering. */
  final?: { status: 'completed' | 'failed'; atMs: number; failureCode: string | null; failureMessage: string | null };
  /** A `video_agent.fail` webhook is due when the outcome becomes visible. */
  failureNoticePending?: boolean;
}

type Phase = { kind: 'thinking' | 'generating'; startMs: number; endMs: number; nominalEndMs: number } | { kind: 'idle' };

export interface ReceivedMessage {
  message: string;
  auto_proceed: boolean | null;
  at: string;
}

export interface SimSession {
  id: string;
  /** Creation order (timestamps can tie). */
  seq: number;
  apiKey: string;
  mode: 'chat' | 'generate';
  createdAtMs: number;
  prompt: string;
  title: string | null;
  scenario: Scenario;
  callbackUrl: string | null;
  callbackId: string | null;
  idempotencyKey: string | null;
  status: KnownSessionStatus;
  phase: Phase;
  progress: number;
  asksRemaining: number;
  revision: number;
  storyboards: number;
  proceedAfterThinking: boolean;
  stopRequested: boolean;
  halted: boolean;
  files: number;
  messages: SimMessage[];
  resources: Map<string, SimResource>;
  videos: SimVideo[];
  currentVideoId: string | null;
  calls: { get: number; message: number; stop: number; resource: number; videos: number; video: number };
  received: ReceivedMessage[];
  timers: Set<NodeJS.Timeout>;
}

type SavedPhase = { kind: 'thinking' | 'generating'; startMs: number; endMs: number | null; nominalEndMs: number } | { kind: 'idle' };

export interface StoreSnapshot {
  nextSeq: number;
  sessions: (Omit<SimSession, 'timers' | 'resources' | 'phase'> & { phase: SavedPhase; resources: SimResource[] })[];
  /** Highest active-job count per API key; absent in files saved before it was tracked. */
  maxActiveJobs?: Record<string, number>;
}

/** A key's jobs counted by the concurrency cap: now, and the most ever at once. */
export interface ActiveJobs {
  active: number;
  max: number;
}

export type SessionEvent =
  | { type: 'video_agent.success'; session: SimSession; video: SimVideo }
  | { type: 'video_agent.fail'; session: SimSession; video: SimVideo | undefined; failureMessage: string | null };

function videoNotFound(videoId: string): SimError {
  return new SimError(404, 'video_not_found', `Video ${videoId} not found.`, 'video_id');
}

function hexId(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

function titleFrom(prompt: string): string {
  const words = prompt.split(/\s+/).filter(Boolean).slice(0, 7).join(' ');
  const title = words.length > 60 ? `${words.slice(0, 57)}...` : words;
  return title ? title[0]!.toUpperCase() + title.slice(1) : 'Untitled video';
}

const QUESTIONS = [
  'Before I draft the storyboard: which voice should narrate, warm, energetic or neutral?',
  'Should the video open with the avatar on screen, or with a title card?',
  'Who is the audience: new customers, existing customers, or colleagues?',
];

export class SessionStore {
  private readonly sessions = new Map<string, SimSession>();
  private readonly videoIndex = new Map<string, SimVideo>();
  /** Per API key, the most sessions ever counted toward the concurrency cap at once. */
  private readonly maxActive = new Map<string, number>();
  private nextSeq = 0;

  constructor(
    private readonly knobs: () => SimulatorKnobs,
    private readonly onEvent: (event: SessionEvent) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  // -------------------------------------------------------------------------------------------------
  // Operations (one per endpoint)

  create(apiKey: string, request: CreateSessionRequest, prompt: string, scenario: Scenario, idempotencyKey: string | null): SimSession {
    const limit = this.knobs().concurrencyLimit;
    if (limit > 0 && this.openSessionCount(apiKey) >= limit) {
      throw new SimError(
        429,
        'rate_limit_exceeded',
        `Concurrent job limit reached: ${limit} sessions are in progress for this API key.`,
        undefined,
        this.knobs().retryAfterSeconds,
      );
    }
    const now = this.now();
    const mode = request.mode ?? 'generate';
    // With proceed=text the flag is ignored, as later API revisions ignore it.
    const autoProceed = request.auto_proceed === true && scenario.proceed === 'flag';
    const session: SimSession = {
      id: `sess_${hexId()}`,
      seq: this.nextSeq++,
      apiKey,
      mode,
      createdAtMs: now,
      prompt,
      title: null,
      scenario,
      callbackUrl: request.callback_url ?? null,
      callbackId: request.callback_id ?? null,
      idempotencyKey,
      status: 'thinking',
      phase: { kind: 'idle' },
      progress: 0,
      asksRemaining: mode === 'chat' && !autoProceed ? scenario.asks : 0,
      revision: 0,
      storyboards: 0,
      proceedAfterThinking: mode === 'generate' || autoProceed,
      stopRequested: false,
      halted: false,
      files: request.files?.length ?? 0,
      messages: [],
      resources: new Map(),
      videos: [],
      currentVideoId: null,
      calls: { get: 0, message: 0, stop: 0, resource: 0, videos: 0, video: 0 },
      received: [],
      timers: new Set(),
    };
    // The prompt as parsed: `[[sim ...]]` directives are the simulator's, not part of the conversation.
    this.addMessage(session, 'user', 'text', prompt, now);
    this.startPhase(session, 'thinking', now, scenario.thinkMs);
    this.sessions.set(session.id, session);
    this.recordActive(apiKey);
    return session;
  }

  get(apiKey: string, sessionId: string): SimSession {
    const session = this.owned(apiKey, sessionId);
    session.calls.get++;
    return session;
  }

  sendMessage(apiKey: string, sessionId: string, request: SendMessageRequest): { session: SimSession; runId: string } {
    const session = this.owned(apiKey, sessionId);
    session.calls.message++;
    const now = this.now();
    session.received.push({ message: request.message, auto_proceed: request.auto_proceed ?? null, at: new Date(now).toISOString() });
    if (session.mode !== 'chat') {
      throw new SimError(400, 'invalid_parameter', 'Messages are only valid for sessions created in chat mode.', 'session_id');
    }
    if (session.status === 'failed') throw new SimError(409, 'conflict', 'The session has failed; start a new session.');
    if (session.status === 'thinking' || session.status === 'generating') {
      throw new SimError(409, 'conflict', `The agent is busy (${session.status}); send messages when it waits for input or review.`);
    }
    this.addMessage(session, 'user', 'text', request.message, now);
    session.halted = false;
    const approves = session.scenario.proceed === 'flag' ? request.auto_proceed === true : readsAsApproval(request.message);
    if (session.status === 'reviewing' && approves) {
      this.startGenerating(session, now);
    } else {
      // An answer, a revision request, or (after completion) a follow-up: the agent thinks again.
      if (approves) session.proceedAfterThinking = true;
      if (session.status === 'completed') session.currentVideoId = null;
      this.startPhase(session, 'thinking', now, session.scenario.reviseMs);
    }
    // A message can un-halt a stopped session or reopen a completed one: the count may have risen.
    this.recordActive(apiKey);
    return { session, runId: `run_${hexId()}` };
  }

  stop(apiKey: string, sessionId: string): SimSession {
    const session = this.owned(apiKey, sessionId);
    session.calls.stop++;
    const { phase } = session;
    if (phase.kind !== 'idle' && !session.stopRequested) {
      session.stopRequested = true;
      const checkpoint = this.now() + this.realMs(STOP_CHECKPOINT_MS);
      if (checkpoint < phase.endMs) session.phase = { ...phase, endMs: checkpoint };
      this.schedule(session);
    } else if (phase.kind === 'idle' && CHECKPOINT_STATUSES.includes(session.status) && !session.halted) {
      // Paused at a checkpoint: that is the "next checkpoint" the stop halts at, so it halts now.
      this.halt(session, this.now());
    }
    return session;
  }

  getResource(apiKey: string, sessionId: string, resourceId: string): { session: SimSession; resource: SimResource } {
    const session = this.owned(apiKey, sessionId);
    session.calls.resource++;
    const resource = session.resources.get(resourceId);
    if (!resource) throw new SimError(404, 'resource_not_found', `Resource ${resourceId} not found in this session.`, 'resource_id');
    return { session, resource };
  }

  listVideos(apiKey: string, sessionId: string): { session: SimSession; videos: SimVideo[] } {
    const session = this.owned(apiKey, sessionId);
    session.calls.videos++;
    return { session, videos: [...session.videos].reverse() };
  }

  getVideo(apiKey: string, videoId: string): { session: SimSession; video: SimVideo } {
    const found = this.ownedVideo(apiKey, videoId);
    if (!found) throw videoNotFound(videoId);
    found.session.calls.video++;
    return found;
  }

  /** Deletes a video for good: from then on it is unknown everywhere (reads, lists, media). */
  deleteVideo(apiKey: string, videoId: string): SimVideo {
    const found = this.ownedVideo(apiKey, videoId);
    if (!found) throw videoNotFound(videoId);
    const { session, video } = found;
    session.videos = session.videos.filter((v) => v !== video);
    this.videoIndex.delete(videoId);
    return video;
  }

  /** A video of this key (state advanced), or undefined: another key's video is as unknown as none. */
  ownedVideo(apiKey: string, videoId: string): { session: SimSession; video: SimVideo } | undefined {
    const video = this.videoIndex.get(videoId);
    const session = video && this.sessions.get(video.sessionId);
    if (!video || !session || session.apiKey !== apiKey) return undefined;
    this.advance(session);
    return { session, video };
  }

  /** Every video of this key, newest first (creation time, then creation order). */
  accountVideos(apiKey: string): SimVideo[] {
    const videos: { video: SimVideo; seq: number; index: number }[] = [];
    for (const session of this.sessions.values()) {
      if (session.apiKey !== apiKey) continue;
      this.advance(session);
      session.videos.forEach((video, index) => videos.push({ video, seq: session.seq, index }));
    }
    videos.sort((a, b) => b.video.createdAtMs - a.video.createdAtMs || b.seq - a.seq || b.index - a.index);
    return videos.map(({ video }) => video);
  }

  list(apiKey: string, offset: number, limit: number): { sessions: SimSession[]; hasMore: boolean } {
    const all = [...this.sessions.values()].filter((s) => s.apiKey === apiKey).sort((a, b) => b.seq - a.seq);
    return { sessions: all.slice(offset, offset + limit), hasMore: offset + limit < all.length };
  }

  /** A video by id, regardless of owner (presigned media URLs carry no API key). */
  findVideo(videoId: string): SimVideo | undefined {
    const video = this.videoIndex.get(videoId);
    const session = video && this.sessions.get(video.sessionId);
    if (session) this.advance(session);
    return video;
  }

  /** A resource by id, regardless of owner. */
  findResource(resourceId: string): SimResource | undefined {
    for (const session of this.sessions.values()) {
      const resource = session.resources.get(resourceId);
      if (resource) return resource;
    }
    return undefined;
  }

  all(): SimSession[] {
    for (const session of this.sessions.values()) this.advance(session);
    return [...this.sessions.values()];
  }

  /**
   * Everything the store knows, as JSON-safe data, so a restarted simulator carries on where it was
   * (phases are absolute times: what fell due while it was down happens at the next read).
   */
  export(): StoreSnapshot {
    return {
      nextSeq: this.nextSeq,
      maxActiveJobs: Object.fromEntries(this.maxActive),
      sessions: [...this.sessions.values()].map(({ timers: _timers, resources, phase, ...rest }) => ({
        ...rest,
        phase: phase.kind === 'idle' ? phase : { ...phase, endMs: phase.endMs === Infinity ? null : phase.endMs },
        resources: [...resources.values()],
      })),
    };
  }

  /** Replaces the store's contents with a snapshot and re-arms its timers. */
  import(snapshot: StoreSnapshot): void {
    this.clear();
    this.nextSeq = snapshot.nextSeq;
    for (const saved of snapshot.sessions) {
      const { phase, resources, ...rest } = saved;
      const session: SimSession = {
        ...rest,
        phase: phase.kind === 'idle' ? phase : { ...phase, endMs: phase.endMs ?? Infinity },
        resources: new Map(resources.map((resource) => [resource.id, resource])),
        timers: new Set(),
      };
      this.sessions.set(session.id, session);
      for (const video of session.videos) {
        this.videoIndex.set(video.id, video);
        if (video.failureNoticePending && video.final) this.armFailureNotice(session, video);
      }
      this.schedule(session);
    }
    for (const [apiKey, max] of Object.entries(snapshot.maxActiveJobs ?? {})) this.maxActive.set(apiKey, max);
    // Restored sessions are active jobs too (the only peak an older file without maxima can give).
    for (const apiKey of new Set(snapshot.sessions.map((session) => session.apiKey))) this.recordActive(apiKey);
  }

  /** Forgets every session, every pending transition and the active-job maxima. */
  clear(): void {
    for (const session of this.sessions.values()) for (const timer of session.timers) clearTimeout(timer);
    this.sessions.clear();
    this.videoIndex.clear();
    this.maxActive.clear();
  }

  // -------------------------------------------------------------------------------------------------
  // Reading state at a point in time

  /** Session progress (0-100) at `now`. */
  progressOf(session: SimSession, now = this.now()): number {
    const { phase } = session;
    if (phase.kind === 'idle') return session.progress;
    const span = phase.nominalEndMs - phase.startMs;
    const fraction = span <= 0 ? 1 : Math.min(1, (now - phase.startMs) / span);
    // Thinking climbs toward a storyboard's 45 (as HeyGen's docs show a review) and gets there only with it.
    if (phase.kind === 'thinking') return Math.min(44, Math.floor(session.storyboards === 0 ? 5 + 40 * fraction : 40 + 5 * fraction));
    // A stuck render creeps to 97% and stays there, as real ones are reported to.
    return Math.round(50 + (phase.endMs === Infinity ? 47 : 49) * fraction);
  }

  videoStatusOf(video: SimVideo, now = this.now()): 'pending' | 'processing' | 'completed' | 'failed' {
    if (video.final && now >= video.final.atMs) return video.final.status;
    return now < video.pendingUntilMs ? 'pending' : 'processing';
  }

  /** Sessions that count toward the concurrency cap: open and not halted by a stop. */
  openSessionCount(apiKey: string): number {
    let open = 0;
    for (const session of this.sessions.values()) {
      if (session.apiKey !== apiKey) continue;
      this.advance(session);
      if (!TERMINAL_SESSION_STATUSES.includes(session.status) && !session.halted) open++;
    }
    return open;
  }

  /** Active jobs now and at most, for every key that has had a session. */
  activeJobs(): Map<string, ActiveJobs> {
    const keys = new Set([...this.maxActive.keys(), ...[...this.sessions.values()].map((session) => session.apiKey)]);
    return new Map([...keys].map((apiKey) => [apiKey, { active: this.openSessionCount(apiKey), max: this.maxActive.get(apiKey) ?? 0 }]));
  }

  /**
   * Raises the key's maximum to its current count. The count only rises on a create, a message or an
   * import (time only ends or pauses runs), so calling this after each of those keeps the maximum exact.
   */
  private recordActive(apiKey: string): void {
    const active = this.openSessionCount(apiKey);
    if (active > (this.maxActive.get(apiKey) ?? 0)) this.maxActive.set(apiKey, active);
  }

  // -------------------------------------------------------------------------------------------------
  // The state machine

  private owned(apiKey: string, sessionId: string): SimSession {
    const session = this.sessions.get(sessionId);
    // A session of another key is "not found": never reveal that it exists.
    if (!session || session.apiKey !== apiKey) throw new SimError(404, 'not_found', `Session ${sessionId} not found.`, 'session_id');
    this.advance(session);
    return session;
  }

  private realMs(simulatedMs: number): number {
    return simulatedMs / this.knobs().timeScale;
  }

  /**
   * Ends the session's thinking or rendering now, as if its time had come (for tests: a phase held with a
   * long duration ends when the test is ready, not when a clock says). False when nothing is under way.
   */
  finishPhase(sessionId: string): boolean {
    const session = this.sessions.get(sessionId);
    if (!session) return false;
    this.advance(session);
    if (session.phase.kind === 'idle') return false;
    session.phase = { ...session.phase, endMs: this.now() };
    this.advance(session);
    return true;
  }

  /** Applies every transition due by now. */
  advance(session: SimSession): void {
    const now = this.now();
    for (;;) {
      const { phase } = session;
      if (phase.kind === 'idle' || now < phase.endMs) break;
      if (phase.kind === 'thinking') this.finishThinking(session, phase.endMs);
      else this.finishGenerating(session, phase.endMs);
    }
  }

  private startPhase(session: SimSession, kind: 'thinking' | 'generating', at: number, simulatedMs: number): void {
    const nominalEndMs = at + this.realMs(simulatedMs);
    const stuck = session.scenario.stuck === kind;
    session.status = kind;
    session.phase = { kind, startMs: at, endMs: stuck ? Infinity : nominalEndMs, nominalEndMs };
    this.schedule(session);
  }

  private finishThinking(session: SimSession, at: number): void {
    const { scenario } = session;
    session.progress = this.progressOf(session, at);
    if (session.stopRequested) return this.halt(session, at);
    if (scenario.fail === 'thinking') {
      session.title ??= titleFrom(session.prompt);
      this.addMessage(session, 'model', 'error', 'Script generation failed: the agent could not draft a storyboard for this prompt.', at);
      return this.fail(session, undefined, 'Script generation failed: the agent could not draft a storyboard for this prompt.');
    }
    if (session.proceedAfterThinking || scenario.review === 'skip') return this.startGenerating(session, at);
    if (session.asksRemaining > 0) {
      const question = QUESTIONS[(scenario.asks - session.asksRemaining) % QUESTIONS.length]!;
      session.asksRemaining--;
      session.title ??= titleFrom(session.prompt);
      session.status = 'waiting_for_input';
      session.phase = { kind: 'idle' };
      session.progress = 20;
      this.addMessage(session, 'model', 'text', question, at);
      return;
    }
    this.presentStoryboard(session, at);
  }

  private presentStoryboard(session: SimSession, at: number): void {
    session.storyboards++;
    session.revision = session.storyboards;
    session.title ??= titleFrom(session.prompt);
    const resourceIds: string[] = [];
    for (let scene = 1; scene <= session.scenario.scenes; scene++) {
      const id = `res_${hexId(6)}`;
      session.resources.set(id, { id, kind: 'storyboard', createdAtMs: at, metadata: { scene, revision: session.revision } });
      resourceIds.push(id);
    }
    const which = session.revision === 1 ? 'a storyboard' : `revision ${session.revision} of the storyboard`;
    this.addMessage(
      session,
      'model',
      'text',
      `I've drafted ${which} with ${session.scenario.scenes} scenes for "${session.title}". Would you like to review it or should I proceed?`,
      at,
      resourceIds,
    );
    session.status = 'reviewing';
    session.phase = { kind: 'idle' };
    session.progress = 45;
  }

  private startGenerating(session: SimSession, at: number): void {
    session.title ??= titleFrom(session.prompt);
    session.proceedAfterThinking = false;
    const realGenerate = this.realMs(session.scenario.generateMs);
    const video: SimVideo = {
      id: hexId(16),
      sessionId: session.id,
      title: session.title,
      createdAtMs: at,
      durationSeconds: session.scenario.durationSeconds,
      bytes: session.scenario.videoBytes,
      pendingUntilMs: at + realGenerate * 0.1,
    };
    session.videos.push(video);
    this.videoIndex.set(video.id, video);
    session.currentVideoId = video.id;
    this.addMessage(session, 'model', 'text', 'Great, generating your video now.', at);
    this.startPhase(session, 'generating', at, session.scenario.generateMs);
  }

  private finishGenerating(session: SimSession, at: number): void {
    const { scenario } = session;
    const video = this.videoIndex.get(session.currentVideoId ?? '');
    session.progress = this.progressOf(session, at);
    if (session.stopRequested) {
      if (video) video.final = { status: 'failed', atMs: at, failureCode: 'stopped', failureMessage: 'Generation was stopped before it finished.' };
      return this.halt(session, at);
    }
    if (scenario.fail === 'generating') {
      if (video) video.final = { status: 'failed', atMs: at, failureCode: 'rendering_failed', failureMessage: 'Avatar rendering timed out' };
      this.addMessage(session, 'model', 'error', 'Video rendering failed: Avatar rendering timed out.', at);
      return this.fail(session, video, 'Video rendering failed: Avatar rendering timed out.');
    }
    if (scenario.fail === 'silent') {
      // As reported for an empty prepaid wallet: failed, with no reason anywhere.
      if (video) video.final = { status: 'failed', atMs: at, failureCode: null, failureMessage: null };
      return this.fail(session, video, null);
    }
    session.status = 'completed';
    session.phase = { kind: 'idle' };
    session.progress = 100;
    if (!video) return;
    const readyAt = at + this.realMs(scenario.videoDelayMs);
    video.final =
      scenario.fail === 'video'
        ? { status: 'failed', atMs: readyAt, failureCode: 'rendering_failed', failureMessage: 'Video encoding failed after generation' }
        : { status: 'completed', atMs: readyAt, failureCode: null, failureMessage: null };
    const resourceId = `res_${hexId(6)}`;
    session.resources.set(resourceId, { id: resourceId, kind: 'video', createdAtMs: at, videoId: video.id, metadata: { video_id: video.id } });
    this.addMessage(session, 'model', 'resource', 'Your video is ready.', at, [resourceId]);
    if (scenario.fail === 'video') {
      video.failureNoticePending = true;
      this.armFailureNotice(session, video);
    } else {
      this.onEvent({ type: 'video_agent.success', session, video });
    }
  }

  private armFailureNotice(session: SimSession, video: SimVideo): void {
    this.later(session, video.final!.atMs, () => {
      video.failureNoticePending = false;
      this.onEvent({ type: 'video_agent.fail', session, video, failureMessage: video.final?.failureMessage ?? null });
    });
  }

  private fail(session: SimSession, video: SimVideo | undefined, reason: string | null): void {
    session.status = 'failed';
    session.phase = { kind: 'idle' };
    this.onEvent({ type: 'video_agent.fail', session, video, failureMessage: reason });
  }

  private halt(session: SimSession, at: number): void {
    session.stopRequested = false;
    // A generate-mode session refuses messages, so a pause waiting for one would never end: it fails.
    if (session.mode === 'generate') {
      const reason = 'Stopped at your request before the video was finished.';
      this.addMessage(session, 'model', 'error', reason, at);
      return this.fail(session, this.videoIndex.get(session.currentVideoId ?? ''), reason);
    }
    session.halted = true;
    session.status = 'waiting_for_input';
    session.phase = { kind: 'idle' };
    this.addMessage(session, 'model', 'text', 'Stopped at your request. Send a message to continue.', at);
  }

  private addMessage(session: SimSession, role: SimMessage['role'], type: SimMessage['type'], content: string, at: number, resourceIds: string[] | null = null): void {
    session.messages.push({ role, type, content, createdAtMs: at, resourceIds });
  }

  /** Arms a timer for the end of the current phase, so transitions (and webhooks) happen unobserved. */
  private schedule(session: SimSession): void {
    const { phase } = session;
    if (phase.kind === 'idle' || phase.endMs === Infinity) return;
    this.later(session, phase.endMs, () => {
      this.advance(session);
      // Timers run on a monotonic clock, Date.now() on the wall clock: a timer can fire a hair early.
      if (session.phase === phase) this.schedule(session);
    });
  }

  private later(session: SimSession, atMs: number, action: () => void): void {
    const timer = setTimeout(
      () => {
        session.timers.delete(timer);
        action();
      },
      Math.max(1, Math.ceil(atMs - this.now())),
    );
    timer.unref();
    session.timers.add(timer);
  }
}
