/**
 * `npm run simulator [-- --port N]`: the HeyGen simulator alone, configured by SIMULATOR_* variables.
 * Point the worker at it with HEYGEN_BASE_URL=<its URL> and HEYGEN_API_KEY=<one of SIMULATOR_API_KEYS>.
 */
import { loadLoggingConfig } from '../config/env';
import { StartupError, runMain } from '../lifecycle';
import { startSimulator } from './app';
import { loadSimulatorConfig } from './config';

function portFromArgs(args: string[]): string | undefined {
  const index = args.findIndex((arg) => arg === '--port' || arg.startsWith('--port='));
  if (index < 0) return undefined;
  const value = args[index]!.includes('=') ? args[index]!.split('=')[1] : args[index + 1];
  if (!value) throw new StartupError('--port needs a value, e.g. --port 4010');
  return value;
}

runMain('simulator', loadLoggingConfig, async ({ logger, lifecycle }) => {
  const port = portFromArgs(process.argv.slice(2));
  const config = loadSimulatorConfig(port === undefined ? process.env : { ...process.env, SIMULATOR_PORT: port });
  let simulator;
  try {
    simulator = await startSimulator(config, logger);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new StartupError(`Port ${config.port} is already in use. Set SIMULATOR_PORT (or pass --port) to a free port.`);
    }
    throw error;
  }
  lifecycle.onShutdown('simulator', () => simulator.close());
  process.stdout.write(
    `\nHeyGen simulator listening on ${simulator.url}\n` +
      `  API keys:   ${config.apiKeys.length} configured (SIMULATOR_API_KEYS)\n` +
      `  time scale: ${config.knobs.timeScale}x   concurrency cap: ${config.knobs.concurrencyLimit || 'none'}\n` +
      `  admin:      ${simulator.url}/__sim/stats, /__sim/config, /__sim/faults, /__sim/reset\n` +
      `Try: curl -s -X POST ${simulator.url}/v3/video-agents -H 'X-Api-Key: <key>' -H 'Content-Type: application/json' -d '{"prompt":"A 30 second product teaser [[sim think=5s]]","mode":"chat"}'\n\n`,
  );
});
