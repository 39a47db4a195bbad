'use strict';
/**
 * Runs one command and makes sure it never outlives the process that started us.
 *
 * Usage: node orphan-guard.cjs <graceMs> <command> [args...]
 *
 * The parent keeps a pipe open on our stdin. When the parent exits, for any reason including SIGKILL,
 * the kernel closes that pipe and we see end-of-file: we then stop the command (SIGTERM, and SIGKILL
 * after graceMs). The parent stops the command the same way on purpose, by closing the pipe.
 * We exit with the command's exit code.
 *
 * Plain CommonJS so it runs under bare `node`, without a TypeScript loader.
 */
const { spawn } = require('node:child_process');
const { constants } = require('node:os');

const [graceArg, command, ...args] = process.argv.slice(2);
const graceMs = Number(graceArg);
if (!command || !Number.isFinite(graceMs)) {
  process.stderr.write('usage: orphan-guard.cjs <graceMs> <command> [args...]\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;

function stopChild() {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
}

process.stdin.on('end', stopChild);
process.stdin.on('close', stopChild);
process.stdin.on('error', stopChild);
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, stopChild);
// Writing to a parent that has gone away must not kill us before we have stopped the child.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

child.on('error', (error) => {
  process.stderr.write(`orphan-guard: cannot run ${command}: ${error.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
});
