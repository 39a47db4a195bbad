/**
 * `npm run api`: the HTTP API alone, against TEMPORAL_ADDRESS. It refuses to start without API tokens
 * (API_TOKENS or API_TOKENS_FILE): the API never runs open.
 */
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../config/env';
import { loadApiConfig, type ApiConfig } from './config';
import { runMain, StartupError, type Lifecycle } from '../lifecycle';
import type { Logger } from '../logging';
import { lazyClient } from '../temporal/connection';
import { buildApi } from './app';
import { loadApiTokens } from './auth';
import type { ApiToken } from './tokens';

/** Builds the API and listens on HOST:PORT; registers its stop (in-flight requests finish first). */
export async function runApi(config: ApiConfig, logger: Logger, lifecycle: Lifecycle, tokens: readonly ApiToken[]): Promise<{ app: FastifyInstance; url: string }> {
  if (tokens.length === 0) {
    throw new StartupError('No API tokens are configured. Set API_TOKENS (a JSON array of {name, token, scopes, tenant?}) or API_TOKENS_FILE.');
  }
  if (config.api.webhookUrl && !config.api.webhookSecret) {
    throw new ConfigError([
      { variable: 'HEYGEN_WEBHOOK_SECRET', problem: 'HEYGEN_WEBHOOK_URL is set, so HeyGen calls this API back, but there is no secret to verify its signatures with' },
    ]);
  }
  const client = lazyClient(config);
  const app = await buildApi({ config, logger, client, tokens });
  try {
    await app.listen({ host: config.api.host, port: config.api.port });
  } catch (error) {
    await app.close();
    await client.connection.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new StartupError(`Port ${config.api.port} is already in use, so the API cannot start. Set PORT to a free port.`);
    }
    throw error;
  }
  lifecycle.onShutdown('api', async () => {
    await app.close();
    await client.connection.close();
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  const url = `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${port}`;
  logger.info({ url, tokens: tokens.length }, 'API listening');
  return { app, url };
}

if (require.main === module) {
  runMain('api', loadApiConfig, async ({ config, logger, lifecycle }) => {
    const { url } = await runApi(config, logger, lifecycle, loadApiTokens(config));
    process.stdout.write(`\nAPI listening on ${url} (docs: ${url}/docs)\n\n`);
  });
}
