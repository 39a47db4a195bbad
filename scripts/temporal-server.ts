/**
 * The production Temporal server, built here from its Go module: `go install go.temporal.io/server/cmd/server`
 * and the server's SQL schema tool, at the version of the `temporal` image in docker-compose.yml (the one
 * place the version is written), through the Go module proxy. The binaries are kept under
 * `.tools/temporal-server-<version>/`; Go's own module and build caches make a rebuild take seconds.
 * `npm run setup:cluster` runs it alone. Used by `npm run test:cluster`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT, TOOLS_DIR } from '../src/paths';

const SERVER_MODULE = 'go.temporal.io/server';

interface ComposeFile {
  services: Record<string, { image?: string }>;
}

/** `name:tag` of a compose service's image. */
export function composeImageTag(service: string, compose = readCompose()): string {
  const image = compose.services[service]?.image;
  const tag = image?.split(':')[1];
  if (!image || !tag) throw new Error(`docker-compose.yml: service ${service} has no pinned image`);
  return tag;
}

export function readCompose(): ComposeFile {
  return parse(readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as ComposeFile;
}

/** The server version docker-compose.yml runs, which the native cluster builds. */
export function temporalServerVersion(): string {
  return composeImageTag('temporal');
}

/**
 * How the server is started with deploy/temporal's configuration, `root` being where that folder is:
 * docker-compose.yml's `temporal` entrypoint and test:cluster both run exactly this.
 */
export function temporalServerArgs(root: string): string[] {
  return ['--root', root, '--config', 'config', '--env', 'production', 'start'];
}

export interface TemporalServerBinaries {
  version: string;
  server: string;
  sqlTool: string;
}

function findGo(): string {
  for (const candidate of [process.env.GO, ...(process.env.PATH ?? '').split(':').map((dir) => path.join(dir, 'go')), '/usr/local/go/bin/go']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  throw new Error('No Go toolchain found (GO, PATH, /usr/local/go/bin/go): the Temporal server is built from its Go module and needs Go 1.25 or newer.');
}

/** The built server and schema tool, building them first when they are not there. */
export function ensureTemporalServer(log: (line: string) => void = () => {}): TemporalServerBinaries {
  const version = temporalServerVersion();
  const dir = path.join(TOOLS_DIR, `temporal-server-${version}`);
  const binaries = { version, server: path.join(dir, 'server'), sqlTool: path.join(dir, 'sql') };
  if (existsSync(binaries.server) && existsSync(binaries.sqlTool)) return binaries;
  mkdirSync(dir, { recursive: true });
  const go = findGo();
  log(`building the Temporal server ${version} from ${SERVER_MODULE} (go install; minutes on a cold Go cache, seconds on a warm one)…`);
  const started = Date.now();
  const result = spawnSync(go, ['install', `${SERVER_MODULE}/cmd/server@v${version}`, `${SERVER_MODULE}/cmd/tools/sql@v${version}`], {
    env: { ...process.env, GOBIN: dir, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' },
    encoding: 'utf8',
    timeout: 30 * 60_000,
  });
  if (result.status !== 0 || !existsSync(binaries.server) || !existsSync(binaries.sqlTool)) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
    throw new Error(`go install of the Temporal server ${version} failed: ${output.trim().split('\n').slice(-8).join(' | ')}`);
  }
  log(`built the Temporal server ${version} in ${Math.round((Date.now() - started) / 1000)} s: ${dir}`);
  return binaries;
}

if (require.main === module) {
  const { server, sqlTool } = ensureTemporalServer((line) => console.log(line));
  console.log(`Temporal server: ${server}\nSchema tool: ${sqlTool}`);
}
