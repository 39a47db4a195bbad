import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logging';

/** A pino logger whose output lines are kept in memory, for tests that read what was logged. */
export function capturingLogger(level: 'trace' | 'info' = 'trace'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}
