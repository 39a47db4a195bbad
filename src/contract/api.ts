/**
 * The HTTP API's wire types (camelCase JSON). Request bodies, queries and responses are declared here
 * once; Fastify validates with them and the OpenAPI document at /openapi.json is generated from them.
 */
import { z } from 'zod';
import { ARCHIVE_FILES, PHASES, REVIEW_LINK_ID } from './session';
import { ApproveSignalSchema, DurationSchema, SendMessageSignalSchema, SessionRequestSchema } from './session-schemas';
import { ArchiveStateSchema, SessionStateSchema, VideoInfoSchema } from './session-state';

export const SessionIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:-]+$/, { error: 'session ids are made of A-Z a-z 0-9 . _ : -' })
  .meta({ description: 'The session id (the Temporal workflow id).' });

export const SessionParamsSchema = z.object({ id: SessionIdSchema });

/** The workflow's own request schema: the API accepts exactly what the workflow would. */
export const CreateSessionBodySchema = SessionRequestSchema;
export type CreateSessionBody = z.infer<typeof CreateSessionBodySchema>;

export const SessionLinksSchema = z.object({
  self: z.string(),
  approve: z.string(),
  messages: z.string(),
  stop: z.string(),
  video: z.string(),
});

export const CreateSessionResponseSchema = z.object({
  id: SessionIdSchema,
  status: z.enum(PHASES),
  links: SessionLinksSchema,
});

export const SessionViewSchema = SessionStateSchema.meta({ id: 'Session', description: 'The session snapshot (the workflow\'s state).' });

export const ListSessionsQuerySchema = z.object({
  status: z.enum(PHASES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2_000).optional(),
});

export const SessionSummarySchema = z.object({
  id: z.string(),
  status: z.string().nullable().meta({ description: 'The session phase (VideoAgentStatus).' }),
  heygenSessionId: z.string().nullable(),
  promptSummary: z.string().nullable(),
  requestedBy: z.string().nullable(),
  workflowStatus: z.string().meta({ description: "Temporal's own status: RUNNING, COMPLETED, FAILED, CANCELLED, ..." }),
  createdAt: z.string(),
  closedAt: z.string().nullable(),
});

export const ListSessionsResponseSchema = z.object({
  sessions: z.array(SessionSummarySchema),
  nextCursor: z.string().nullable(),
});

// Decisions: the signals' own fields (the API adds the request id and who sent it).
export const ApproveBodySchema = ApproveSignalSchema.pick({ message: true }).strict();

export const MessageBodySchema = SendMessageSignalSchema.pick({ message: true, avatarId: true, voiceId: true, files: true }).strict();

export const DecisionAcceptedSchema = z.object({
  id: z.string(),
  requestId: z.string(),
  status: z.literal('accepted').meta({ description: 'Queued durably; the session will act on it when a worker runs.' }),
});

/** `POST /v1/sessions/:id/review-links`: a signed, expiring link to the review page of one session. */
export const REVIEW_LINK_MAX_MS = 30 * 24 * 3_600_000;
export const ReviewLinkBodySchema = z
  .object({
    name: z
      .string()
      .regex(/^[\p{L}\p{N} ._@'-]{1,64}$/u, { error: "names are 1-64 letters, digits, spaces and . _ @ ' -" })
      .optional()
      .meta({ description: "Who reviews with it, recorded as `link:<name>` on the decisions sent with it (default: the minting token's name)." }),
    expiresIn: DurationSchema.optional().meta({ description: 'How long the link works: 30s, 15m, 48h, 7d or milliseconds (default 7d, at most 30d).' }),
  })
  .strict()
  .refine((body) => body.expiresIn === undefined || body.expiresIn <= REVIEW_LINK_MAX_MS, { error: 'expected at most 30d', path: ['expiresIn'] });

export const ReviewLinkResponseSchema = z.object({
  id: z.string().meta({ description: 'Names the link to revoke it alone (`DELETE /v1/sessions/:id/review-links/:linkId`).' }),
  url: z.string().meta({ description: 'The review page, with the credential in the fragment (never sent to a server by browsers).' }),
  name: z.string().meta({ description: 'Recorded as `by` on what is sent with the link.' }),
  expiresAt: z.string(),
});

/** `DELETE /v1/sessions/:id/review-links/:linkId`. */
export const RevokeLinkParamsSchema = z.object({
  id: SessionIdSchema,
  linkId: z.string().regex(REVIEW_LINK_ID, { error: 'expected a review link id (rl_ and 22 characters), as minting answered it' }),
});
export const RevokeLinkResponseSchema = z.object({ sessionId: z.string(), linkId: z.string(), status: z.literal('revoked') });

export const StopResponseSchema = z.object({ id: z.string(), status: z.enum(['stopping', 'finished']) });

/** The video as HeyGen gave it (its URLs expire), and our archive of its files (null before archival, or in sessions from before it). */
export const VideoResponseSchema = VideoInfoSchema.extend({ sessionId: z.string(), archive: ArchiveStateSchema.nullable() });

/** Which archived file `GET /v1/sessions/:id/video/content` serves. */
export const VideoContentQuerySchema = z.object({ file: z.enum(ARCHIVE_FILES).default('video') }).strict();

export const ErrorResponseSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      requestId: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

export const HealthSchema = z.object({ ok: z.boolean() });
export const WebhookAckSchema = z.object({ received: z.boolean() });

export const CapacitySessionSchema = z.object({
  id: z.string(),
  tenant: z.string().nullable(),
  /** Holders: when the slot was granted; waiters: when the session asked. */
  since: z.string(),
  /** The session phase, for holders (a parked holder is `reviewing` or `waiting_for_input`). */
  phase: z.string().nullable(),
  /** Waiters: 1 = next. */
  position: z.number().int().nullable(),
});

export const CapacityResponseSchema = z
  .object({
    accounts: z.array(
      z.object({
        account: z.string().meta({ description: 'A fingerprint of the HeyGen API key and base URL.' }),
        limit: z.number().int(),
        inUse: z.number().int(),
        queued: z.number().int(),
        /** Of these, the ones parked at a checkpoint hold a slot while they wait for a person. */
        parkedHolders: z.number().int(),
        holders: z.array(CapacitySessionSchema),
        waiting: z.array(CapacitySessionSchema),
        /** Holders and waiters of other tenants, counted but not listed. */
        otherTenants: z.object({ holders: z.number().int(), waiting: z.number().int() }),
      }),
    ),
  })
  .meta({ id: 'Capacity', description: "The HeyGen job slots: who holds them (parked sessions included) and who waits." });
