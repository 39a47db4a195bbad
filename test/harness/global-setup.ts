/**
 * Starts one Temporal dev server for the whole test run (headless, in memory, on a free port) and
 * publishes its address to the test workers through TEMPORAL_ADDRESS. If TEMPORAL_ADDRESS is already
 * set, that server is used instead. The CLI is installed on first use, exactly as `npm start` does it.
 */
import { createLogger } from '../../src/logging';
import { ensureTemporalCli } from '../../src/temporal/cli';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';

declare global {
  var __TEMPORAL_TEST_SERVER__: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const logger = createLogger({ level: 'info', format: 'json' }).child({ component: 'test-harness' });
  const cli = await ensureTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH, logger });
  // Tests that start servers of their own (persistence, restarts) use the same binary.
  process.env.TEMPORAL_CLI_PATH = cli.path;
  if (process.env.TEMPORAL_ADDRESS) {
    logger.info({ address: process.env.TEMPORAL_ADDRESS }, 'tests use the Temporal server at TEMPORAL_ADDRESS');
    return;
  }
  const server = await startDevServer({ cliPath: cli.path });
  globalThis.__TEMPORAL_TEST_SERVER__ = server;
  process.env.TEMPORAL_ADDRESS = server.address;
}
