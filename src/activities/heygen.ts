/**
 * The session workflow's activities: one short HeyGen call each, made through the typed client.
 *
 * They turn {@link HeyGenApiError}s into Temporal failures that say whether to retry: refused requests
 * are non-retryable (401/402/403 as `HeyGenAccessDenied`, so the session fails fast), 429s wait for
 * `Retry-After`, and an ambiguous create or message is repeated only with the same Idempotency-Key
 * (derived from the workflow id, so every retry carries it). Results are trimmed to what the workflow
 * needs: they are stored in workflow history.
 *
 * The HeyGen key lives in the client given to {@link createHeyGenActivities}; it never passes through
 * an activity's arguments or results.
 */
import { activityInfo, Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { HeyGenClient } from '../heygen/client';
import { HeyGenApiError } from '../heygen/errors';
import type { FileInput, Resource, Session, Video } from '../contract/heygen';
import type { Logger } from '../logging';
import { HEYGEN_FAILURE } from '../contract/failures';
import type { ResourceInfo, SessionFile, VideoInfo } from '../contract/session';
import { countHeyGenRetry, countingRetries } from './heygen-metrics';

/** Message text is cut to this in workflow history (prompts can be 10,000 characters). */
export const MESSAGE_CONTENT_LIMIT = 2_000;

export interface HeyGenActivityDeps {
  heygen: HeyGenClient;
  /** Our webhook receiver, sent as `callback_url` so HeyGen can wake the workflow. */
  callbackUrl?: string;
  logger: Logger;
}

export interface CreateSessionInput {
  prompt: string;
  avatarId?: string;
  voiceId?: string;
  orientation?: 'landscape' | 'portrait';
  files?: SessionFile[];
  autoProceed: boolean;
  /** Echoed in webhooks: the workflow id. */
  callbackId: string;
  idempotencyKey: string;
}

export interface CreatedSession {
  sessionId: string;
  status: string;
  videoId: string | null;
  /** Whether HeyGen was given our webhook (`callback_url`), so it calls back when the render ends. */
  callsBack?: boolean;
}

export interface SnapshotMessage {
  role: string;
  type: string;
  content: string;
  /** Unix seconds. */
  createdAt: number | null;
  resourceIds: string[];
}

export interface SessionSnapshot {
  status: string;
  progress: number;
  title: string | null;
  videoId: string | null;
  /** Messages at or after `messagesSince` (unix seconds), oldest first. */
  messages: SnapshotMessage[];
}

/** How a follow spaces its reads (ms). */
export interface FollowSchedule {
  /** The first wait; each read multiplies it by `backoff`, up to `max`. */
  initial: number;
  backoff: number;
  max: number;
  /**
   * The progress at which the stretch ends, to pace the reads by (null: back off only). Once the
   * progress is seen rising, the next read comes when the pace says it gets there, within `initial` and
   * `max`, so the end is read soon after it comes (at most `initial` after, when the pace holds) and the
   * stretch before costs few reads. Past the mark with nothing new, the pace says nothing: back off.
   */
  paceToward: number | null;
}

/** A progress reading: when (ms) and how far (0-100). */
export interface ProgressSample {
  at: number;
  progress: number;
}

export interface FollowInput {
  sessionId: string;
  /** Unix seconds: messages at or after it are returned (see {@link SessionSnapshot}). */
  messagesSince: number;
  /** Model messages the workflow already has from the second `messagesSince`. */
  modelMessagesAtCursor: number;
  /** Statuses that mean "nothing new yet": any other status ends the follow. */
  quietStatuses: string[];
  /** HeyGen's status as the workflow last saw it: a change from it into a pause ends the follow too. */
  lastStatus: string;
  /** A rise of the progress by this much over `reportedProgress` ends the follow (so readers see it). */
  progressStep: number;
  reportedProgress: number;
  /** Ms since the epoch: the follow returns its last read by then. */
  until: number;
  /** Read at once (after a webhook, or a retry) rather than after the first wait. */
  readFirst: boolean;
  schedule: FollowSchedule;
  /** Where the last follow of this stretch left off, so the pace carries on. */
  interval?: number;
  pace?: ProgressSample;
  last?: ProgressSample;
}

export interface FollowResult {
  snapshot: SessionSnapshot;
  /** HeyGen reads made by this follow. */
  reads: number;
  /** Every status those reads saw, in order of first sight. */
  statusesSeen: string[];
  interval: number;
  /** The first reading of the stretch, and the last. */
  pace: ProgressSample | null;
  last: ProgressSample;
}

/** One storyboard resource as read: ready, or why not (`transient`: it may still come). */
export type ResourceRead = { resourceId: string; resource: ResourceInfo } | { resourceId: string; error: string; transient: boolean };

export interface SendMessageInput {
  sessionId: string;
  message: string;
  autoProceed: boolean;
  avatarId?: string;
  voiceId?: string;
  files?: SessionFile[];
  idempotencyKey: string;
  /**
   * When the first attempt to send this decision was made (ms), if an earlier activity already tried:
   * HeyGen may have it, so it is checked first.
   */
  firstAttemptAt?: number;
}

export interface VideoDetails extends VideoInfo {
  failureCode: string | null;
  failureMessage: string | null;
}

function toHeyGenFiles(files: SessionFile[] | undefined): FileInput[] | undefined {
  return files?.map((file) => {
    switch (file.type) {
      case 'asset_id':
        return { type: 'asset_id', asset_id: file.assetId };
      case 'url':
        return { type: 'url', url: file.url };
      case 'base64':
        return { type: 'base64', media_type: file.mediaType, data: file.data };
    }
  });
}

/** The Temporal failure a HeyGen error becomes. */
export function toActivityFailure(error: unknown): unknown {
  if (!(error instanceof HeyGenApiError)) return error;
  const details = [error.toJSON()];
  if (error.retry === 'not_retryable') {
    const denied = error.status === 401 || error.status === 402 || error.status === 403;
    return ApplicationFailure.create({
      type: denied ? HEYGEN_FAILURE.accessDenied : HEYGEN_FAILURE.rejected,
      message: error.message,
      nonRetryable: true,
      details,
    });
  }
  // An ambiguous write is safe to repeat only because every create and message carries its key.
  const repeatable = error.retry === 'retryable' || error.idempotencyKey !== undefined;
  return ApplicationFailure.create({
    type: HEYGEN_FAILURE.unavailable,
    message: error.message,
    nonRetryable: !repeatable,
    nextRetryDelay: error.retryAfterMs,
    details,
  });
}

/**
 * Runs a HeyGen call while heartbeating, so a worker that dies mid-call is noticed within the heartbeat
 * timeout rather than the start-to-close timeout, and passes the activity's cancellation to the request.
 */
async function heygenCall<T>(call: (signal: AbortSignal) => Promise<T>, options: { finishWhenCancelled?: boolean } = {}): Promise<T> {
  const context = Context.current();
  // At most every 10 s: a long heartbeat timeout (SESSION_TIMING allows 365 d) would otherwise overflow
  // setInterval's 24.8-day limit, which Node turns into 1 ms.
  const heartbeatEvery = context.info.heartbeatTimeoutMs ? Math.min(Math.max(200, context.info.heartbeatTimeoutMs / 3), 10_000) : undefined;
  const timer = heartbeatEvery ? setInterval(() => context.heartbeat(), heartbeatEvery) : undefined;
  try {
    return await call(options.finishWhenCancelled ? new AbortController().signal : context.cancellationSignal);
  } catch (error) {
    throw toActivityFailure(error);
  } finally {
    if (timer) clearInterval(timer);
  }
}

function toSnapshotMessage(message: Session['messages'][number]): SnapshotMessage {
  return {
    role: message.role,
    type: message.type,
    content: message.content.length > MESSAGE_CONTENT_LIMIT ? `${message.content.slice(0, MESSAGE_CONTENT_LIMIT - 1)}…` : message.content,
    createdAt: message.created_at,
    resourceIds: message.resource_ids ?? [],
  };
}

function toResourceInfo(resource: Resource): ResourceInfo {
  return {
    resourceId: resource.resource_id,
    status: 'ready',
    type: resource.resource_type,
    url: resource.url,
    thumbnailUrl: resource.thumbnail_url,
    previewUrl: resource.preview_url,
    note: null,
  };
}

export function toVideoDetails(video: Video): VideoDetails {
  return {
    videoId: video.id,
    status: video.status,
    title: video.title,
    url: video.video_url,
    thumbnailUrl: video.thumbnail_url,
    captionedUrl: video.captioned_video_url,
    subtitleUrl: video.subtitle_url,
    durationSeconds: video.duration,
    completedAt: video.completed_at === null ? null : new Date(video.completed_at * 1000).toISOString(),
    failureCode: video.failure_code,
    failureMessage: video.failure_message,
  };
}

/** Resource reads that fail for a passing reason are tried this often in all before the image is left `loading`. */
const RESOURCE_READ_ATTEMPTS = 3;

function toSessionSnapshot(session: Session, since: number): SessionSnapshot {
  return {
    status: session.status,
    progress: session.progress,
    title: session.title,
    videoId: session.video_id,
    messages: session.messages
      .filter((message) => message.created_at === null || message.created_at >= since)
      .reverse()
      .map(toSnapshotMessage),
  };
}

const WORKING_STATUSES = ['thinking', 'generating'];

/** Whether a read says something the workflow must act on or show. */
function followEnds(input: FollowInput, session: Session, previousStatus: string): boolean {
  if (!input.quietStatuses.includes(session.status)) return true;
  if (session.status !== previousStatus && !WORKING_STATUSES.includes(session.status)) return true;
  if (session.progress >= input.reportedProgress + input.progressStep) return true;
  const model = session.messages.filter((m) => m.role === 'model' && m.created_at !== null);
  if (model.some((m) => m.created_at! > input.messagesSince)) return true;
  return model.filter((m) => m.created_at === input.messagesSince).length > input.modelMessagesAtCursor;
}

/** The wait after a reading: backing off, or, once the progress rises, until the pace says it reaches the stretch's end. */
export function nextFollowWait(schedule: FollowSchedule, interval: number, pace: ProgressSample | null | undefined, latest: ProgressSample): number {
  // `?? null`: a follow scheduled before this field existed only backs off.
  const end = schedule.paceToward ?? null;
  if (end === null || !pace || latest.progress <= pace.progress || latest.at <= pace.at || latest.progress >= end) return interval;
  const perMs = (latest.progress - pace.progress) / (latest.at - pace.at);
  return Math.min(Math.max((end - latest.progress) / perMs, schedule.initial), schedule.max);
}

function describeReadError(error: unknown): { error: string; transient: boolean } {
  if (error instanceof HeyGenApiError) return { error: error.message, transient: error.retry !== 'not_retryable' };
  return { error: error instanceof Error ? error.message : String(error), transient: true };
}

export function createHeyGenActivities({ heygen, callbackUrl, logger }: HeyGenActivityDeps) {
  return countingRetries({
    /** `POST /v3/video-agents` in chat mode, idempotent by key. */
    async createHeyGenSession(input: CreateSessionInput): Promise<CreatedSession> {
      const created = await heygenCall((signal) =>
        heygen.createSession(
          {
            prompt: input.prompt,
            mode: 'chat',
            avatar_id: input.avatarId,
            voice_id: input.voiceId,
            orientation: input.orientation,
            files: toHeyGenFiles(input.files),
            auto_proceed: input.autoProceed || undefined,
            callback_url: callbackUrl,
            callback_id: input.callbackId,
          },
          { idempotencyKey: input.idempotencyKey, signal },
        ),
        // A create cut short may still have made a session: it finishes, so its answer says whether it did
        // (the workflow then stops a session made after it was cancelled).
        { finishWhenCancelled: true },
      );
      logger.info({ sessionId: created.session_id, callbackId: input.callbackId, attempt: activityInfo().attempt }, 'HeyGen session created');
      return { sessionId: created.session_id, status: created.status, videoId: created.video_id, callsBack: callbackUrl !== undefined };
    },

    /** `GET /v3/video-agents/{id}`, keeping only messages at or after `messagesSince`. */
    async getHeyGenSession(input: { sessionId: string; messagesSince?: number }): Promise<SessionSnapshot> {
      const session = await heygenCall((signal) => heygen.getSession(input.sessionId, { signal }));
      return toSessionSnapshot(session, input.messagesSince ?? 0);
    },

    /**
     * Follows a session while HeyGen works: reads its status on a backing-off schedule (paced by the
     * progress toward 100 once it rises) and returns at the first read worth the workflow's attention, or by
     * `until`. The reads between cost no workflow history; the heartbeat carries the activity through
     * the waits, and a cancellation (a webhook said to look now) ends a wait at once.
     */
    async followHeyGenSession(input: FollowInput): Promise<FollowResult> {
      const context = Context.current();
      const retried = activityInfo().attempt > 1;
      let interval = input.interval ?? input.schedule.initial;
      let pace = input.pace ?? null;
      let reads = 0;
      let previousStatus = input.lastStatus;
      const statusesSeen = new Set<string>();
      return heygenCall(async (signal) => {
        if (!input.readFirst && !retried) {
          const wait = input.last ? nextFollowWait(input.schedule, interval, pace, input.last) - (Date.now() - input.last.at) : interval;
          await context.sleep(Math.min(Math.max(wait, 0), Math.max(input.until - Date.now(), 0)));
        }
        for (;;) {
          const session = await heygen.getSession(input.sessionId, { signal });
          reads++;
          statusesSeen.add(session.status);
          const latest = { at: Date.now(), progress: session.progress };
          pace ??= latest;
          if (followEnds(input, session, previousStatus) || Date.now() >= input.until) {
            return { snapshot: toSessionSnapshot(session, input.messagesSince), reads, statusesSeen: [...statusesSeen], interval, pace, last: latest };
          }
          previousStatus = session.status;
          const wait = nextFollowWait(input.schedule, interval, pace, latest);
          interval = Math.min(interval * input.schedule.backoff, input.schedule.max);
          await context.sleep(Math.min(wait, Math.max(input.until - Date.now(), 0)));
        }
      });
    },

    /**
     * A checkpoint's storyboard resources in one activity. Each is read on its own, a passing failure
     * tried again a couple of times; what still fails is reported per resource, never thrown, so one bad
     * image never holds up the rest.
     */
    async getHeyGenResources(input: { sessionId: string; resourceIds: string[] }): Promise<ResourceRead[]> {
      const context = Context.current();
      return heygenCall((signal) =>
        Promise.all(
          input.resourceIds.map(async (resourceId): Promise<ResourceRead> => {
            for (let attempt = 1; ; attempt++) {
              try {
                return { resourceId, resource: toResourceInfo(await heygen.getResource(input.sessionId, resourceId, { signal })) };
              } catch (error) {
                const failure = describeReadError(error);
                if (!failure.transient || attempt >= RESOURCE_READ_ATTEMPTS || signal.aborted) return { resourceId, ...failure };
                const retryAfter = error instanceof HeyGenApiError ? error.retryAfterMs : undefined;
                await context.sleep(Math.min(retryAfter ?? 1_000 * 2 ** (attempt - 1), 5_000));
                countHeyGenRetry();
              }
            }
          }),
        ),
      );
    },

    /**
     * `POST /v3/video-agents/{id}` with the message's Idempotency-Key. A retry first checks whether
     * HeyGen already has the message (an earlier attempt may have landed before the worker died), so the
     * message reaches HeyGen once even where HeyGen would not honour the key.
     */
    async sendHeyGenMessage(input: SendMessageInput): Promise<{ runId: string | null; alreadyDelivered: boolean }> {
      const info = activityInfo();
      if (info.attempt > 1 || input.firstAttemptAt !== undefined) {
        const session = await heygenCall((signal) => heygen.getSession(input.sessionId, { signal }));
        const sentAfter = Math.floor((input.firstAttemptAt ?? info.scheduledTimestampMs) / 1000) - 5;
        const delivered = session.messages.some(
          (m) => m.role === 'user' && m.content === input.message && (m.created_at === null || m.created_at >= sentAfter),
        );
        if (delivered) {
          logger.info({ sessionId: input.sessionId, attempt: info.attempt }, 'HeyGen already has this message; not sending it again');
          return { runId: null, alreadyDelivered: true };
        }
      }
      const sent = await heygenCall((signal) =>
        heygen.sendMessage(
          input.sessionId,
          {
            message: input.message,
            auto_proceed: input.autoProceed || undefined,
            avatar_id: input.avatarId,
            voice_id: input.voiceId,
            files: toHeyGenFiles(input.files),
          },
          { idempotencyKey: input.idempotencyKey, signal },
        ),
        // A create cut short may still have made a session: it finishes, so its answer says whether it did
        // (the workflow then stops a session made after it was cancelled).
        { finishWhenCancelled: true },
      );
      return { runId: sent.run_id, alreadyDelivered: false };
    },

    /** One storyboard resource (each image is its own retried read, so one bad image never holds up the rest). */
    async getHeyGenResource(input: { sessionId: string; resourceId: string }): Promise<ResourceInfo> {
      return toResourceInfo(await heygenCall((signal) => heygen.getResource(input.sessionId, input.resourceId, { signal })));
    },

    /** `POST .../stop`. A session HeyGen no longer knows or has already finished counts as stopped. */
    async stopHeyGenSession(sessionId: string): Promise<{ stopped: boolean; reason?: string }> {
      try {
        await heygenCall((signal) => heygen.stopSession(sessionId, { signal }));
        logger.info({ sessionId }, 'HeyGen session stopped');
        return { stopped: true };
      } catch (error) {
        if (error instanceof ApplicationFailure && error.type === HEYGEN_FAILURE.rejected) {
          logger.warn({ sessionId, reason: error.message }, 'HeyGen refused the stop; treating the session as stopped');
          return { stopped: false, reason: error.message };
        }
        throw error;
      }
    },

    /** `GET /v3/videos/{id}`. */
    async getHeyGenVideo(videoId: string): Promise<VideoDetails> {
      return toVideoDetails(await heygenCall((signal) => heygen.getVideo(videoId, { signal })));
    },

    /** `GET /v3/video-agents/{id}/videos`: ids, newest first. */
    async listHeyGenSessionVideos(sessionId: string): Promise<string[]> {
      const page = await heygenCall((signal) => heygen.listSessionVideos(sessionId, { signal }));
      return page.items.map((video) => video.id);
    },
  });
}

export type HeyGenActivities = ReturnType<typeof createHeyGenActivities>;
