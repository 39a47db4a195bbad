/**
 * Where finished videos are archived. A file is downloaded into a staging file (kept across retries of
 * the same file, so a download resumes where it stopped) and becomes visible under its key only once
 * complete: a rename on local disk, a completed upload on S3.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

export interface ArchivedObject {
  size: number;
  sha256: string;
}

export interface ArchiveStore {
  /** `local` or `s3`: recorded with each entry, so the API knows where to serve it from. */
  readonly kind: 'local' | 's3';
  /** The staging file of a key (the same path on every attempt of this worker). */
  stagingPath(key: string): string;
  /** Makes a complete staging file visible under `key`, atomically; the staging file is gone after. */
  commit(key: string, stagingPath: string, object: ArchivedObject & { contentType: string }): Promise<void>;
  /** The archived object under `key`, if one is there (a retry after a commit whose activity did not report back). */
  find(key: string): Promise<ArchivedObject | null>;
  /** A short-lived link to download the object straight from storage (stores that can make one). */
  presignedUrl?(key: string, filename: string): Promise<string>;
  /** Bytes `start`..`end` (inclusive) of an archived object, or all of it; null when it is not there. */
  read(key: string, range?: { start: number; end: number }): Promise<Readable | null>;
}

/** The SHA-256 (hex) of a stream's bytes. */
export async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Keys are `<workflow id>/<file>`: nothing in them may leave the archive's folder. */
export function checkKey(key: string): string {
  if (!/^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/.test(key) || key.split('/').some((part) => part === '.' || part === '..')) {
    throw new Error(`not an archive key: ${JSON.stringify(key)}`);
  }
  return key;
}

/** Archive files in a local folder: `<root>/<key>`, staged in `<root>/.staging/` (same disk, so the rename is atomic). */
export class LocalArchiveStore implements ArchiveStore {
  readonly kind = 'local' as const;

  constructor(readonly root: string) {}

  stagingPath(key: string): string {
    return path.join(this.root, '.staging', checkKey(key).replace('/', '__'));
  }

  async commit(key: string, stagingPath: string): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Durable before it is visible: the bytes reach the disk, then the rename publishes them.
    const file = await open(stagingPath, 'r+');
    try {
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(stagingPath, target);
  }

  async find(key: string): Promise<ArchivedObject | null> {
    const target = this.pathOf(key);
    try {
      const { size } = await stat(target);
      return { size, sha256: await sha256Of(createReadStream(target)) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async read(key: string, range?: { start: number; end: number }): Promise<Readable | null> {
    // Opened first, so a missing file is known before any byte of an answer is sent.
    const file = await open(this.pathOf(key), 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    return file ? file.createReadStream(range) : null;
  }

  /** The finished file of a key. */
  pathOf(key: string): string {
    return path.join(this.root, checkKey(key));
  }
}

