/**
 * HeyGen Video Agent API v3 wire types: one definition shared by the client (which parses what HeyGen
 * sends) and the simulator (which validates what callers send and must emit exactly this shape).
 *
 * Sources: HeyGen's interactive-sessions page (the contract) and the API notes; docs/heygen-contract.md
 * maps every field to its source. Parsing is tolerant where the real API may drift: objects keep unknown
 * fields (`looseObject`) and statuses are open strings with known values listed beside them, so a new
 * status or field is surfaced, never a crash.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------------
// Enumerations (open on the response side)

/** Statuses of `GET /v3/video-agents/{id}`. HeyGen may add more: treat others as unknown, not fatal. */
export const SESSION_STATUSES = ['thinking', 'waiting_for_input', 'reviewing', 'generating', 'completed', 'failed'] as const;
export type KnownSessionStatus = (typeof SESSION_STATUSES)[number];
/** A session status: one of the known values, or a value HeyGen added later. */
export type SessionStatus = KnownSessionStatus | (string & {});

/** Statuses of `GET /v3/videos/{id}`. */
export const VIDEO_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const;
export type KnownVideoStatus = (typeof VIDEO_STATUSES)[number];
export type VideoStatus = KnownVideoStatus | (string & {});

export const MESSAGE_ROLES = ['user', 'model'] as const;
export const MESSAGE_TYPES = ['text', 'resource', 'error'] as const;
export const SESSION_MODES = ['generate', 'chat'] as const;
export const ORIENTATIONS = ['landscape', 'portrait'] as const;

export function isKnownSessionStatus(status: string): status is KnownSessionStatus {
  return (SESSION_STATUSES as readonly string[]).includes(status);
}
export function isKnownVideoStatus(status: string): status is KnownVideoStatus {
  return (VIDEO_STATUSES as readonly string[]).includes(status);
}

/** Terminal session statuses: nothing more happens without a new message. */
export const TERMINAL_SESSION_STATUSES: readonly KnownSessionStatus[] = ['completed', 'failed'];

// ---------------------------------------------------------------------------------------------------
// Requests (validated strictly by the simulator, built by the client)

export const PROMPT_MAX_LENGTH = 10_000;
export const MAX_FILES = 20;

/** One attachment: an uploaded asset, a public HTTPS URL, or inline base64. */
export const FileInputSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('asset_id'), asset_id: z.string().min(1) }),
  z.object({ type: z.literal('url'), url: z.url({ protocol: /^https?$/ }) }),
  z.object({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string().min(1) }),
]);
export type FileInput = z.infer<typeof FileInputSchema>;

const files = z.array(FileInputSchema).max(MAX_FILES, { error: `at most ${MAX_FILES} files` });
const optionalId = z.string().min(1).nullable().optional();

/** `POST /v3/video-agents`. */
export const CreateSessionRequestSchema = z.object({
  prompt: z.string().min(1).max(PROMPT_MAX_LENGTH),
  mode: z.enum(SESSION_MODES).nullable().optional(),
  avatar_id: optionalId,
  voice_id: optionalId,
  style_id: optionalId,
  brand_kit_id: optionalId,
  orientation: z.enum(ORIENTATIONS).nullable().optional(),
  files: files.nullable().optional(),
  /** Documented on the interactive-sessions page; later spec revisions dropped it (see api-notes). */
  auto_proceed: z.boolean().nullable().optional(),
  callback_url: z.url({ protocol: /^https?$/ }).nullable().optional(),
  callback_id: z.string().min(1).nullable().optional(),
  incognito_mode: z.boolean().nullable().optional(),
});
export type CreateSessionRequest = z.infer<typeof CreateSessionRequestSchema>;

/** `POST /v3/video-agents/{session_id}`: feedback, an answer, a revision request or an approval. */
export const SendMessageRequestSchema = z.object({
  message: z.string().min(1).max(PROMPT_MAX_LENGTH),
  avatar_id: optionalId,
  voice_id: optionalId,
  brand_kit_id: optionalId,
  files: files.nullable().optional(),
  auto_proceed: z.boolean().nullable().optional(),
});
export type SendMessageRequest = z.infer<typeof SendMessageRequestSchema>;

// ---------------------------------------------------------------------------------------------------
// Responses (parsed tolerantly by the client)

const unixSeconds = z.number();
const nullableString = z.string().nullable();

/** `data` of `POST /v3/video-agents`. */
export const CreateSessionResponseSchema = z.looseObject({
  session_id: z.string(),
  status: z.string(),
  video_id: nullableString.default(null),
  created_at: unixSeconds,
});
export type CreateSessionResponse = z.infer<typeof CreateSessionResponseSchema>;

export const SessionMessageSchema = z.looseObject({
  role: z.string(),
  content: z.string(),
  type: z.string(),
  created_at: unixSeconds.nullable().default(null),
  resource_ids: z.array(z.string()).nullable().default(null),
});
export type SessionMessage = z.infer<typeof SessionMessageSchema>;

/** `data` of `GET /v3/video-agents/{session_id}`. Messages are newest-first, at most 40. */
export const SessionSchema = z.looseObject({
  session_id: z.string(),
  status: z.string(),
  progress: z.number().default(0),
  title: nullableString.default(null),
  video_id: nullableString.default(null),
  created_at: unixSeconds,
  messages: z.array(SessionMessageSchema).default([]),
});
export type Session = z.infer<typeof SessionSchema>;

/** `data` of `POST /v3/video-agents/{session_id}`. */
export const SendMessageResponseSchema = z.looseObject({
  session_id: z.string(),
  run_id: z.string(),
  title: nullableString.default(null),
});
export type SendMessageResponse = z.infer<typeof SendMessageResponseSchema>;

/** `data` of `GET /v3/video-agents/{session_id}/resources/{resource_id}`. */
export const ResourceSchema = z.looseObject({
  resource_id: z.string(),
  resource_type: z.string(),
  source_type: nullableString.default(null),
  url: nullableString.default(null),
  thumbnail_url: nullableString.default(null),
  preview_url: nullableString.default(null),
  created_at: unixSeconds.nullable().default(null),
  metadata: z.record(z.string(), z.unknown()).nullable().default(null),
});
export type Resource = z.infer<typeof ResourceSchema>;

/** `data` of `POST /v3/video-agents/{session_id}/stop`. */
export const StopSessionResponseSchema = z.looseObject({ session_id: z.string() });
export type StopSessionResponse = z.infer<typeof StopSessionResponseSchema>;

/** `data` of `GET /v3/videos/{video_id}` (VideoDetail), also the items of a session's video list. */
export const VideoSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  title: nullableString.default(null),
  created_at: unixSeconds.nullable().default(null),
  completed_at: unixSeconds.nullable().default(null),
  video_url: nullableString.default(null),
  captioned_video_url: nullableString.default(null),
  subtitle_url: nullableString.default(null),
  thumbnail_url: nullableString.default(null),
  gif_url: nullableString.default(null),
  duration: z.number().nullable().default(null),
  folder_id: nullableString.default(null),
  output_language: nullableString.default(null),
  failure_code: nullableString.default(null),
  failure_message: nullableString.default(null),
  video_page_url: nullableString.default(null),
});
export type Video = z.infer<typeof VideoSchema>;

/** Items of `GET /v3/video-agents` (newest-first). */
export const SessionSummarySchema = z.looseObject({
  session_id: z.string(),
  created_at: unixSeconds,
  title: nullableString.default(null),
});
export type SessionSummary = z.infer<typeof SessionSummarySchema>;

/** `data` of `DELETE /v3/videos/{video_id}`. */
export const DeleteVideoResponseSchema = z.looseObject({
  id: z.string(),
  deleted: z.boolean().default(true),
});
export type DeleteVideoResponse = z.infer<typeof DeleteVideoResponseSchema>;

/** Statuses of `GET /v3/videos/statuses` (the legacy v1 names, plus `not_found` for unknown or unowned ids). */
export const VIDEO_BATCH_STATUSES = ['queued', 'processing', 'completed', 'failed', 'not_found'] as const;
export type KnownVideoBatchStatus = (typeof VIDEO_BATCH_STATUSES)[number];

/** Items of `GET /v3/videos/statuses`. `batch_id`/`item_index` are set for entries expanded from a batch. */
export const VideoStatusItemSchema = z.looseObject({
  video_id: nullableString.default(null),
  status: z.string(),
  /** Failure details when `failed`; the spec gives no fields (an open object). */
  error: z.record(z.string(), z.unknown()).nullable().default(null),
  batch_id: nullableString.optional(),
  item_index: z.number().int().nullable().optional(),
});
export type VideoStatusItem = z.infer<typeof VideoStatusItemSchema>;

/** Tags HeyGen documents for `GET /v3/video-agents/styles?tag=`. */
export const STYLE_TAGS = ['cinematic', 'retro-tech', 'iconic-artist', 'pop-culture', 'handmade', 'print'] as const;

/** Items of `GET /v3/video-agents/styles`: a curated visual template to pass as `style_id`. */
export const VideoAgentStyleSchema = z.looseObject({
  style_id: z.string(),
  name: z.string(),
  aspect_ratio: nullableString.optional(),
  preview_video_url: nullableString.optional(),
  thumbnail_url: nullableString.optional(),
  tags: z.array(z.string()).nullable().optional(),
});
export type VideoAgentStyle = z.infer<typeof VideoAgentStyleSchema>;

/** Success envelope: `{ "data": ... }`. */
export function dataEnvelope<T extends z.ZodType>(data: T) {
  return z.looseObject({ data });
}

/** List envelope: `{ "data": [...], "has_more": bool, "next_token": string | null }`. */
export function listEnvelope<T extends z.ZodType>(item: T) {
  return z.looseObject({
    data: z.array(item),
    has_more: z.boolean().default(false),
    next_token: nullableString.default(null),
  });
}

export interface Page<T> {
  items: T[];
  hasMore: boolean;
  nextToken: string | null;
}

/** v3 error envelope: `{ "error": { "code", "message", "param"?, "doc_url"? } }`. */
export const ErrorEnvelopeSchema = z.looseObject({
  error: z.looseObject({
    code: z.string(),
    message: z.string(),
    param: nullableString.optional(),
    doc_url: nullableString.optional(),
  }),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

// ---------------------------------------------------------------------------------------------------
// Webhooks

/** Event types a Video Agent session can produce (HeyGen's list has many more for other products). */
export const VIDEO_AGENT_EVENT_TYPES = ['video_agent.success', 'video_agent.fail'] as const;

/**
 * A webhook delivery body. No schema is published for `video_agent.*` payloads; third-party handlers
 * read `session_id`, `video_id`, `callback_id` and a failure text from `event_data`.
 */
export const WebhookEventSchema = z.looseObject({
  event_type: z.string(),
  event_data: z.looseObject({
    session_id: z.string().nullable().optional(),
    video_id: z.string().nullable().optional(),
    callback_id: z.string().nullable().optional(),
  }),
});
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;
