/**
 * The session's state (the `state` query, the result) as zod schemas: what the API and tools validate
 * and document. Apart from the rest of the contract because the workflow needs only their types: a
 * schema the workflow imports is built again for every workflow a worker keeps in memory.
 */
import { z } from 'zod';
import { ARCHIVE_FILES, NOTIFY_EVENTS, PHASES } from './session';

/** One notification and how its delivery went: in the session's state, so callers and operators see it. */
export const NotificationDeliverySchema = z.object({
  /** Stable across retries (`webhook-id`): receivers dedupe on it. */
  id: z.string(),
  event: z.enum(NOTIFY_EVENTS),
  createdAt: z.string(),
  /** `superseded`: dropped unsent once a newer notification of the session waited, or the session ended (docs/api.md). */
  outcome: z.enum(['pending', 'delivered', 'failed', 'superseded']),
  attempts: z.number().int(),
  /** The receiver's last HTTP status (null: no answer). */
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
});
export type NotificationDelivery = z.infer<typeof NotificationDeliverySchema>;

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
  kind: z.enum(['approve', 'message', 'review_timeout', 'reapprove', 'stop', 'retry_archive']),
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

/** One archived file of the finished video: where it is, and what it is (to check a copy against). */
export const ArchiveEntrySchema = z.object({
  file: z.enum(ARCHIVE_FILES),
  /** `local`: under ARCHIVE_DIR; `s3`: in ARCHIVE_S3_BUCKET. */
  store: z.enum(['local', 's3']),
  /** `<session id>/<name>`, e.g. `session-…/video.mp4`. */
  key: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  contentType: z.string(),
  archivedAt: z.string(),
});
export type ArchiveEntry = z.infer<typeof ArchiveEntrySchema>;

/** Our copy of the finished video (null until the session has one to archive). */
export const ArchiveStateSchema = z.object({
  /** `off`: archival is turned off (ARCHIVE=off) and nothing was copied. */
  status: z.enum(['archiving', 'archived', 'failed', 'off']),
  /** Files archived so far, in ARCHIVE_FILES order. */
  entries: z.array(ArchiveEntrySchema),
  /** Files HeyGen has none of for this video (e.g. no GIF). */
  notOffered: z.array(z.enum(ARCHIVE_FILES)),
  /** Why the last attempt failed (phase `archive_failed`). */
  error: z.string().nullable(),
  /** Attempts so far (each a pass over the files still missing; `retryArchive` starts another). */
  attempts: z.number().int(),
  updatedAt: z.string(),
});
export type ArchiveState = z.infer<typeof ArchiveStateSchema>;

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
  /** Our copy of the video's files; null before the video is finished (and in sessions from before archival). */
  archive: ArchiveStateSchema.nullable().default(null),
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
  /** The ids of review links revoked one by one (`DELETE /v1/sessions/:id/review-links/:linkId`), at most 200. */
  revokedLinks: z.array(z.string()).default([]),
  createdAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().nullable(),
  /** Runs of this workflow so far (continue-as-new keeps the id, adds a run). */
  runs: z.number().int(),
});
export type SessionState = z.infer<typeof SessionStateSchema>;

export const SessionResultSchema = SessionStateSchema;
export type SessionResult = SessionState;
