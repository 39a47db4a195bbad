/** Helpers for tests that watch real processes and ports. */
export { portIsFree } from '../../src/temporal/dev-server';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { childLogWriter } from './test-log';

/**
 * Arguments that run a TypeScript entry point in a single node process. (The `tsx` command would put a
 * wrapper process in between, and killing the wrapper leaves the real process running.)
 */
export function tsNode(script: string): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', script]];
}

export const PROJECT_ROOT = path.join(__dirname, '..', '..');

/** True while any process of the group is alive. */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A child process with its output collected, for tests that drive entry points. */
export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first output line matching `pattern`. */
  waitForLine: (pattern: RegExp, timeoutMs?: number) => Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The service's own orphan guard: the command it runs dies with the test process, even on SIGKILL. */
const ORPHAN_GUARD = path.join(PROJECT_ROOT, 'src', 'temporal', 'orphan-guard.cjs');

export interface ProcessOptions {
  /** Run under the orphan guard, for servers that must not outlive the run (stopped by closing its stdin). */
  guarded?: boolean;
}

export function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string, options: ProcessOptions = {}): RunningProcess {
  const [file, argv] = options.guarded ? [process.execPath, [ORPHAN_GUARD, '10000', command, ...args]] : [command, args];
  const child = spawn(file, argv, { env, cwd, stdio: [options.guarded ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  // Also into the test file's log, named by the script it runs (the output stays in memory for the test).
  const toLog = childLogWriter(`${path.basename([...args].reverse().find((arg) => /\.[cm]?[jt]s$/.test(arg)) ?? command)} ${child.pid}`);
  const onData = (chunk: Buffer) => {
    toLog(chunk);
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const waitForLine = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = output.split('\n').find((l) => pattern.test(l));
        if (line !== undefined) {
          cleanup();
          resolve(line);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${pattern} in output:\n${output.slice(-3000)}`));
      }, timeoutMs);
      const onExit = () => {
        check();
        cleanup();
        reject(new Error(`process exited before printing ${pattern}; output:\n${output.slice(-3000)}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off('exit', onExit);
      };
      listeners.add(check);
      child.once('exit', onExit);
      check();
    });
  return { child, output: () => output, waitForLine, exited };
}
