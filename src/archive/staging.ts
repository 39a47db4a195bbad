/**
 * Staging files on local disk, one per download attempt. An attempt that stalls (a paused or
 * overloaded worker) can wake after Temporal gave its file to another attempt, and go on writing what
 * it still holds: it must write only into a file of its own, which no later attempt publishes. A later
 * attempt still resumes from what an earlier one staged, but from a copy, never by sharing the file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/** Keys are `<workflow id>/<file>`: nothing in them may leave the archive's folder. */
export function checkKey(key: string): string {
  if (!/^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/.test(key) || key.split('/').some((part) => part === '.' || part === '..')) {
    throw new Error(`not an archive key: ${JSON.stringify(key)}`);
  }
  return key;
}

/** A file's size and SHA-256 (hex), read from the disk. */
export interface FileDigest {
  size: number;
  sha256: string;
}

/** The size and SHA-256 of the bytes a file holds on disk now. */
export async function digestOf(file: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** Flushes a file's bytes to the disk (before they are published). */
export async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `~` never occurs in a key, so it separates a key's flat name from the attempt's tag. */
const SEPARATOR = '~';

export class StagingArea {
  constructor(readonly dir: string) {}

  /**
   * A new staging file for one attempt at `key`, named by the attempt and a random suffix, holding a
   * copy of the longest file an earlier attempt staged (so the download resumes from there). The
   * earlier files are removed: a stalled attempt that wakes writes on into an unlinked file, seen by no
   * one. An attempt that finds a later attempt's file is itself stale (Temporal retried it) and stops.
   */
  async claim(key: string, attempt: number): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const earlier = await this.filesOf(key);
    const newer = earlier.find((file) => file.attempt > attempt);
    if (newer) throw new StaleAttempt(key, attempt, newer.attempt);
    const own = path.join(this.dir, `${flat(key)}${SEPARATOR}${attempt}-${randomBytes(6).toString('hex')}`);
    const sizes = await Promise.all(earlier.map(({ file }) => stat(file).then((s) => s.size, () => -1)));
    const longest = earlier[sizes.indexOf(Math.max(...sizes))];
    // A clone where the file system can, a copy where not. What a live writer adds meanwhile is still a prefix.
    if (longest) await copyFile(longest.file, own, constants.COPYFILE_FICLONE).catch(() => undefined);
    await open(own, 'a').then((handle) => handle.close());
    await Promise.all(earlier.map(({ file }) => rm(file, { force: true })));
    return own;
  }

  /** Removes every staging file of `key` (once it is published, or found published). */
  async sweep(key: string): Promise<void> {
    await Promise.all((await this.filesOf(key)).map(({ file }) => rm(file, { force: true })));
  }

  /** The key's staging files, with the attempt each belongs to (0: staged before per-attempt names). */
  private async filesOf(key: string): Promise<{ file: string; attempt: number }[]> {
    const prefix = `${flat(key)}${SEPARATOR}`;
    const names = await readdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    return names
      .filter((name) => name.startsWith(prefix) || name === flat(key))
      .map((name) => ({ file: path.join(this.dir, name), attempt: Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1] ?? 0) }));
  }
}

/** An attempt that finds a later attempt of the same file under way: Temporal has given up on it. */
export class StaleAttempt extends Error {
  constructor(key: string, attempt: number, newer: number) {
    super(`attempt ${attempt} at ${key} is stale: attempt ${newer} has taken over`);
    this.name = 'StaleAttempt';
  }
}

function flat(key: string): string {
  return checkKey(key).replace('/', '__');
}
