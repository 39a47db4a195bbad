/**
 * Where finished videos are archived: read by the worker (which writes the files) and the API (which
 * serves them). A local folder by default; any S3-compatible bucket with `ARCHIVE=s3` (credentials from
 * the standard AWS variables); `ARCHIVE=off` turns archival off.
 */
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, httpUrl, nonEmpty } from './env';

export const archiveEnv = {
  ARCHIVE: z.enum(['local', 's3', 'off'], { error: 'expected local, s3 or off' }).default('local'),
  ARCHIVE_DIR: nonEmpty.optional(),
  ARCHIVE_S3_BUCKET: nonEmpty.optional(),
  ARCHIVE_S3_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9._-]+\/)*$/, { error: 'expected folder names ending in a slash, such as videos/' })
    .default(''),
  ARCHIVE_S3_REGION: nonEmpty.optional(),
  ARCHIVE_S3_ENDPOINT: httpUrl.optional(),
  AWS_REGION: nonEmpty.optional(),
};

export type ArchiveSection =
  | { kind: 'off' }
  | { kind: 'local'; dir: string }
  | { kind: 's3'; bucket: string; prefix: string; region: string; endpoint?: string; stagingDir: string };

type ArchiveEnv = z.output<z.ZodObject<typeof archiveEnv>> & { DATA_DIR: string };

/** `DATA_DIR` is Temporal's section's (the dev server's state lives there too): the archive defaults to a folder in it. */
export function archiveSection(env: ArchiveEnv): ArchiveSection {
  const dir = path.resolve(env.ARCHIVE_DIR ?? path.join(env.DATA_DIR, 'archive'));
  if (env.ARCHIVE === 'off') return { kind: 'off' };
  if (env.ARCHIVE === 'local') return { kind: 'local', dir };
  if (!env.ARCHIVE_S3_BUCKET) throw new ConfigError([{ variable: 'ARCHIVE_S3_BUCKET', problem: 'ARCHIVE=s3 needs the bucket to archive into' }]);
  return {
    kind: 's3',
    bucket: env.ARCHIVE_S3_BUCKET,
    prefix: env.ARCHIVE_S3_PREFIX,
    region: env.ARCHIVE_S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
    ...(env.ARCHIVE_S3_ENDPOINT ? { endpoint: env.ARCHIVE_S3_ENDPOINT.replace(/\/+$/, '') } : {}),
    // Downloads are staged on local disk before upload (a retry on this machine resumes them).
    stagingDir: path.join(dir, '.staging'),
  };
}
