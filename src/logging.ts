/**
 * One pino logger per process; every part (server, worker, API, simulator, Temporal's own runtime) logs
 * through a child of it, so a line always says which component wrote it.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LoggingConfig } from './config/env';

export type { Logger } from 'pino';

/**
 * Paths redacted wherever they appear in a log object. Secrets should never be logged in the first place;
 * this is the second line of defence.
 */
const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  'headers["x-api-key"]',
  'headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.authorization',
];

export interface LoggerOptions {
  level: LoggingConfig['logLevel'];
  /** `pretty` for people at a terminal, `json` for log pipelines. Defaults by whether stdout is a TTY. */
  format?: LoggingConfig['logFormat'];
  destination?: pino.DestinationStream;
}

/** Logs for people (a terminal, or LOG_FORMAT=pretty) rather than for a log pipeline. */
export function isPretty(format: LoggerOptions['format']): boolean {
  return (format ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty';
}

export function createLogger(options: LoggerOptions): Logger {
  const format = isPretty(options.format) ? 'pretty' : 'json';
  const base: pino.LoggerOptions = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  if (options.destination) return pino(base, options.destination);
  if (format === 'pretty') {
    return pino(base, pretty({ colorize: process.stdout.isTTY, sync: true, ignore: 'pid,hostname' }));
  }
  return pino(base);
}
