/**
 * Renders simulator state as HeyGen's v3 JSON: every documented field present (null when unknown),
 * nothing undocumented, timestamps in unix seconds, messages newest-first.
 */
import type {
  CreateSessionResponse,
  DeleteVideoResponse,
  KnownVideoBatchStatus,
  Resource,
  Session,
  SessionSummary,
  Video,
  VideoAgentStyle,
  VideoStatusItem,
} from '../contract/heygen';
import type { MediaUrls } from './media';
import { MESSAGE_WINDOW, type SessionStore, type SimResource, type SimSession, type SimVideo } from './store';
import type { SimStyle } from './styles';

const seconds = (ms: number) => Math.floor(ms / 1000);

export function createResponseWire(session: SimSession): CreateSessionResponse {
  return { session_id: session.id, status: session.status, video_id: session.currentVideoId, created_at: seconds(session.createdAtMs) };
}

/** The status as reported: the real one, or the drifted name a scenario asks for while thinking. */
function reportedStatus(session: SimSession): string {
  return session.status === 'thinking' && session.scenario.unknownStatus ? session.scenario.unknownStatus : session.status;
}

export function sessionWire(store: SessionStore, session: SimSession): Session {
  return {
    session_id: session.id,
    status: reportedStatus(session),
    progress: store.progressOf(session),
    title: session.title,
    video_id: session.currentVideoId,
    created_at: seconds(session.createdAtMs),
    messages: session.messages
      .slice(-MESSAGE_WINDOW)
      .reverse()
      .map((message) => ({
        role: message.role,
        content: message.content,
        type: message.type,
        created_at: seconds(message.createdAtMs),
        resource_ids: message.resourceIds,
      })),
  };
}

export function sessionSummaryWire(session: SimSession): SessionSummary {
  return { session_id: session.id, created_at: seconds(session.createdAtMs), title: session.title };
}

export const videoPaths = (id: string) => ({
  video: `/media/videos/${id}/video.mp4`,
  captioned: `/media/videos/${id}/captioned.mp4`,
  subtitles: `/media/videos/${id}/subtitles.srt`,
  thumbnail: `/media/videos/${id}/thumbnail.png`,
});

export const resourcePaths = (id: string) => ({
  image: `/media/resources/${id}/image.png`,
  thumbnail: `/media/resources/${id}/thumbnail.png`,
});

export function videoWire(store: SessionStore, video: SimVideo, urls: MediaUrls): Video {
  const status = store.videoStatusOf(video);
  const completed = status === 'completed';
  const failed = status === 'failed';
  const paths = videoPaths(video.id);
  return {
    id: video.id,
    status,
    title: video.title,
    created_at: seconds(video.createdAtMs),
    completed_at: completed ? seconds(video.final!.atMs) : null,
    video_url: completed ? urls.sign(paths.video) : null,
    captioned_video_url: completed ? urls.sign(paths.captioned) : null,
    subtitle_url: completed ? urls.sign(paths.subtitles) : null,
    thumbnail_url: completed ? urls.sign(paths.thumbnail) : null,
    gif_url: null,
    duration: completed ? video.durationSeconds : null,
    folder_id: null,
    output_language: null,
    failure_code: failed ? video.final!.failureCode : null,
    failure_message: failed ? video.final!.failureMessage : null,
    video_page_url: null,
  };
}

export function resourceWire(store: SessionStore, resource: SimResource, urls: MediaUrls): Resource {
  if (resource.kind === 'video') {
    const video = store.findVideo(resource.videoId!);
    const ready = video !== undefined && store.videoStatusOf(video) === 'completed';
    return {
      resource_id: resource.id,
      resource_type: 'video',
      source_type: 'generated',
      url: ready ? urls.sign(videoPaths(video.id).video) : null,
      thumbnail_url: ready ? urls.sign(videoPaths(video.id).thumbnail) : null,
      preview_url: null,
      created_at: seconds(resource.createdAtMs),
      metadata: resource.metadata,
    };
  }
  const paths = resourcePaths(resource.id);
  return {
    resource_id: resource.id,
    resource_type: 'image',
    source_type: 'generated',
    url: urls.sign(paths.image),
    thumbnail_url: urls.sign(paths.thumbnail),
    preview_url: null,
    created_at: seconds(resource.createdAtMs),
    metadata: resource.metadata,
  };
}

export function deleteVideoWire(video: SimVideo): DeleteVideoResponse {
  return { id: video.id, deleted: true };
}

/** The bulk endpoint speaks the legacy v1 status names: v3's `pending` is `queued` there. */
const BATCH_STATUS: Record<ReturnType<SessionStore['videoStatusOf']>, KnownVideoBatchStatus> = {
  pending: 'queued',
  processing: 'processing',
  completed: 'completed',
  failed: 'failed',
};

/** A `GET /v3/videos/statuses` item for a video id: `not_found` when unknown, deleted or another key's. */
export function videoStatusItemWire(store: SessionStore, videoId: string, video: SimVideo | undefined): VideoStatusItem {
  if (!video) return { video_id: videoId, status: 'not_found', error: null, batch_id: null, item_index: null };
  const status = BATCH_STATUS[store.videoStatusOf(video)];
  const { failureCode, failureMessage } = video.final ?? {};
  // A failure without any reason (fail=silent) has no error object either.
  const error = status === 'failed' && (failureCode || failureMessage) ? { code: failureCode ?? null, message: failureMessage ?? null } : null;
  return { video_id: video.id, status, error, batch_id: null, item_index: null };
}

/** A `GET /v3/videos/statuses` item for a batch id: the simulator creates no batches, so none is found. */
export function unknownBatchItemWire(batchId: string): VideoStatusItem {
  return { video_id: null, status: 'not_found', error: null, batch_id: batchId, item_index: null };
}

export const stylePaths = (id: string) => ({
  preview: `/media/styles/${id}/preview.mp4`,
  thumbnail: `/media/styles/${id}/thumbnail.png`,
});

export function styleWire(style: SimStyle, urls: MediaUrls): VideoAgentStyle {
  const paths = stylePaths(style.id);
  return {
    style_id: style.id,
    name: style.name,
    aspect_ratio: style.aspectRatio,
    preview_video_url: urls.sign(paths.preview),
    thumbnail_url: urls.sign(paths.thumbnail),
    tags: style.tags,
  };
}
