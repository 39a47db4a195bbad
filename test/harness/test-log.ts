/**
 * Where tests log: everything a test file and the processes it starts log goes to that file's log,
 * `.test-logs/<path of the test file>.log` (git-ignored), never to the test output. log-setup.ts names
 * the file and marks each test's start in it; log-reporter.cjs prints a failed test's part of it.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';

export const TEST_LOG_DIR = path.join(__dirname, '..', '..', '.test-logs');

/** Each test's part of a log starts with this line (log-reporter.cjs looks for it). */
export const TEST_START_MARK = '=== test: ';

declare global {
  var __VAO_TEST_LOG__: string | undefined;
}

/** The log file of the test file running (named by log-setup.ts), else the run's catch-all. */
export function testLogPath(): string {
  return globalThis.__VAO_TEST_LOG__ ?? path.join(TEST_LOG_DIR, 'other.log');
}

/** Starts a log file of this run, empty but for a header line. */
export function startLogFile(file: string, what = path.relative(path.join(TEST_LOG_DIR, '..'), file)): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `=== ${what}, started ${new Date().toISOString()} (pid ${process.pid})\n`);
}

/** Starts a test file's log, `.test-logs/<path of the test file>.log` (each file runs once per run). */
export function startTestLog(testPath: string): string {
  const relative = path.relative(path.join(TEST_LOG_DIR, '..'), testPath);
  const file = path.join(TEST_LOG_DIR, `${relative}.log`);
  startLogFile(file, relative);
  globalThis.__VAO_TEST_LOG__ = file;
  return file;
}

/** Appends text to the current log (synchronously, so it lands in order with everything else). */
export function appendTestLog(text: string, file = testLogPath()): void {
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}

/** A destination for pino that appends to the current log, synchronously. */
export function testLogDestination(file = testLogPath()): pino.DestinationStream {
  return pino.destination({ dest: file, sync: true, mkdir: true, append: true });
}

/** Appends a child process's output to the current log, each line prefixed with who wrote it. */
export function childLogWriter(name: string): (chunk: Buffer | string) => void {
  const file = testLogPath();
  mkdirSync(path.dirname(file), { recursive: true });
  let atLineStart = true;
  return (chunk) => {
    let text = '';
    for (const piece of chunk.toString().split(/(?<=\n)/)) {
      text += `${atLineStart ? `[${name}] ` : ''}${piece}`;
      atLineStart = piece.endsWith('\n');
    }
    appendFileSync(file, text);
  };
}
