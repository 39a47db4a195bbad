/**
 * Renders simulator state as HeyGen's v3 JSON: every documented field present (null when unknown),
 * nothing undocumented, timestamps in unix seconds, messages newest-first.
 */
import type { CreateSessionResponse, Resource, Session, SessionSummary, Video } from '../heygen/schemas';
import type { MediaUrls } from './media';
import { MESSAGE_WINDOW, type SessionStore, type SimResource, type SimSession, type SimVideo } from './store';

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
