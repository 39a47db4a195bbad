/**
 * The Chromium the review page's browser test drives: CHROMIUM_PATH if set, else Debian's `chromium`
 * package, installed here with apt-get when missing (as root, or with passwordless sudo). Nothing is
 * downloaded from anywhere but the distribution's own mirrors. `npm run setup:browser` runs it alone.
 */
import { existsSync } from 'node:fs';
import { aptInstall } from './debian';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function findOrInstallChromium(log: (line: string) => void = () => {}): string {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    if (!existsSync(given)) throw new Error(`CHROMIUM_PATH=${given} does not exist.`);
    return given;
  }
  const found = () => CANDIDATES.find((candidate) => existsSync(candidate));
  const present = found();
  if (present) return present;
  return aptInstall('chromium', found, 'Install Chromium (apt-get install chromium) or set CHROMIUM_PATH.', log);
}

if (require.main === module) {
  const path = findOrInstallChromium((line) => console.log(line));
  console.log(`Chromium: ${path}`);
}
