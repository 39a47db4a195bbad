/**
 * The process-wide Temporal Runtime: it routes the SDK's own logging (worker lifecycle, workflow `log`,
 * activity `log`, and the Rust core's native logs) into pino, so a single log stream tells the whole story
 * of a process, and, in a worker, serves the SDK's metrics and ours for Prometheus.
 */
import { type Logger as TemporalLogger, type LogLevel, type LogMetadata } from '@temporalio/common';
import { makeTelemetryFilterString, Runtime, type RuntimeOptions } from '@temporalio/worker';
import { WORKER_HISTOGRAM_BUCKETS } from '../contract/metrics';
import type { Logger } from '../logging';

const PINO_METHOD = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
} as const satisfies Record<LogLevel, string>;

const QUIET_INFO = new Set(['Worker state changed', 'No Nexus services registered, not polling for Nexus tasks', 'Workflow bundle created']);

export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    // The bundler's statistics and routine worker chatter are for debugging, not for a terminal.
    const quiet = level === 'INFO' && (message.startsWith('asset workflow-bundle') || QUIET_INFO.has(message));
    // Core-forwarded entries carry a BigInt timestamp under a symbol key; JSON output skips symbol keys.
    this.logger[quiet ? 'debug' : PINO_METHOD[level]](meta ?? {}, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

export interface TemporalRuntimeOptions {
  /**
   * Signals on which the Runtime starts a graceful shutdown of every Worker in the process.
   * Pass `[]` when the caller orchestrates shutdown itself.
   */
  shutdownSignals?: NodeJS.Signals[];
  /**
   * Serve the SDK's metrics, and whatever the process records through the Runtime's, workflows' and
   * activities' metric meters, at `http://<bindAddress>/metrics` (bound as the Runtime is installed).
   */
  metrics?: { bindAddress: string };
}

/** The exporter failed to bind its address; the message is the operating system's reason. */
export class MetricsEndpointError extends Error {
  override readonly name = 'MetricsEndpointError';
}

/**
 * Installs the process-wide Temporal Runtime with pino logging. Must run before any Worker or
 * NativeConnection is created; calling it again in the same process returns the existing Runtime.
 */
export function installTemporalRuntime(logger: Logger, options: TemporalRuntimeOptions = {}): Runtime {
  const runtimeOptions: RuntimeOptions = {
    logger: new PinoTemporalLogger(logger.child({ component: 'temporal-sdk' })),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(options.metrics
        ? {
            metrics: {
              prometheus: {
                bindAddress: options.metrics.bindAddress,
                // Prometheus' conventions: counters end in _total, durations are in seconds.
                countersTotalSuffix: true,
                useSecondsForDurations: true,
                histogramBucketOverrides: WORKER_HISTOGRAM_BUCKETS,
              },
            },
          }
        : {}),
    },
    ...(options.shutdownSignals ? { shutdownSignals: options.shutdownSignals } : {}),
  };
  try {
    return Runtime.install(runtimeOptions);
  } catch (error) {
    // Already installed (or instantiated implicitly) in this process: keep the first one.
    if (error instanceof Error && error.name === 'IllegalStateError') {
      if (options.metrics) logger.warn({ bindAddress: options.metrics.bindAddress }, 'the Temporal Runtime was installed before: its metrics settings stay as they were');
      return Runtime.instance();
    }
    const exporterFailure = error instanceof Error && /Failed to start prometheus metrics exporter: (.*)/i.exec(error.message);
    if (exporterFailure) throw new MetricsEndpointError(exporterFailure[1]!);
    throw error;
  }
}
