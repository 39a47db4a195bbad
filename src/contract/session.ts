/**
 * The session workflow's contract: its phases, limits and defaults, the definitions of its signals,
 * queries and update, and (as types) its input, state and result. Free of zod, because the workflow
 * imports it: every module the workflow imports is evaluated again for each workflow a worker keeps in
 * memory, and zod with our schemas cost about 1.5 MiB per session. The zod schemas, the single source of
 * the wire types for the API, the CLI and tools, are in `session-schemas.ts` and `session-state.ts`; the
 * workflow checks its input and signals with `session-checks.ts`, held to those schemas by
 * test/contract/session-checks.test.ts.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApproveSignal, DecisionOutcomeInput, HeygenEventSignal, SendMessageSignal, SessionInput } from './session-schemas';
import type { Action, SessionResult, SessionState } from './session-state';

// Types only (erased), so importing them costs the workflow nothing.
export type {
  ApproveSignal,
  DecisionOutcomeInput,
  HeygenEventSignal,
  ParsedSessionInput,
  ReviewPolicy,
  SendMessageSignal,
  SessionFile,
  SessionInput,
  Timing,
} from './session-schemas';
export type {
  Action,
  ArchiveEntry,
  ArchiveState,
  ChatMessage,
  EarlierStoryboard,
  HeyGenLink,
  NotificationDelivery,
  ResourceInfo,
  ReviewPacket,
  SessionResult,
  SessionState,
  VideoInfo,
} from './session-state';

/**
 * The longest duration anything takes (a year): every deadline a session computes stays a valid date,
 * so no input can make a workflow task fail.
 */
export const DURATION_MAX_MS = 365 * 24 * 3_600_000;


/** Our phases of a session: HeyGen's statuses plus what happens around them. */
export const PHASES = [
  'queued',
  'creating',
  'thinking',
  'waiting_for_input',
  'reviewing',
  'generating',
  'finalizing',
  'archiving',
  'completed',
  'failed',
  'stopped',
  'expired',
  'archive_failed',
] as const;
export type Phase = (typeof PHASES)[number];
/**
 * Phases a session ends in. `archive_failed` is one too: HeyGen's work is done and the video known, but
 * our copy of it is not made. The workflow still waits a while for `retryArchive` in it.
 */
export const FINAL_PHASES: readonly Phase[] = ['completed', 'failed', 'stopped', 'expired', 'archive_failed'];

/** The longest request id (the API's Idempotency-Key on decisions, a signal's `requestId`): one limit everywhere. */
export const REQUEST_ID_MAX = 200;
export const CHECKPOINT_PHASES: readonly Phase[] = ['reviewing', 'waiting_for_input'];


export const DEFAULT_REVIEW_TIMEOUT_MS = 7 * 24 * 3_600_000;
/** A finished video's files the archive keeps, in the order they are archived (the video first). */
export const ARCHIVE_FILES = ['video', 'captioned', 'subtitles', 'thumbnail', 'gif'] as const;
export type ArchiveFile = (typeof ARCHIVE_FILES)[number];

export const ON_TIMEOUT = ['stop', 'approve'] as const;
export const ORIENTATIONS = ['landscape', 'portrait'] as const;

/** The bounds of what a caller sets, shared by the zod schemas and the workflow's checks. */
export const LIMITS = {
  prompt: 10_000,
  message: 10_000,
  /** Ids and names: avatar, voice, asset, requester, tenant, a decision's `by`. */
  name: 200,
  files: 20,
  url: 2_000,
  mediaType: 100,
  labels: 20,
  labelValue: 200,
  durationText: 40,
  eventType: 100,
  eventId: 200,
} as const;
export const LABEL_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
export const LABEL_NAME_RULE = 'label names are 1-64 of A-Z a-z 0-9 _ . : -';
/** Attachment and notification URLs: http(s) only (where they may point is checked when used). */
export const URL_PROTOCOL = /^https?$/;

/**
 * Polling cadence and limits (milliseconds, but for the three counts). Defaults suit real HeyGen sessions
 * (20-45 minutes is routine); tests and benchmarks pass smaller values to scale time.
 */
export const TIMING_DEFAULTS = {
  /** First wait between status reads while HeyGen works; each status change resets to it. */
  pollInitial: 10_000,
  /** The wait grows by `pollBackoff` per read up to this. */
  pollMax: 120_000,
  pollBackoff: 2,
  /** One stretch of thinking longer than this ends the session (HeyGen: flag anything over 15 min). */
  maxThinking: 45 * 60_000,
  /** Rendering longer than this ends the session. */
  maxGenerating: 90 * 60_000,
  /** After HeyGen says completed, how long the video may stay pending/processing. */
  maxVideoWait: 30 * 60_000,
  videoPollInterval: 15_000,
  /**
   * While rendering, when HeyGen calls back at the end (HEYGEN_WEBHOOK_URL): the wait between status
   * reads, which are then only a safety net for a lost webhook.
   */
  pollWhileCalledBack: 5 * 60_000,
  /** Consecutive reads of a status we do not know before the session fails. */
  unknownStatusLimit: 10,
  /** An activity that stops heartbeating this long is retried elsewhere (a crashed worker). */
  activityHeartbeatTimeout: 20_000,
  /** Automatic re-approvals when HeyGen answers an approval with another storyboard. */
  maxReapprovals: 1,
  /**
   * From start until HeyGen has the session: waiting for a job slot, and retrying a create HeyGen
   * refuses with 429 or cannot be reached. Then the session ends `expired`.
   */
  maxQueued: 24 * 3_600_000,
  /**
   * While queued: how often the session asks for its slot again. The governor keeps its place (same
   * request time), and a governor that vanished (terminated by hand) is started afresh by the asking and
   * rebuilds its holders and queue from the sessions.
   */
  queueRecheck: 10 * 60_000,
  /** A notification is retried (from `notifyRetryInitial`, doubling, at most hourly) for this long, then given up. */
  notifyRetryWindow: 24 * 3_600_000,
  notifyRetryInitial: 5_000,
} as const;
export type TimingField = keyof typeof TIMING_DEFAULTS;
/** The timing fields that are counts, not durations, with their bounds. */
export const TIMING_COUNTS: Partial<Record<TimingField, { min: number; max: number; integer: boolean }>> = {
  pollBackoff: { min: 1, max: 10, integer: false },
  unknownStatusLimit: { min: 1, max: 1_000, integer: true },
  maxReapprovals: { min: 0, max: 5, integer: true },
};



// ---------------------------------------------------------------------------------------------------
// Notifications: what a session tells its caller, signed the Standard Webhooks way

export const NOTIFY_EVENTS = [
  'session.queued',
  'session.awaiting_review',
  'session.awaiting_answer',
  'session.completed',
  'session.failed',
  'session.stopped',
  'session.expired',
  'session.archive_failed',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];




// ---------------------------------------------------------------------------------------------------
// Signals



/** The first words of the prompt, for list views and the Temporal UI. */
export function summarizePrompt(prompt: string, max = 80): string {
  const clean = prompt.replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

// ---------------------------------------------------------------------------------------------------
// The session workflow's type and messages: what clients (the API, operators' tools) send and ask.

export const SESSION_WORKFLOW_TYPE = 'videoAgentSession';

/** Where a session is in the API (relative to its base URL). */
export const sessionLinks = (id: string) => ({
  self: `/v1/sessions/${id}`,
  approve: `/v1/sessions/${id}/approve`,
  messages: `/v1/sessions/${id}/messages`,
  stop: `/v1/sessions/${id}/stop`,
  video: `/v1/sessions/${id}/video`,
});

/** The workflow's signature, for typed handles without loading the workflow's code. */
export type VideoAgentSessionWorkflow = (input: SessionInput) => Promise<SessionResult>;

export const approveSignal = defineSignal<[ApproveSignal]>('approve');
export const sendMessageSignal = defineSignal<[SendMessageSignal]>('sendMessage');
export const heygenEventSignal = defineSignal<[HeygenEventSignal?]>('heygenEvent');
/**
 * Archive the finished video again, in phase `archive_failed` (after fixing what made it fail: storage
 * credentials, a full disk). Ignored in any other phase. Payload optional: `{by}` names who asked.
 */
export const retryArchiveSignal = defineSignal<[{ by?: string }?]>('retryArchive');
export const stateQuery = defineQuery<SessionState>('state');

/**
 * Waits for the outcome of a decision sent earlier by signal (`approve`, `sendMessage`) with this request
 * id: completes once it is applied, ignored or failed, with the session's state then. The signal stays the
 * way to decide (operators' tools send it alone); this is how the API learns the outcome without polling.
 */
export interface DecisionOutcome {
  /** Null when the request id was seen so long ago that its action has left the log. */
  action: Action | null;
  state: SessionState;
}
export const decisionOutcomeUpdate = defineUpdate<DecisionOutcome, [DecisionOutcomeInput]>('decisionOutcome');

/**
 * Revokes one review link of this session: its id joins `revokedLinks`, which the API checks on every
 * use of a link (the API keeps nothing itself, so every instance refuses it at once). Idempotent.
 */
export interface RevokeReviewLinkInput {
  linkId: string;
  by?: string;
}
export const revokeReviewLinkUpdate = defineUpdate<{ revokedLinks: number }, [RevokeReviewLinkInput]>('revokeReviewLink');
/** A review link's id: `rl_` and 22 base64url characters (src/review-links.ts). */
export const REVIEW_LINK_ID = /^rl_[A-Za-z0-9_-]{22}$/;
/** Revoked links a session keeps at most (each one a short id); beyond it, rotate the minting token. */
export const REVOKED_LINKS_MAX = 200;
