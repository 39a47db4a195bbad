/**
 * A real S3-compatible server for the tests: moto's server, from PyPI, installed by the project into
 * .tools/ on first use (pinned; the same way the Temporal CLI comes), started on a free port per test file.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { TOOLS_DIR } from '../../src/paths';
import { findFreePort } from '../../src/temporal/dev-server';
import { childLogWriter } from './test-log';
import { eventually } from './wait';

const MOTO_VERSION = '5.1.22';
const MOTO_DIR = path.join(TOOLS_DIR, `moto-${MOTO_VERSION}`);

/** Installs moto[server] into .tools/ once (into a folder of its own, renamed into place when whole). */
export async function ensureMoto(): Promise<string> {
  if (existsSync(MOTO_DIR)) return MOTO_DIR;
  const partial = `${MOTO_DIR}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await promisify(execFile)('python3', ['-m', 'pip', 'install', '--quiet', '--target', partial, `moto[server]==${MOTO_VERSION}`], {
    env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    timeout: 5 * 60_000,
  });
  await rename(partial, MOTO_DIR).catch(async (error: NodeJS.ErrnoException) => {
    // Another run installed it meanwhile.
    if (!existsSync(MOTO_DIR)) throw error;
    await rm(partial, { recursive: true, force: true });
  });
  return MOTO_DIR;
}

export interface RunningMoto {
  endpoint: string;
  close: () => Promise<void>;
}

/** Starts moto's S3 server; AWS credentials for it are any (moto accepts all). */
export async function startMoto(): Promise<RunningMoto> {
  const dir = await ensureMoto();
  const port = await findFreePort();
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, PYTHONPATH: dir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  const toLog = childLogWriter(`moto ${child.pid}`);
  child.stderr!.on('data', (chunk: Buffer) => {
    toLog(chunk);
    output = (output + chunk.toString()).slice(-4_000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`moto exited (${child.exitCode}):\n${output}`);
      return fetch(`${endpoint}/moto-api/`).then((r) => r.ok, () => false);
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'moto to listen' },
  );
  return {
    endpoint,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
