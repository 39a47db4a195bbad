/**
 * The files behind the simulator's presigned URLs: a small real MP4, PNG thumbnails and storyboard
 * frames, and an SRT, served under /media with an expiring HMAC signature, as HeyGen's presigned URLs
 * expire (and are re-issued fresh on every status call). A video can be any size (`video_size` in a
 * scenario): the sample MP4 followed by an MP4 `free` box, still a valid MP4, generated as it is read.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const MEDIA_DIR = path.join(__dirname, 'media');

let files: { mp4: Buffer; storyboard: Buffer; thumbnail: Buffer } | undefined;

export function mediaFiles(): { mp4: Buffer; storyboard: Buffer; thumbnail: Buffer } {
  files ??= {
    mp4: readFileSync(path.join(MEDIA_DIR, 'sample.mp4')),
    storyboard: readFileSync(path.join(MEDIA_DIR, 'storyboard.png')),
    thumbnail: readFileSync(path.join(MEDIA_DIR, 'thumbnail.png')),
  };
  return files;
}

/** A file as served: its size and type, and its bytes from `start` to `end` (inclusive) in chunks. */
export interface MediaFile {
  size: number;
  contentType: string;
  read(start: number, end: number): Generator<Buffer>;
}

const CHUNK_BYTES = 64 * 1024;

export function bufferFile(buffer: Buffer, contentType: string): MediaFile {
  return { size: buffer.length, contentType, read: (start, end) => chunksOf(buffer, start, end, buffer.length) };
}

/** The sample MP4, padded to `bytes` with a `free` box (an MP4 reader skips it); the sample alone when too small. */
export function videoFile(bytes: number | undefined): MediaFile {
  const sample = mediaFiles().mp4;
  if (!bytes || bytes < sample.length + 8) return bufferFile(sample, 'video/mp4');
  const box = Buffer.alloc(8);
  box.writeUInt32BE(bytes - sample.length, 0);
  box.write('free', 4, 'ascii');
  const prefix = Buffer.concat([sample, box]);
  return { size: bytes, contentType: 'video/mp4', read: (start, end) => chunksOf(prefix, start, end, bytes) };
}

/** Bytes `start`..`end` of a file that is `prefix` followed by zeros up to `size`. */
function* chunksOf(prefix: Buffer, start: number, end: number, size: number): Generator<Buffer> {
  for (let offset = start; offset <= Math.min(end, size - 1); offset += CHUNK_BYTES) {
    const length = Math.min(CHUNK_BYTES, end - offset + 1);
    const chunk = Buffer.alloc(length);
    if (offset < prefix.length) prefix.copy(chunk, 0, offset, Math.min(prefix.length, offset + length));
    yield chunk;
  }
}

export function subtitlesFor(title: string, durationSeconds: number): string {
  const end = new Date(Math.max(1, durationSeconds) * 1000).toISOString().slice(11, 23).replace('.', ',');
  return `1\n00:00:00,000 --> ${end}\n${title}\n`;
}

export type MediaCheck = 'ok' | 'expired' | 'bad_signature';

export class MediaUrls {
  private readonly key = randomBytes(32);

  constructor(
    private readonly baseUrl: () => string,
    private readonly ttlSeconds: number,
  ) {}

  /** A URL for `mediaPath` (e.g. /media/videos/abc/video.mp4) valid for the configured time. */
  sign(mediaPath: string, nowMs = Date.now()): string {
    const expires = Math.floor(nowMs / 1000) + this.ttlSeconds;
    return `${this.baseUrl()}${mediaPath}?Expires=${expires}&Signature=${this.signature(mediaPath, expires)}`;
  }

  check(mediaPath: string, expires: string | undefined, signature: string | undefined, nowMs = Date.now()): MediaCheck {
    if (!expires || !signature || !/^\d+$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return 'bad_signature';
    const expected = Buffer.from(this.signature(mediaPath, Number(expires)), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return 'bad_signature';
    return Number(expires) * 1000 < nowMs ? 'expired' : 'ok';
  }

  private signature(mediaPath: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${mediaPath}\n${expires}`).digest('hex');
  }
}
