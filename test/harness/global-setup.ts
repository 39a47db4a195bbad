/**
 * Starts one Temporal dev server for the whole test run (headless, in memory, on a free port) and
 * publishes its address to the test workers through TEMPORAL_ADDRESS. If TEMPORAL_ADDRESS is already
 * set, that server is used instead. The CLI is installed on first use, exactly as `npm start` does it.
 * What this setup logs goes to .test-logs/global-setup.log, the server's own output to
 * .test-logs/temporal-server.log.
 */
import path from 'node:path';
import { createLogger } from '../../src/logging';
import { ensureTemporalCli } from '../../src/temporal/cli';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { ensureMoto } from './moto';
import { startLogFile, TEST_LOG_DIR, testLogDestination } from './test-log';

declare global {
  var __TEMPORAL_TEST_SERVER__: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const [setupLog, serverLog] = [path.join(TEST_LOG_DIR, 'global-setup.log'), path.join(TEST_LOG_DIR, 'temporal-server.log')];
  for (const file of [setupLog, serverLog]) startLogFile(file);
  const logger = createLogger({ level: 'info', destination: testLogDestination(setupLog) }).child({ component: 'test-harness' });
  const cli = await ensureTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH, logger });
  // Installed here, before any test runs: a first install (pip, about 45 s of CPU) during the run slowed
  // the tests beside it past their timeouts on a 2-core machine.
  await ensureMoto();
  // Tests that start servers of their own (persistence, restarts) use the same binary.
  process.env.TEMPORAL_CLI_PATH = cli.path;
  // Worker processes the tests start serve no metrics unless a test gives them a port: files run two at
  // a time, and a fixed port (or a developer's `npm start` on 9464) would stop the second worker.
  process.env.WORKER_METRICS_PORT = '0';
  if (process.env.TEMPORAL_ADDRESS) {
    logger.info({ address: process.env.TEMPORAL_ADDRESS }, 'tests use the Temporal server at TEMPORAL_ADDRESS');
    return;
  }
  const server = await startDevServer({ cliPath: cli.path, logger, logFile: serverLog });
  globalThis.__TEMPORAL_TEST_SERVER__ = server;
  process.env.TEMPORAL_ADDRESS = server.address;
}
