/**
 * The Chromium the review page's browser test drives: CHROMIUM_PATH if set, else Debian's `chromium`
 * package, installed here with apt-get when missing (as root, or with passwordless sudo). Nothing is
 * downloaded from anywhere but the distribution's own mirrors. `npm run setup:browser` runs it alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function apt(args: string[]): { ok: boolean; output: string } {
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? 'apt-get' : 'sudo';
  const result = spawnSync(command, [...(asRoot ? [] : ['-n', 'apt-get']), ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

export function findOrInstallChromium(log: (line: string) => void = () => {}): string {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    if (!existsSync(given)) throw new Error(`CHROMIUM_PATH=${given} does not exist.`);
    return given;
  }
  const found = () => CANDIDATES.find((candidate) => existsSync(candidate));
  const present = found();
  if (present) return present;
  if (!existsSync('/usr/bin/apt-get')) {
    throw new Error("No Chromium found and no apt-get to install Debian's chromium package: install Chromium and set CHROMIUM_PATH.");
  }
  log("installing Debian's chromium package (apt-get install chromium)…");
  const install = () => apt(['install', '-y', '--no-install-recommends', 'chromium']);
  let result = install();
  // A fresh machine may have no package lists yet.
  if (!result.ok) {
    apt(['update']);
    result = install();
  }
  const installed = found();
  if (!installed) {
    throw new Error(
      `Could not install Debian's chromium package (needs root or passwordless sudo): ${result.output.trim().split('\n').slice(-5).join(' | ')}. ` +
        'Install it (apt-get install chromium) or set CHROMIUM_PATH.',
    );
  }
  return installed;
}

if (require.main === module) {
  const path = findOrInstallChromium((line) => console.log(line));
  console.log(`Chromium: ${path}`);
}
