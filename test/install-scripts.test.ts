/**
 * `npm install` is quiet about install scripts (npm 11.16+ lists every dependency whose install script
 * package.json's `allowScripts` does not decide): each installed package with one is decided there
 * (README, "Install scripts"). Read from node_modules itself, so it holds whatever npm runs the test.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/paths';

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

/** Every package folder under a node_modules, nested ones too. */
function packagesUnder(modules: string): string[] {
  if (!existsSync(modules)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const dirs = entry.startsWith('@') ? readdirSync(path.join(modules, entry)).map((name) => path.join(modules, entry, name)) : [path.join(modules, entry)];
    for (const dir of dirs) {
      if (!existsSync(path.join(dir, 'package.json'))) continue;
      found.push(dir, ...packagesUnder(path.join(dir, 'node_modules')));
    }
  }
  return found;
}

test('every installed dependency with an install script is decided in allowScripts', () => {
  const { allowScripts = {} } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  const decided = new Set(Object.keys(allowScripts).map((key) => key.replace(/(.)@.*$/, '$1')));
  const withScripts = new Set<string>();
  for (const dir of packagesUnder(path.join(PROJECT_ROOT, 'node_modules'))) {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; scripts?: Record<string, string> };
    if (pkg.name && INSTALL_SCRIPTS.some((script) => pkg.scripts?.[script])) withScripts.add(pkg.name);
  }
  const undecided = [...withScripts].filter((name) => !decided.has(name)).sort();
  console.log(`installed packages with install scripts: ${[...withScripts].sort().join(', ')}; not decided in allowScripts: ${undecided.length}`);
  expect(withScripts.size).toBeGreaterThan(0);
  expect(undecided).toEqual([]);
});
