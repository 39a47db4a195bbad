/**
 * `npm start`: the whole service on one machine, on embedded defaults: the Temporal dev server (unless
 * TEMPORAL_ADDRESS points at one), the HeyGen simulator (unless HEYGEN_API_KEY or HEYGEN_BASE_URL says
 * where HeyGen is), the worker and the HTTP API. Parts stop in reverse order on Ctrl-C: the API first,
 * then the worker, the simulator and the Temporal server.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadApiTokens } from './api/auth';
import { localApiToken, localReviewLinkSecret } from './api/local-token';
import { runApi } from './api/main';
import { LOCAL_API_URL_FILE } from './paths';
import { loadConfig, type Config } from './service-config';
import { runMain, StartupError } from './lifecycle';
import type { Logger } from './logging';
import { startSimulator } from './simulator/app';
import { loadSimulatorConfig } from './simulator/config';
import { startEmbeddedTemporal, stopWhenServerDies } from './temporal/embedded';
import { describeWorkerMetrics, describeWorkerVersion, installWorkerRuntime, runVideoAgentWorker } from './worker';

/** The port of `host:port` or of a URL. */
function portOf(address: string): number {
  return Number(new URL(address.includes('://') ? address : `tcp://${address}`).port);
}

async function startEmbeddedSimulator(dataDir: string, logger: Logger): Promise<Awaited<ReturnType<typeof startSimulator>>> {
  // Kept under DATA_DIR like Temporal's state, so sessions resume against the same simulated HeyGen.
  const config = loadSimulatorConfig({ SIMULATOR_STATE_FILE: path.join(dataDir, 'simulator', 'state.json'), ...process.env });
  try {
    return await startSimulator(config, logger.child({ component: 'simulator' }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new StartupError(`Port ${config.port} is already in use, so the HeyGen simulator cannot start. Set SIMULATOR_PORT to a free port.`);
    }
    throw error;
  }
}

runMain('video-agent-orchestrator', loadConfig, async ({ config: baseConfig, logger, lifecycle }) => {
  installWorkerRuntime(baseConfig, logger);
  let config: Config = baseConfig;
  const lines: string[] = [];
  let uiUrl: string | undefined;
  // The ports of the parts this process runs: notifications never go there (NOTIFY_DENIED_PORTS), so a
  // session cannot use the worker to reach the simulator's admin routes, Temporal or the API.
  const ownPorts = new Set<number>([portOf(config.temporal.address), config.api.port]);
  if (config.worker.metrics) ownPorts.add(config.worker.metrics.port);

  if (config.temporal.embedded) {
    const server = await startEmbeddedTemporal(config, logger);
    lifecycle.onShutdown('temporal dev server', () => server.stop());
    stopWhenServerDies(server, lifecycle, logger);
    lines.push(`  Temporal:        ${server.address} (namespace ${server.namespace}, data in ${server.dbFile})`);
    if (server.uiUrl) lines.push(`  Temporal Web UI: ${server.uiUrl}`);
    uiUrl = server.uiUrl ?? undefined;
    for (const port of [portOf(server.address), server.httpPort, server.metricsPort]) ownPorts.add(port);
    if (uiUrl) ownPorts.add(portOf(uiUrl));
  } else {
    lines.push(`  Temporal:        ${config.temporal.address} (namespace ${config.temporal.namespace}, external)`);
  }

  if (config.heygen.simulator && !process.env.HEYGEN_BASE_URL) {
    const simulator = await startEmbeddedSimulator(config.dataDir, logger);
    lifecycle.onShutdown('HeyGen simulator', () => simulator.close());
    ownPorts.add(portOf(simulator.url));
    // The embedded simulator calls back into our API, signed with its own secret, so a finished render
    // wakes its session at once. (Real HeyGen cannot reach a local address: set HEYGEN_WEBHOOK_URL to a
    // public one, and HEYGEN_WEBHOOK_SECRET, for that.)
    const apiBase = `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}`;
    const webhookUrl = config.heygen.webhookUrl ?? `${apiBase}/v1/webhooks/heygen`;
    config = {
      ...config,
      heygen: { ...config.heygen, baseUrl: simulator.url, webhookUrl },
      api: { ...config.api, webhookUrl, webhookSecret: simulator.handle.webhookSecret },
    };
    lines.push(`  HeyGen:          simulator at ${simulator.url} (no HEYGEN_API_KEY set)`);
  } else {
    lines.push(`  HeyGen:          ${config.heygen.simulator ? 'simulator at ' : ''}${config.heygen.baseUrl}`);
  }

  let tokens = loadApiTokens(config);
  let tokenLine = `  API tokens:      ${tokens.length} configured (API_TOKENS${config.api.tokensFile ? '_FILE' : ''})`;
  // Configured tokens are never printed; the generated one is read from its file after the first start.
  let tokenValue = '<one of your API_TOKENS>';
  if (tokens.length === 0) {
    const local = await localApiToken(config.dataDir);
    tokens = [local.token];
    tokenValue = local.created ? local.token.token : `$(node -p "require('${local.file}').token")`;
    tokenLine = local.created
      ? `  API token:       ${local.token.token}\n                   (generated once, kept in ${local.file}; set API_TOKENS to use your own)\n` +
        `  Notify secret:   ${local.token.notifySecret} (verifies the notifications of sessions started with it)`
      : `  API token:       in ${local.file} (with its notify secret)`;
  }
  // On one machine notifications usually go to a local receiver (`npx vao listen`): allowed unless said
  // otherwise, but never to the ports of this stack.
  const allowPrivate = process.env.NOTIFY_ALLOW_PRIVATE?.trim() ? config.notify.allowPrivate : true;
  const deniedPorts = [...new Set([...config.notify.deniedPorts, ...ownPorts])].filter((port) => port > 0).sort((a, b) => a - b);
  // Review links: the API and the worker share one key, and links point at this API.
  const reviewLinks = {
    secret: config.api.reviewLinks.secret ?? (await localReviewLinkSecret(config.dataDir)),
    publicUrl: config.api.reviewLinks.publicUrl ?? `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}`,
  };
  config = {
    ...config,
    notify: { ...config.notify, tokens: { tokens, tokensFile: undefined }, allowPrivate, deniedPorts, reviewLinks },
    api: { ...config.api, notifyAllowPrivate: allowPrivate, notifyDeniedPorts: deniedPorts, reviewLinks },
  };

  // One machine runs one build: it takes the new sessions, and the open sessions of earlier builds move
  // to it (README, "Deploying a new version", for running two builds side by side).
  await runVideoAgentWorker(config, logger.child({ component: 'worker' }), lifecycle, { makeCurrent: true });
  lines.push(
    `  Worker:          task queue ${config.temporal.taskQueue}, build ${describeWorkerVersion(config)}${config.deployment.versioning ? ' (current)' : ''}`,
    `  Worker metrics:  ${describeWorkerMetrics(config)}`,
  );

  const { url } = await runApi(config, logger.child({ component: 'api' }), lifecycle, tokens);
  // Beside the token: the CLI in this folder calls this API, on whatever PORT it runs.
  await writeFile(path.join(config.dataDir, LOCAL_API_URL_FILE), `${url}\n`);
  lines.push(`  API:             ${url} (docs: ${url}/docs)`, tokenLine, `  Review page:     ${url}/review (or a link: npx vao review-link <id>)`);
  lines.push(`  Notifications:   to ${allowPrivate ? 'any address, loopback included' : 'public addresses only'}, never to this stack's ports (${deniedPorts.join(', ')})`);
  lines.push(
    '',
    'Try:',
    `  npx vao start --prompt "A 30 second teaser for our app" --watch`,
    `    (in this folder the CLI finds this API and its token in ${config.dataDir}; elsewhere add --url ${url} --token <token>, or export VAO_URL and VAO_TOKEN)`,
    `  export TOKEN=${tokenValue}`,
    `  curl -s -X POST ${url}/v1/sessions -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"prompt":"A 30 second teaser for our app"}'`,
  );
  if (uiUrl) lines.push(`  Sessions waiting for a reviewer: ${uiUrl}/namespaces/${config.temporal.namespace}/workflows?query=${encodeURIComponent('VideoAgentStatus="reviewing"')}`);
  process.stdout.write(`\nvideo-agent-orchestrator is running\n${lines.join('\n')}\n\nPress Ctrl-C to stop.\n\n`);
});
