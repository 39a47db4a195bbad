/** The archive stores, and the one a process's configuration names. */
import { S3ArchiveStore } from './s3-store';
import { LocalArchiveStore, type ArchiveStore } from './store';

export { LocalArchiveStore, type ArchiveStore } from './store';
export { S3ArchiveStore } from './s3-store';

/** The archive a process's configuration names (its shape is config/archive.ts's ArchiveSection). */
export function createArchiveStore(
  section: { kind: 'off' } | { kind: 'local'; dir: string } | { kind: 's3'; bucket: string; prefix: string; region: string; endpoint?: string; stagingDir: string },
): ArchiveStore | null {
  if (section.kind === 'off') return null;
  if (section.kind === 'local') return new LocalArchiveStore(section.dir);
  return new S3ArchiveStore(section);
}
