/**
 * `npm start`: the whole service on one machine, on embedded defaults. Today that is the Temporal dev
 * server with its Web UI (unless TEMPORAL_ADDRESS points at an existing server).
 */
import { runMain } from './lifecycle';
import { startEmbeddedTemporal, stopWhenServerDies } from './temporal/embedded';

runMain('video-agent-orchestrator', async ({ config, logger, lifecycle }) => {
  const lines: string[] = [];
  if (config.temporal.embedded) {
    const server = await startEmbeddedTemporal(config, logger);
    lifecycle.onShutdown('temporal dev server', () => server.stop());
    stopWhenServerDies(server, lifecycle, logger);
    lines.push(`  Temporal:        ${server.address} (namespace ${server.namespace}, data in ${server.dbFile})`);
    if (server.uiUrl) lines.push(`  Temporal Web UI: ${server.uiUrl}`);
  } else {
    lines.push(`  Temporal:        ${config.temporal.address} (namespace ${config.temporal.namespace}, external)`);
  }
  process.stdout.write(`\nvideo-agent-orchestrator is running\n${lines.join('\n')}\nPress Ctrl-C to stop.\n\n`);
});
