/**
 * PostgreSQL from Debian's package, run as a throwaway cluster in a temporary folder: no system service,
 * no state outside that folder, gone when stopped. `npm run test:cluster` puts the Temporal server's
 * persistence and visibility on it. The package is installed with apt-get when missing.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { aptInstall } from './debian';

const DEBIAN_POSTGRES = '/usr/lib/postgresql';

/** The newest installed server's bin folder (POSTGRES_BIN_DIR overrides). */
function findPostgresBinDir(): string | undefined {
  const given = process.env.POSTGRES_BIN_DIR;
  if (given) return existsSync(path.join(given, 'initdb')) ? given : undefined;
  if (!existsSync(DEBIAN_POSTGRES)) return undefined;
  const versions = readdirSync(DEBIAN_POSTGRES)
    .filter((version) => existsSync(path.join(DEBIAN_POSTGRES, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(DEBIAN_POSTGRES, versions[0], 'bin') : undefined;
}

export function findOrInstallPostgres(log: (line: string) => void = () => {}): string {
  return findPostgresBinDir() ?? aptInstall('postgresql', findPostgresBinDir, 'Install PostgreSQL (apt-get install postgresql) or set POSTGRES_BIN_DIR.', log);
}

/** How a throwaway cluster's server is started; the caller runs and stops the process. */
export interface ThrowawayCluster {
  /**
   * The `postgres` server command for this cluster, listening on 127.0.0.1:port. PostgreSQL refuses to run
   * as root: when we are root, the command drops to Debian's `postgres` user itself (setpriv execs it), so
   * whatever runs the command (a guard process) needs no access for that user.
   */
  command: string;
  args: string[];
  user: string;
  dir: string;
  remove: () => void;
}

/** The numeric id of a system user, from `id`. */
function idOf(user: string, flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
}

/**
 * Creates a fresh cluster (initdb) owned by `user` with trust authentication on 127.0.0.1 only, and
 * returns how to start its server: durability is traded for speed (fsync off), as befits a test.
 */
export function createThrowawayCluster(binDir: string, port: number, user = 'temporal'): ThrowawayCluster {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vao-postgres-'));
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? { uid: idOf('postgres', '-u'), gid: idOf('postgres', '-g') } : {};
  if (asRoot) chownSync(dir, owner.uid!, owner.gid!);
  const data = path.join(dir, 'data');
  execFileSync(path.join(binDir, 'initdb'), ['-D', data, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-sync'], { ...owner, cwd: dir, stdio: 'pipe' });
  const server = [path.join(binDir, 'postgres'), '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'];
  const [command, ...args] = asRoot ? ['setpriv', `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', ...server] : server;
  return {
    command: command!,
    args,
    user,
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
