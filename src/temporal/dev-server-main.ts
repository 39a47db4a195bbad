/**
 * `npm run temporal`: the Temporal dev server alone (gRPC on TEMPORAL_DEV_PORT, Web UI on
 * TEMPORAL_DEV_UI_PORT, state in TEMPORAL_DEV_DB), for running the worker and API separately.
 */
import { loadTemporalConfig } from '../config/temporal';
import { runMain } from '../lifecycle';
import { stopWhenServerDies, startEmbeddedTemporal } from './embedded';

runMain('temporal', loadTemporalConfig, async ({ config, logger, lifecycle }) => {
  const server = await startEmbeddedTemporal(config, logger);
  lifecycle.onShutdown('temporal dev server', () => server.stop());
  stopWhenServerDies(server, lifecycle, logger);
  process.stdout.write(
    `\nTemporal dev server running\n` +
      `  gRPC:     ${server.address}   (namespace ${server.namespace})\n` +
      (server.uiUrl ? `  Web UI:   ${server.uiUrl}\n` : '') +
      `  Data:     ${server.dbFile}\n` +
      `Press Ctrl-C to stop.\n\n`,
  );
});
