/**
 * Where finished videos are archived. Each download attempt stages into a file of its own (staging.ts),
 * hashes what that file holds on disk, and publishes it under its key only if the key holds nothing yet:
 * a hard link on local disk, a conditional upload on S3. The published object is then checked against
 * that size and hash before the attempt reports it, so an archive entry always describes the bytes
 * stored under its key, whatever a stalled attempt does when it wakes.
 */
import { link, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { checkKey, digestOf, StagingArea, syncFile } from './staging';

export { checkKey, digestOf } from './staging';

export interface ArchivedObject {
  size: number;
  sha256: string;
}

export interface ArchiveStore {
  /** `local` or `s3`: recorded with each entry, so the API knows where to serve it from. */
  readonly kind: 'local' | 's3';
  /** A staging file of this attempt's own, seeded with what an earlier attempt staged (staging.ts). */
  stage(key: string, attempt: number): Promise<string>;
  /**
   * Hashes the staging file's bytes on disk (which must be `expected.size` of them) and publishes it,
   * unless `key` already holds an object, then removes every staging file of the key. Returns the object
   * now under `key`, checked to be those bytes (an ArchiveMismatch when the key holds other bytes).
   */
  commit(key: string, stagingPath: string, expected: { size: number; contentType: string }): Promise<ArchivedObject>;
  /** The archived object under `key`, if one is there (a retry after a commit whose activity did not report back). */
  find(key: string): Promise<ArchivedObject | null>;
  /** Removes every staging file of `key` (found published by an earlier attempt). */
  discardStaging(key: string): Promise<void>;
  /** A short-lived link to download the object straight from storage (stores that can make one). */
  presignedUrl?(key: string, filename: string): Promise<string>;
  /**
   * Bytes `start`..`end` (inclusive) of an archived object, or all of it; null when it is not there.
   * With `size` (its entry's), an object of another size is refused with an ArchiveMismatch.
   */
  read(key: string, range?: { start: number; end: number }, size?: number): Promise<Readable | null>;
}

/** The key holds bytes other than the ones expected (an attempt's staged bytes, or an entry's). */
export class ArchiveMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveMismatch';
  }
}

/** The size and SHA-256 of a staging file's bytes on disk, flushed there; throws unless it is `size` bytes. */
export async function stagedObject(key: string, stagingPath: string, size: number): Promise<ArchivedObject> {
  await syncFile(stagingPath);
  const staged = await digestOf(stagingPath);
  if (staged.size !== size) throw new Error(`the staging file of ${key} holds ${staged.size} bytes, not the ${size} downloaded`);
  return staged;
}

/** Throws unless `found` is `expected`, byte count and hash. */
export function checkPublished(key: string, expected: ArchivedObject, found: ArchivedObject | null): ArchivedObject {
  if (!found || found.size !== expected.size || found.sha256 !== expected.sha256) {
    throw new ArchiveMismatch(
      `the archived ${key} is ${found ? `${found.size} bytes with SHA-256 ${found.sha256}` : 'missing'}, ` +
        `not the ${expected.size} bytes with SHA-256 ${expected.sha256} this attempt staged`,
    );
  }
  return found;
}

/** Archive files in a local folder: `<root>/<key>`, staged in `<root>/.staging/` (same disk, so publishing is a link). */
export class LocalArchiveStore implements ArchiveStore {
  readonly kind = 'local' as const;
  private readonly staging: StagingArea;

  constructor(readonly root: string) {
    this.staging = new StagingArea(path.join(root, '.staging'));
  }

  stage(key: string, attempt: number): Promise<string> {
    return this.staging.claim(key, attempt);
  }

  async commit(key: string, stagingPath: string, expected: { size: number; contentType: string }): Promise<ArchivedObject> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Durable before it is visible: the bytes reach the disk, then the link publishes them. A link, not
    // a rename: it never replaces a file another attempt published (EEXIST), and is just as atomic.
    const object = await stagedObject(key, stagingPath, expected.size);
    await link(stagingPath, target).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    await this.staging.sweep(key);
    // Whoever published it, the key must now hold exactly the bytes this attempt hashed.
    return checkPublished(key, object, await this.find(key));
  }

  async find(key: string): Promise<ArchivedObject | null> {
    try {
      return await digestOf(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  discardStaging(key: string): Promise<void> {
    return this.staging.sweep(key);
  }

  async read(key: string, range?: { start: number; end: number }, size?: number): Promise<Readable | null> {
    // Opened first, so a missing file is known before any byte of an answer is sent.
    const file = await open(this.pathOf(key), 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (!file) return null;
    const actual = (await file.stat()).size;
    if (size !== undefined && actual !== size) {
      await file.close();
      throw new ArchiveMismatch(`the archived ${key} is ${actual} bytes, not the ${size} of its entry`);
    }
    return file.createReadStream(range);
  }

  /** The finished file of a key. */
  pathOf(key: string): string {
    return path.join(this.root, checkKey(key));
  }
}
