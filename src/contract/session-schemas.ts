/**
 * The session's input and signals as zod schemas: the single source of these wire types for the API,
 * the CLI and tools (the workflow checks the same rules without zod: see `session-checks.ts`).
 */
import { z } from 'zod';
import { durationProblem, parseDuration } from './duration';
import {
  DEFAULT_REVIEW_TIMEOUT_MS,
  DURATION_MAX_MS,
  LABEL_NAME,
  LABEL_NAME_RULE,
  LIMITS,
  NOTIFY_EVENTS,
  ON_TIMEOUT,
  ORIENTATIONS,
  REQUEST_ID_MAX,
  TIMING_COUNTS,
  TIMING_DEFAULTS,
  URL_PROTOCOL,
  type TimingField,
} from './session';

/** A duration: text with a unit (`500ms`, `30s`, `5m`, `2h`, `7d`) or a number of milliseconds; parsed to milliseconds. */
export const DurationSchema = z
  .union([z.number(), z.string().max(LIMITS.durationText)])
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

const requestIdSchema = z.string().min(1).max(REQUEST_ID_MAX);
const nameSchema = z.string().min(1).max(LIMITS.name);

/** An attachment, in our camelCase form of HeyGen's `files` union. */
export const SessionFileSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('asset_id'), assetId: nameSchema }).strict(),
  z.object({ type: z.literal('url'), url: z.url({ protocol: URL_PROTOCOL }).max(LIMITS.url) }).strict(),
  z.object({ type: z.literal('base64'), mediaType: z.string().min(1).max(LIMITS.mediaType), data: z.string().min(1) }).strict(),
]);
export type SessionFile = z.infer<typeof SessionFileSchema>;

const OnTimeoutSchema = z.enum(ON_TIMEOUT);

export const ReviewPolicySchema = z
  .object({
    /** How long a checkpoint waits for a person. */
    timeout: DurationSchema.default(DEFAULT_REVIEW_TIMEOUT_MS),
    /** What happens then: stop the HeyGen session, or approve on the reviewer's behalf. */
    onTimeout: OnTimeoutSchema.default('stop'),
  })
  .strict();
export type ReviewPolicy = z.infer<typeof ReviewPolicySchema>;

const count = (field: 'pollBackoff' | 'unknownStatusLimit' | 'maxReapprovals') => {
  const { min, max, integer } = TIMING_COUNTS[field]!;
  return (integer ? z.number().int() : z.number()).min(min).max(max);
};

/** Each timing field's bounds, without its default. */
const TIMING_FIELDS = {
  pollInitial: DurationSchema,
  pollMax: DurationSchema,
  pollBackoff: count('pollBackoff'),
  maxThinking: DurationSchema,
  maxGenerating: DurationSchema,
  maxVideoWait: DurationSchema,
  videoPollInterval: DurationSchema,
  pollWhileCalledBack: DurationSchema,
  unknownStatusLimit: count('unknownStatusLimit'),
  activityHeartbeatTimeout: DurationSchema,
  maxReapprovals: count('maxReapprovals'),
  maxQueued: DurationSchema,
  queueRecheck: DurationSchema,
  notifyRetryWindow: DurationSchema,
  notifyRetryInitial: DurationSchema,
} satisfies Record<TimingField, z.ZodType>;

type TimingFields = typeof TIMING_FIELDS;
const withDefaults = Object.fromEntries(
  Object.entries(TIMING_FIELDS).map(([field, schema]) => [field, schema.default(TIMING_DEFAULTS[field as TimingField] as never)]),
) as { [K in keyof TimingFields]: z.ZodDefault<TimingFields[K]> };
const optional = Object.fromEntries(Object.entries(TIMING_FIELDS).map(([field, schema]) => [field, schema.optional()])) as {
  [K in keyof TimingFields]: z.ZodOptional<TimingFields[K]>;
};

/** Polling cadence and limits (what each means: `TIMING_DEFAULTS`). */
export const TimingSchema = z.object(withDefaults).strict();
export type Timing = z.infer<typeof TimingSchema>;
/**
 * Some of the timing: what a session's input (and `SESSION_TIMING`) may set. Only the fields named are
 * kept; the workflow takes the rest from `TIMING_DEFAULTS` (resolveTiming).
 */
export const SessionTimingOverridesSchema = z.object(optional).strict();

const label = z.string().regex(LABEL_NAME, { error: LABEL_NAME_RULE });

/** http(s) only; where it may point (no private addresses unless allowed) is checked when used. */
export const NotifyUrlSchema = z.url({ protocol: URL_PROTOCOL, error: 'expected an http(s) URL' }).max(LIMITS.url);

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

/**
 * What a caller sets on a session: the API's create body is exactly this schema, and the workflow's input
 * extends it, so the two share every bound and the API cannot accept what the workflow would refuse.
 */
export const SessionRequestSchema = z
  .object({
    prompt: z.string().min(1).max(LIMITS.prompt).meta({ description: 'What the video should be (1-10,000 characters).' }),
    avatarId: nameSchema.optional(),
    voiceId: nameSchema.optional(),
    orientation: z.enum(ORIENTATIONS).optional(),
    files: z.array(SessionFileSchema).max(LIMITS.files).optional().meta({ description: 'Up to 20 attachments. Prefer asset ids or URLs: the request body is capped.' }),
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
      .record(label, z.string().max(LIMITS.labelValue))
      .refine((labels) => Object.keys(labels).length <= LIMITS.labels, { error: `at most ${LIMITS.labels} labels` })
      .optional(),
    notify: NotifyRequestSchema.optional(),
  })
  .strict();

export const SessionInputSchema = SessionRequestSchema.extend({
  autoApprove: z.boolean().default(false),
  review: ReviewPolicySchema.default({ timeout: DEFAULT_REVIEW_TIMEOUT_MS, onTimeout: 'stop' }),
  /** Who asked for the session (an API token's name, an operator). */
  requestedBy: nameSchema.optional(),
  /** The API tenant that owns it. */
  tenant: nameSchema.optional(),
  timing: SessionTimingOverridesSchema.optional(),
}).strict();
/** What callers pass (durations as text allowed, defaults optional). */
export type SessionInput = z.input<typeof SessionInputSchema>;
/** What the workflow works with after validation. */
export type ParsedSessionInput = z.output<typeof SessionInputSchema>;

// ---------------------------------------------------------------------------------------------------
// Signals and the update

export const ApproveSignalSchema = z.object({
  /** Makes the signal idempotent: a second signal with the same id is a no-op. */
  requestId: requestIdSchema.optional(),
  by: nameSchema.optional(),
  /** Sent to HeyGen with the approval; a default approval text otherwise. */
  message: z.string().min(1).max(LIMITS.message).optional().meta({ description: 'Sent to HeyGen with the approval.' }),
});
export type ApproveSignal = z.infer<typeof ApproveSignalSchema>;

export const SendMessageSignalSchema = z.object({
  requestId: requestIdSchema.optional(),
  by: nameSchema.optional(),
  message: z.string().min(1).max(LIMITS.message),
  avatarId: nameSchema.optional(),
  voiceId: nameSchema.optional(),
  files: z.array(SessionFileSchema).max(LIMITS.files).optional(),
});
export type SendMessageSignal = z.infer<typeof SendMessageSignalSchema>;

export const HeygenEventSignalSchema = z
  .object({ eventType: z.string().max(LIMITS.eventType).optional(), eventId: z.string().max(LIMITS.eventId).optional() })
  .optional();
export type HeygenEventSignal = z.infer<typeof HeygenEventSignalSchema>;

export const DecisionOutcomeInputSchema = z.object({ requestId: requestIdSchema }).strict();
export type DecisionOutcomeInput = z.infer<typeof DecisionOutcomeInputSchema>;
