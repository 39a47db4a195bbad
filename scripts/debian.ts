/**
 * Installing a Debian package the tests need, from the distribution's own mirrors only: as root, or with
 * passwordless sudo. Used for Chromium (the review page's browser test) and PostgreSQL (`test:cluster`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function aptGet(args: string[]): { ok: boolean; output: string } {
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? 'apt-get' : 'sudo';
  const result = spawnSync(command, [...(asRoot ? [] : ['-n', 'apt-get']), ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

/**
 * Installs `packageName` with apt-get, then returns what `find` finds. Throws naming the package and
 * `hint` (how to provide it by hand) when there is no apt-get or the install fails.
 */
export function aptInstall<T>(packageName: string, find: () => T | undefined, hint: string, log: (line: string) => void = () => {}): T {
  if (!existsSync('/usr/bin/apt-get')) throw new Error(`No apt-get to install Debian's ${packageName} package: ${hint}`);
  log(`installing Debian's ${packageName} package (apt-get install ${packageName})…`);
  const install = () => aptGet(['install', '-y', '--no-install-recommends', packageName]);
  let result = install();
  // A fresh machine may have no package lists yet.
  if (!result.ok) {
    aptGet(['update']);
    result = install();
  }
  const installed = find();
  if (installed === undefined) {
    throw new Error(
      `Could not install Debian's ${packageName} package (needs root or passwordless sudo): ${result.output.trim().split('\n').slice(-5).join(' | ')}. ${hint}`,
    );
  }
  return installed;
}
