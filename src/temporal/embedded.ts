/**
 * The embedded Temporal server of `npm start` and `npm run temporal`: the dev server on the ports and
 * SQLite file from config, with errors phrased in terms of the variables a user can change.
 */
import path from 'node:path';
import type { TemporalConfig as Config } from '../config/temporal';
import { StartupError, type Lifecycle } from '../lifecycle';
import type { Logger } from '../logging';
import { ensureTemporalCli } from './cli';
import { DevServerError, startDevServer, type DevServer } from './dev-server';

export async function startEmbeddedTemporal(config: Config, logger: Logger): Promise<DevServer> {
  const { devServer } = config.temporal;
  const cli = await ensureTemporalCli({ cliPath: config.temporal.cliPath, logger });
  logger.debug({ cli: cli.path, source: cli.source, version: cli.version }, 'using the Temporal CLI');
  const dbFile = path.resolve(devServer.dbFile);
  try {
    return await startDevServer({
      cliPath: cli.path,
      port: devServer.port,
      ui: devServer.ui,
      uiPort: devServer.uiPort,
      dbFile,
      namespace: config.temporal.namespace,
      logFile: path.join(path.dirname(dbFile), 'dev-server.log'),
      logger,
    });
  } catch (error) {
    if (error instanceof DevServerError && error.failure === 'port_in_use') {
      throw new StartupError(
        `Port ${devServer.port} is already in use, so the embedded Temporal server cannot start. ` +
          'Stop whatever uses it (another `npm start`?), set TEMPORAL_DEV_PORT to a free port, ' +
          'or set TEMPORAL_ADDRESS to use a Temporal server that is already running.',
      );
    }
    if (error instanceof DevServerError && error.failure === 'ui_port_in_use') {
      throw new StartupError(
        `Port ${devServer.uiPort} is already in use, so the Temporal Web UI cannot start. ` +
          'Set TEMPORAL_DEV_UI_PORT to a free port, or TEMPORAL_DEV_UI=false to run without the UI.',
      );
    }
    throw error;
  }
}

/** Shuts the process down if the server dies under us, rather than leaving workers talking to nothing. */
export function stopWhenServerDies(server: DevServer, lifecycle: Lifecycle, logger: Logger): void {
  void server.exited.then(({ code }) => {
    if (lifecycle.isStopping) return;
    logger.error({ code, log: path.join(path.dirname(server.dbFile ?? '.'), 'dev-server.log') }, 'the Temporal dev server exited unexpectedly');
    void lifecycle.shutdown('Temporal dev server exited', 1);
  });
}
