/**
 * Archiving a finished video's files to our own storage, one activity per file: HeyGen's URLs are
 * presigned and expire, so the file, not the link, is what a session keeps.
 *
 * Right before downloading, the video is read again for fresh URLs (and again when the download is
 * refused mid-way with a 403 or 404). Each attempt downloads into a staging file of its own, heartbeating
 * its progress; a retry resumes from a copy of what an earlier attempt staged on this machine, with a
 * `Range` request, so a crash costs no second full copy. A stalled attempt that wakes after its retry
 * began writes only into its own file, which nobody publishes (store.ts, staging.ts). The file becomes
 * visible in storage only once complete: checked against the announced length, hashed from the bytes on
 * disk, published only where nothing is yet, and the published object checked against that hash before
 * the attempt reports it.
 */
import { createWriteStream } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Video } from '../contract/heygen';
import { ARCHIVE_FAILURE } from '../contract/failures';
import type { ArchiveEntry, ArchiveFile } from '../contract/session';
import type { HeyGenClient } from '../heygen/client';
import type { Logger } from '../logging';
import { toActivityFailure } from './heygen';
import type { ArchiveStore } from '../archive/store';

export interface ArchiveActivityDeps {
  heygen: HeyGenClient;
  /** Null: archival is off (ARCHIVE=off); every file is reported as not archived. */
  store: ArchiveStore | null;
  logger: Logger;
}

export interface ArchiveFileInput {
  /** The session's workflow id: the folder of its files. */
  sessionKey: string;
  videoId: string;
  file: ArchiveFile;
}

export type ArchiveFileResult = { archived: ArchiveEntry } | { absent: 'off' | 'not_offered' };

/** The URL of each file on HeyGen's video object, and the name it is archived under (plus the URL's extension). */
const FILES: Record<ArchiveFile, { url: (video: Video) => string | null; name: string; defaultExtension: string }> = {
  video: { url: (v) => v.video_url, name: 'video', defaultExtension: '.mp4' },
  captioned: { url: (v) => v.captioned_video_url, name: 'captioned', defaultExtension: '.mp4' },
  subtitles: { url: (v) => v.subtitle_url, name: 'subtitles', defaultExtension: '.srt' },
  thumbnail: { url: (v) => v.thumbnail_url, name: 'thumbnail', defaultExtension: '.jpg' },
  gif: { url: (v) => v.gif_url, name: 'preview', defaultExtension: '.gif' },
};

/** Progress is heartbeated at most this often. */
const HEARTBEAT_EVERY_MS = 1_000;

/** A download HeyGen's storage refused: a 403 (an expired URL) or a 404 (a file that is gone). */
class RefusedDownload extends Error {
  constructor(readonly status: number) {
    super(`HeyGen's storage answered ${status}`);
  }
}

export function createArchiveActivities({ heygen, store, logger }: ArchiveActivityDeps) {
  /** The file's URL on a fresh read of the video (null: HeyGen has none). */
  async function freshUrl(videoId: string, file: ArchiveFile, signal: AbortSignal): Promise<string | null> {
    try {
      return FILES[file].url(await heygen.getVideo(videoId, { signal }));
    } catch (error) {
      throw toActivityFailure(error);
    }
  }

  return {
    async archiveVideoFile(input: ArchiveFileInput): Promise<ArchiveFileResult> {
      if (!store) return { absent: 'off' };
      const context = Context.current();
      const signal = context.cancellationSignal;
      let url = await freshUrl(input.videoId, input.file, signal);
      if (!url) return { absent: 'not_offered' };
      const key = `${input.sessionKey}/${FILES[input.file].name}${path.extname(new URL(url).pathname) || FILES[input.file].defaultExtension}`;

      // Committed by an earlier attempt that did not live to report it.
      const existing = await store.find(key);
      if (existing) {
        await store.discardStaging(key);
        return { archived: entry(input.file, store, key, existing.size, existing.sha256, contentTypeOf(key)) };
      }

      const staging = await store.stage(key, context.info.attempt);
      const progress = (bytes: number) => context.heartbeat({ file: input.file, bytes });
      const started = (resumeFrom: number, status: number) =>
        logger.info({ videoId: input.videoId, file: input.file, resumeFrom, status, attempt: context.info.attempt }, 'archive download started');
      let download: { size: number; contentType: string } | undefined;
      // Expired or gone (403/404): read the video again for a fresh URL, and try that once.
      for (let tries = 1; !download; tries++) {
        try {
          download = await downloadResuming(url, staging, contentTypeOf(key), signal, progress, started);
        } catch (error) {
          if (!(error instanceof RefusedDownload)) throw error;
          if (tries === 2) {
            throw ApplicationFailure.create({
              type: error.status === 404 ? ARCHIVE_FAILURE.mediaMissing : ARCHIVE_FAILURE.mediaRefused,
              message: `HeyGen's storage answered ${error.status} for the ${input.file} of video ${input.videoId}, with a URL read just before`,
              // A file that is gone stays gone; a refusal may pass.
              nonRetryable: error.status === 404,
            });
          }
          logger.info({ videoId: input.videoId, file: input.file, status: error.status }, 'archive download refused; reading the video again for a fresh URL');
          url = await freshUrl(input.videoId, input.file, signal);
          if (!url) return { absent: 'not_offered' };
        }
      }
      // Hashed from what the file holds, not from what went past: those are the bytes that get published.
      const published = await store.commit(key, staging, download);
      logger.info({ videoId: input.videoId, file: input.file, key, size: published.size }, 'archived');
      return { archived: entry(input.file, store, key, published.size, published.sha256, download.contentType) };
    },
  };
}

export type ArchiveActivities = ReturnType<typeof createArchiveActivities>;

function entry(file: ArchiveFile, store: ArchiveStore, key: string, size: number, sha256: string, contentType: string): ArchiveEntry {
  return { file, store: store.kind, key, size, sha256, contentType, archivedAt: new Date().toISOString() };
}

function contentTypeOf(key: string): string {
  return { '.mp4': 'video/mp4', '.srt': 'application/x-subrip', '.png': 'image/png', '.jpg': 'image/jpeg', '.gif': 'image/gif' }[path.extname(key)] ?? 'application/octet-stream';
}

/**
 * Downloads `url` into `staging`, continuing from what is staged already when the server honours
 * `Range` (starting over when it does not), and checks the length against what the server announced.
 */
async function downloadResuming(
  url: string,
  staging: string,
  fallbackContentType: string,
  signal: AbortSignal,
  progress: (bytes: number) => void,
  started: (resumeFrom: number, status: number) => void,
): Promise<{ size: number; contentType: string }> {
  let offset = await stat(staging).then((s) => s.size, () => 0);
  const response = await fetch(url, { signal, headers: offset > 0 ? { range: `bytes=${offset}-` } : {} });
  started(offset, response.status);
  const refuse = async (error: Error): Promise<never> => {
    await response.body?.cancel();
    throw error;
  };
  if (response.status === 403 || response.status === 404) return refuse(new RefusedDownload(response.status));
  let total: number | null;
  if (response.status === 416 && offset > 0) {
    // Nothing left to read: the staged file is whole if that is the file's size.
    total = Number(/\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1] ?? NaN);
    if (total !== offset) {
      await truncate(staging, 0); // more staged than the file has: start over on the next attempt
      return refuse(new Error(`the staged file has ${offset} bytes, the file ${total}`));
    }
  } else if (response.status === 206 && offset > 0) {
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== offset) return refuse(new Error(`asked for bytes from ${offset}, got ${response.headers.get('content-range')}`));
    total = Number(range[3]);
  } else if (response.ok) {
    if (offset > 0) await truncate(staging, 0); // the range was not honoured: start over
    offset = 0;
    total = response.headers.get('content-length') === null ? null : Number(response.headers.get('content-length'));
  } else {
    return refuse(ApplicationFailure.create({ type: ARCHIVE_FAILURE.downloadFailed, message: `downloading from HeyGen's storage answered ${response.status}` }));
  }

  let bytes = offset;
  let lastBeat = 0;
  if (response.status !== 416 && response.body) {
    const counted = async function* (body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      for await (const chunk of body) {
        bytes += chunk.length;
        if (Date.now() - lastBeat >= HEARTBEAT_EVERY_MS) {
          lastBeat = Date.now();
          progress(bytes);
        }
        yield chunk;
      }
    };
    await pipeline(Readable.fromWeb(response.body as ReadableStream<Uint8Array>), counted, createWriteStream(staging, { flags: 'a' }));
  }
  if (total !== null && Number.isFinite(total) && bytes !== total) throw new Error(`downloaded ${bytes} bytes of ${total}`);
  progress(bytes);
  const announced = response.status === 416 ? undefined : response.headers.get('content-type')?.split(';')[0]?.trim();
  return { size: bytes, contentType: announced || fallbackContentType };
}
