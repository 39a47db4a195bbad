/**
 * How every entry point (`npm start`, `npm run worker`, `npm run temporal`, ...) starts and stops:
 * config parsed once, one logger, parts stopped in reverse order of start on SIGINT/SIGTERM, a second
 * signal forcing the exit, and problems a user can fix printed as a plain message rather than a stack.
 */
import type { LoggingConfig } from './config/env';
import { UserFacingError } from './errors';
import { createLogger, type Logger } from './logging';

/** A part could not start for a reason the user can fix (the message says how). */
export class StartupError extends UserFacingError {
  override readonly name = 'StartupError';
}

export class Lifecycle {
  private readonly closers: { name: string; close: () => Promise<void> }[] = [];
  private stopping: Promise<void> | undefined;
  private exitCode = 0;

  /** `exit` runs once every part has stopped, with the highest exit code any shutdown asked for. */
  constructor(
    private readonly logger: Logger,
    private readonly exit: (code: number) => void = () => {},
  ) {}

  /** Registers a part to stop at shutdown; parts stop in reverse order of registration. */
  onShutdown(name: string, close: () => Promise<void>): void {
    this.closers.push({ name, close });
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Stops every part, then exits; `exitCode` non-zero when the shutdown is due to a failure. */
  shutdown(reason: string, exitCode = 0): Promise<void> {
    this.exitCode = Math.max(this.exitCode, exitCode);
    this.stopping ??= (async () => {
      this.logger.info({ reason }, 'shutting down');
      for (const { name, close } of [...this.closers].reverse()) {
        try {
          await close();
          this.logger.debug({ part: name }, 'stopped');
        } catch (error) {
          this.logger.error({ part: name, err: error }, 'failed to stop cleanly');
        }
      }
      this.logger.info({ reason, exitCode: this.exitCode }, 'stopped');
      this.exit(this.exitCode);
    })();
    return this.stopping;
  }
}

export interface MainContext<C> {
  config: C;
  logger: Logger;
  lifecycle: Lifecycle;
}

/**
 * Runs an entry point: `load` reads the process's own configuration, `start` brings its parts up and registers how to stop them. The process then
 * lives until SIGINT/SIGTERM (or until a part calls `lifecycle.shutdown`) and exits after every part
 * has stopped.
 */
export function runMain<C extends LoggingConfig>(name: string, load: (env: NodeJS.ProcessEnv) => C, start: (context: MainContext<C>) => Promise<void>): void {
  let config: C;
  try {
    config = load(process.env);
  } catch (error) {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat }).child({ component: name });
  const lifecycle = new Lifecycle(logger, (code) => process.exit(code));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (lifecycle.isStopping) {
        logger.warn({ signal }, 'second signal: exiting without waiting for a clean stop');
        process.exit(130);
      }
      // A clean stop may wait for work in progress (a worker lets running activities finish for up to
      // WORKER_SHUTDOWN_GRACE): say so at once, and how not to wait.
      if (signal === 'SIGINT') process.stderr.write(`\n${name}: Stopping: letting the work in progress finish first (a worker gives running activities up to WORKER_SHUTDOWN_GRACE, 30 s by default). Press Ctrl-C again to stop at once.\n`);
      void lifecycle.shutdown(signal);
    });
  }

  start({ config, logger, lifecycle }).catch((error: unknown) => {
    if (error instanceof UserFacingError) {
      process.stderr.write(`\n${name}: ${error.message}\n\n`);
    } else {
      logger.fatal({ err: error }, 'failed to start');
    }
    void lifecycle.shutdown('start-up failed', 1);
  });
}

/**
 * Runs a command that prints a report and exits (`deployment:status`, `sessions:legacy`): no logger, so
 * stdout holds the report alone. A caller's mistake (a bad variable or option, Temporal unreachable) is
 * one line on stderr; anything else carries its stack.
 */
export function runReport(name: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const forPeople = error instanceof UserFacingError || String((error as { code?: unknown })?.code).startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`${name}: ${forPeople ? (error as Error).message : String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  });
}
