/**
 * The files behind the simulator's presigned URLs: a small real MP4, PNG thumbnails and storyboard
 * frames, and an SRT, served under /media with an expiring HMAC signature, as HeyGen's presigned URLs
 * expire (and are re-issued fresh on every status call).
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
