/**
 * Where finished videos are archived: read by the worker (which writes the files) and the API (which
 * serves them). A local folder by default; `ARCHIVE=off` turns archival off.
 */
import path from 'node:path';
import { z } from 'zod';
import { nonEmpty } from './env';

export const archiveEnv = {
  ARCHIVE: z.enum(['local', 'off'], { error: 'expected local or off' }).default('local'),
  ARCHIVE_DIR: nonEmpty.optional(),
};

export type ArchiveSection = { kind: 'off' } | { kind: 'local'; dir: string };

/** `DATA_DIR` is Temporal's section's (the dev server's state lives there too): the archive defaults to a folder in it. */
export function archiveSection(env: { ARCHIVE: 'local' | 'off'; ARCHIVE_DIR?: string; DATA_DIR: string }): ArchiveSection {
  if (env.ARCHIVE === 'off') return { kind: 'off' };
  return { kind: 'local', dir: path.resolve(env.ARCHIVE_DIR ?? path.join(env.DATA_DIR, 'archive')) };
}
