/**
 * The session workflow's contract: its input (validated with zod, no secrets), the state it exposes
 * through the `state` query, its result, and the payloads of its signals. Workflow-safe (zod only), so
 * the workflow, the activities, the API and tools share one definition.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { durationProblem, parseDuration } from './duration';

/**
 * The longest duration anything takes (a year): every deadline a session computes stays a valid date,
 * so no input can make a workflow task fail.
 */
export const DURATION_MAX_MS = 365 * 24 * 3_600_000;

/** A duration: text with a unit (`500ms`, `30s`, `5m`, `2h`, `7d`) or a number of milliseconds; parsed to milliseconds. */
export const DurationSchema = z
  .union([z.number(), z.string().max(40)])
  .transform((value, context) => {
    const ms = typeof value === 'number' ? (Number.isInteger(value) ? value : undefined) : parseDuration(value);
    if (ms === undefined || ms <= 0) {
      context.addIssue({ code: 'custom', message: typeof value === 'number' ? 'expected a whole number of milliseconds above 0' : durationProblem(value) });
      return z.NEVER;
    }
    if (ms > DURATION_MAX_MS) {
      context.addIssue({ code: 'custom', message: 'expected a duration of at most 365d' });
      return z.NEVER;
    }
    return ms;
  });

/** Our phases of a session: HeyGen's statuses plus what happens around them. */
export const PHASES = [
  'queued',
  'creating',
  'thinking',
  'waiting_for_input',
  'reviewing',
  'generating',
  'finalizing',
  'completed',
  'failed',
  'stopped',
  'expired',
] as const;
export type Phase = (typeof PHASES)[number];
export const FINAL_PHASES: readonly Phase[] = ['completed', 'failed', 'stopped', 'expired'];

/** The longest request id (the API's Idempotency-Key on decisions, a signal's `requestId`): one limit everywhere. */
export const REQUEST_ID_MAX = 200;
const requestIdSchema = z.string().min(1).max(REQUEST_ID_MAX);
export const CHECKPOINT_PHASES: readonly Phase[] = ['reviewing', 'waiting_for_input'];

/** An attachment, in our camelCase form of HeyGen's `files` union. */
export const SessionFileSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('asset_id'), assetId: z.string().min(1).max(200) }).strict(),
  z.object({ type: z.literal('url'), url: z.url({ protocol: /^https?$/ }).max(2_000) }).strict(),
  z.object({ type: z.literal('base64'), mediaType: z.string().min(1).max(100), data: z.string().min(1) }).strict(),
]);
export type SessionFile = z.infer<typeof SessionFileSchema>;

const DEFAULT_REVIEW_TIMEOUT_MS = 7 * 24 * 3_600_000;
const OnTimeoutSchema = z.enum(['stop', 'approve']);

export const ReviewPolicySchema = z
  .object({
    /** How long a checkpoint waits for a person. */
    timeout: DurationSchema.default(DEFAULT_REVIEW_TIMEOUT_MS),
    /** What happens then: stop the HeyGen session, or approve on the reviewer's behalf. */
    onTimeout: OnTimeoutSchema.default('stop'),
  })
  .strict();
export type ReviewPolicy = z.infer<typeof ReviewPolicySchema>;

/**
 * Polling cadence and limits. Defaults suit real HeyGen sessions (20-45 minutes is routine); tests and
 * benchmarks pass smaller values to scale time.
 */
export const TimingSchema = z
  .object({
    /** First wait between status reads while HeyGen works; each status change resets to it. */
    pollInitial: DurationSchema.default(10_000),
    /** The wait grows by `pollBackoff` per read up to this. */
    pollMax: DurationSchema.default(120_000),
    pollBackoff: z.number().min(1).max(10).default(2),
    /** One stretch of thinking longer than this ends the session (HeyGen: flag anything over 15 min). */
    maxThinking: DurationSchema.default(45 * 60_000),
    /** Rendering longer than this ends the session. */
    maxGenerating: DurationSchema.default(90 * 60_000),
    /** After HeyGen says completed, how long the video may stay pending/processing. */
    maxVideoWait: DurationSchema.default(30 * 60_000),
    videoPollInterval: DurationSchema.default(15_000),
    /**
     * While rendering, when HeyGen calls back at the end (HEYGEN_WEBHOOK_URL): the wait between status
     * reads, which are then only a safety net for a lost webhook.
     */
    pollWhileCalledBack: DurationSchema.default(5 * 60_000),
    /** Consecutive reads of a status we do not know before the session fails. */
    unknownStatusLimit: z.number().int().min(1).max(1_000).default(10),
    /** An activity that stops heartbeating this long is retried elsewhere (a crashed worker). */
    activityHeartbeatTimeout: DurationSchema.default(20_000),
    /** Automatic re-approvals when HeyGen answers an approval with another storyboard. */
    maxReapprovals: z.number().int().min(0).max(5).default(1),
    /**
     * From start until HeyGen has the session: waiting for a job slot, and retrying a create HeyGen
     * refuses with 429 or cannot be reached. Then the session ends `expired`.
     */
    maxQueued: DurationSchema.default(24 * 3_600_000),
    /** A notification is retried (from `notifyRetryInitial`, doubling, at most hourly) for this long, then given up. */
    notifyRetryWindow: DurationSchema.default(24 * 3_600_000),
    notifyRetryInitial: DurationSchema.default(5_000),
  })
  .strict();
export type Timing = z.infer<typeof TimingSchema>;
/** Some of the timing, the rest defaulted: what a session's input (and `SESSION_TIMING`) may set. */
export const SessionTimingOverridesSchema = TimingSchema.partial();

const label = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'label names are 1-64 of A-Z a-z 0-9 _ . : -' });

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
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** http(s) only; where it may point (no private addresses unless allowed) is checked when used. */
export const NotifyUrlSchema = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).max(2_000);

export const NotifyRequestSchema = z
  .object({
    url: NotifyUrlSchema.meta({ description: 'Receives signed JSON POSTs (Standard Webhooks) as the session moves.' }),
    events: z
      .array(z.enum(NOTIFY_EVENTS))
      .min(1)
      .optional()
      .meta({ description: 'Which events to send (default: all).' }),
  })
  .strict();

/** One notification and how its delivery went: in the session's state, so callers and operators see it. */
export const NotificationDeliverySchema = z.object({
  /** Stable across retries (`webhook-id`): receivers dedupe on it. */
  id: z.string(),
  event: z.enum(NOTIFY_EVENTS),
  createdAt: z.string(),
  outcome: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  /** The receiver's last HTTP status (null: no answer). */
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
});
export type NotificationDelivery = z.infer<typeof NotificationDeliverySchema>;

/**
 * What a caller sets on a session: the API's create body is exactly this schema, and the workflow's input
 * extends it, so the two share every bound and the API cannot accept what the workflow would refuse.
 */
export const SessionRequestSchema = z
  .object({
    prompt: z.string().min(1).max(10_000).meta({ description: 'What the video should be (1-10,000 characters).' }),
    avatarId: z.string().min(1).max(200).optional(),
    voiceId: z.string().min(1).max(200).optional(),
    orientation: z.enum(['landscape', 'portrait']).optional(),
    files: z.array(SessionFileSchema).max(20).optional().meta({ description: 'Up to 20 attachments. Prefer asset ids or URLs: the request body is capped.' }),
    /** Pre-approval: go straight from the first storyboard to rendering, no human wait. */
    autoApprove: z.boolean().optional().meta({ description: 'Approve every checkpoint automatically (no person needed).' }),
    review: z
      .object({
        timeout: DurationSchema.optional().meta({ description: 'How long a checkpoint waits for a decision: 30s, 15m, 48h, 7d or milliseconds (default 7d, at most 365d).' }),
        onTimeout: OnTimeoutSchema.optional().meta({ description: 'Then: stop the session (default) or approve it.' }),
      })
      .strict()
      .optional(),
    labels: z
      .record(label, z.string().max(200))
      .refine((labels) => Object.keys(labels).length <= 20, { error: 'at most 20 labels' })
      .optional(),
    notify: NotifyRequestSchema.optional(),
  })
  .strict();

export const SessionInputSchema = SessionRequestSchema.extend({
  autoApprove: z.boolean().default(false),
  review: ReviewPolicySchema.default({ timeout: DEFAULT_REVIEW_TIMEOUT_MS, onTimeout: 'stop' }),
  /** Who asked for the session (an API token's name, an operator). */
  requestedBy: z.string().min(1).max(200).optional(),
  /** The API tenant that owns it. */
  tenant: z.string().min(1).max(200).optional(),
  timing: SessionTimingOverridesSchema.optional(),
}).strict();
/** What callers pass (durations as text allowed, defaults optional). */
export type SessionInput = z.input<typeof SessionInputSchema>;
/** What the workflow works with after validation. */
export type ParsedSessionInput = z.output<typeof SessionInputSchema>;

export const resolveTiming = (timing: ParsedSessionInput['timing']): Timing => TimingSchema.parse(timing ?? {});

// ---------------------------------------------------------------------------------------------------
// Signals

export const ApproveSignalSchema = z.object({
  /** Makes the signal idempotent: a second signal with the same id is a no-op. */
  requestId: requestIdSchema.optional(),
  by: z.string().min(1).max(200).optional(),
  /** Sent to HeyGen with the approval; a default approval text otherwise. */
  message: z.string().min(1).max(10_000).optional().meta({ description: 'Sent to HeyGen with the approval.' }),
});
export type ApproveSignal = z.infer<typeof ApproveSignalSchema>;

export const SendMessageSignalSchema = z.object({
  requestId: requestIdSchema.optional(),
  by: z.string().min(1).max(200).optional(),
  message: z.string().min(1).max(10_000),
  avatarId: z.string().min(1).max(200).optional(),
  voiceId: z.string().min(1).max(200).optional(),
  files: z.array(SessionFileSchema).max(20).optional(),
});
export type SendMessageSignal = z.infer<typeof SendMessageSignalSchema>;

export const HeygenEventSignalSchema = z
  .object({ eventType: z.string().max(100).optional(), eventId: z.string().max(200).optional() })
  .optional();
export type HeygenEventSignal = z.infer<typeof HeygenEventSignalSchema>;

// ---------------------------------------------------------------------------------------------------
// State (the `state` query) and result

export const ChatMessageSchema = z.object({
  /** Order in which the workflow first saw it. */
  seq: z.number().int(),
  role: z.string(),
  type: z.string(),
  /** Cut to 2,000 characters to keep workflow state small. */
  content: z.string(),
  createdAt: z.string().nullable(),
  resourceIds: z.array(z.string()),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export const ResourceInfoSchema = z.object({
  resourceId: z.string(),
  /** `loading`: still being read from HeyGen (it appears when it arrives); `unavailable`: HeyGen would not give it. */
  status: z.enum(['ready', 'loading', 'unavailable']),
  type: z.string().nullable(),
  url: z.string().nullable(),
  thumbnailUrl: z.string().nullable(),
  previewUrl: z.string().nullable(),
  /** Why an image is still loading or unavailable. */
  note: z.string().nullable(),
});
export type ResourceInfo = z.infer<typeof ResourceInfoSchema>;

export const ReviewPacketSchema = z.object({
  kind: z.enum(['storyboard', 'question']),
  /** Storyboards seen so far, this one included (1 for the first). */
  revision: z.number().int(),
  /** Model messages since the previous checkpoint, oldest first. */
  messages: z.array(ChatMessageSchema),
  resources: z.array(ResourceInfoSchema),
  since: z.string(),
  deadline: z.string(),
});
export type ReviewPacket = z.infer<typeof ReviewPacketSchema>;

/** A storyboard the session has moved past: what a reviewer compares the current one with. */
export const EarlierStoryboardSchema = ReviewPacketSchema.pick({ revision: true, resources: true, since: true });
export type EarlierStoryboard = z.infer<typeof EarlierStoryboardSchema>;

export const ActionSchema = z.object({
  at: z.string(),
  kind: z.enum(['approve', 'message', 'review_timeout', 'reapprove', 'stop']),
  requestId: z.string().nullable(),
  by: z.string().nullable(),
  /** `pending` until HeyGen has the message; `ignored` when it arrived outside a checkpoint. */
  outcome: z.enum(['pending', 'applied', 'ignored', 'failed']),
  reason: z.string().nullable(),
  /** The phase the session was in when the action arrived. */
  phase: z.enum(PHASES),
});
export type Action = z.infer<typeof ActionSchema>;

export const VideoInfoSchema = z.object({
  videoId: z.string(),
  status: z.string(),
  title: z.string().nullable(),
  url: z.string().nullable(),
  thumbnailUrl: z.string().nullable(),
  captionedUrl: z.string().nullable(),
  subtitleUrl: z.string().nullable(),
  durationSeconds: z.number().nullable(),
  completedAt: z.string().nullable(),
});
export type VideoInfo = z.infer<typeof VideoInfoSchema>;

export const SessionErrorSchema = z.object({
  reason: z.string(),
  /** One of the failure types in src/contract/failures.ts (`SESSION_FAILURE`). */
  type: z.string(),
});

/** Where the session stands in the account's queue for a HeyGen job slot (phase `queued`). */
export const QueueInfoSchema = z.object({
  /** The HeyGen account (a fingerprint of the API key and base URL, never the key). */
  account: z.string(),
  /** 1 = next to be granted a slot. Null until the governor has placed the session. */
  position: z.number().int().nullable(),
  /** How many sessions of the account were waiting when the position was given. */
  queued: z.number().int().nullable(),
  since: z.string(),
  /** When the governor last reported the position. */
  updatedAt: z.string().nullable(),
});

/** The session's slot at HeyGen and the health of the connection to HeyGen, as the workflow sees them. */
export const HeyGenLinkSchema = z.object({
  /** `none` (no governor, or none asked yet), `waiting`, `held`, `released`. */
  slot: z.enum(['none', 'waiting', 'held', 'released']),
  slotSince: z.string().nullable(),
  /** Set while HeyGen cannot be reached (calls keep failing and are being retried). */
  unreachableSince: z.string().nullable(),
  /** The last failure of a call while HeyGen is unreachable. */
  lastError: z.string().nullable(),
  /** When a HeyGen stop was requested (once per session). */
  stopRequestedAt: z.string().nullable(),
});
export type HeyGenLink = z.infer<typeof HeyGenLinkSchema>;

export const SessionStateSchema = z.object({
  id: z.string(),
  heygenSessionId: z.string().nullable(),
  phase: z.enum(PHASES),
  phaseSince: z.string(),
  heygenStatus: z.string().nullable(),
  progress: z.number().nullable(),
  title: z.string().nullable(),
  promptSummary: z.string(),
  /** The prompt as given. */
  prompt: z.string().default(''),
  requestedBy: z.string().nullable(),
  tenant: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  /** Storyboards seen so far. */
  revisions: z.number().int(),
  /** The newest messages of the conversation, oldest first (at most 100). */
  messages: z.array(ChatMessageSchema),
  review: ReviewPacketSchema.nullable(),
  /** Storyboards the session has moved past (revised, or approved), oldest first (at most 10). */
  earlierStoryboards: z.array(EarlierStoryboardSchema).default([]),
  video: VideoInfoSchema.nullable(),
  /** Every video the session produced, newest first (ids only). */
  videoIds: z.array(z.string()),
  error: SessionErrorSchema.nullable(),
  queue: QueueInfoSchema.nullable(),
  heygen: HeyGenLinkSchema,
  actions: z.array(ActionSchema),
  /** The phases the session has been in, newest last (at most 30), numbered: what a live stream replays. */
  phaseHistory: z.array(z.object({ seq: z.number().int(), phase: z.enum(PHASES), at: z.string() })).default([]),
  /** Notifications to the caller (`notify`), newest last (at most 50); empty without `notify`. */
  notifications: z.array(NotificationDeliverySchema).default([]),
  createdAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().nullable(),
  /** Runs of this workflow so far (continue-as-new keeps the id, adds a run). */
  runs: z.number().int(),
});
export type SessionState = z.infer<typeof SessionStateSchema>;

export const SessionResultSchema = SessionStateSchema;
export type SessionResult = SessionState;

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
export const stateQuery = defineQuery<SessionState>('state');

/**
 * Waits for the outcome of a decision sent earlier by signal (`approve`, `sendMessage`) with this request
 * id: completes once it is applied, ignored or failed, with the session's state then. The signal stays the
 * way to decide (operators' tools send it alone); this is how the API learns the outcome without polling.
 */
export const DecisionOutcomeInputSchema = z.object({ requestId: requestIdSchema }).strict();
export type DecisionOutcomeInput = z.infer<typeof DecisionOutcomeInputSchema>;
export interface DecisionOutcome {
  /** Null when the request id was seen so long ago that its action has left the log. */
  action: Action | null;
  state: SessionState;
}
export const decisionOutcomeUpdate = defineUpdate<DecisionOutcome, [DecisionOutcomeInput]>('decisionOutcome');
