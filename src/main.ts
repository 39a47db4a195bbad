/**
 * `npm start`: the whole service on one machine, on embedded defaults: the Temporal dev server (unless
 * TEMPORAL_ADDRESS points at one), the HeyGen simulator (unless HEYGEN_API_KEY or HEYGEN_BASE_URL says
 * where HeyGen is), and the worker. Parts stop in reverse order on Ctrl-C.
 */
import type { Config } from './config';
import { runMain, StartupError } from './lifecycle';
import type { Logger } from './logging';
import { startSimulator } from './simulator/app';
import { loadSimulatorConfig } from './simulator/config';
import { startEmbeddedTemporal, stopWhenServerDies } from './temporal/embedded';
import { installTemporalRuntime } from './temporal/runtime';
import { runVideoAgentWorker } from './worker';

async function startEmbeddedSimulator(logger: Logger): Promise<Awaited<ReturnType<typeof startSimulator>>> {
  const config = loadSimulatorConfig();
  try {
    return await startSimulator(config, logger.child({ component: 'simulator' }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new StartupError(`Port ${config.port} is already in use, so the HeyGen simulator cannot start. Set SIMULATOR_PORT to a free port.`);
    }
    throw error;
  }
}

runMain('video-agent-orchestrator', async ({ config: baseConfig, logger, lifecycle }) => {
  installTemporalRuntime(logger, { shutdownSignals: [] });
  let config: Config = baseConfig;
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

  if (config.heygen.simulator && !process.env.HEYGEN_BASE_URL) {
    const simulator = await startEmbeddedSimulator(logger);
    lifecycle.onShutdown('HeyGen simulator', () => simulator.close());
    config = { ...config, heygen: { ...config.heygen, baseUrl: simulator.url } };
    lines.push(`  HeyGen:          simulator at ${simulator.url} (no HEYGEN_API_KEY set)`);
  } else {
    lines.push(`  HeyGen:          ${config.heygen.simulator ? 'simulator at ' : ''}${config.heygen.baseUrl}`);
  }

  await runVideoAgentWorker(config, logger.child({ component: 'worker' }), lifecycle);
  lines.push(`  Worker:          task queue ${config.temporal.taskQueue}`);
  process.stdout.write(`\nvideo-agent-orchestrator is running\n${lines.join('\n')}\nPress Ctrl-C to stop.\n\n`);
});
