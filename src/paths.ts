import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The folder holding package.json, whether we run from `src/` (tsx) or from a compiled `dist/`. */
function findProjectRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export const PROJECT_ROOT = findProjectRoot(__dirname);

/** Tools the project installs for itself (git-ignored). */
export const TOOLS_DIR = path.join(PROJECT_ROOT, '.tools');

/** Runtime data such as the dev server's SQLite file (git-ignored). */
export const DATA_DIR = path.join(PROJECT_ROOT, '.data');

/** The file in DATA_DIR where `npm start` records its API's address, beside api-token.json: the CLI's default `--url`. */
export const LOCAL_API_URL_FILE = 'api-url';

/** The version in package.json: the API's documented version, and part of the default build id. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
