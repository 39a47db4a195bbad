/**
 * Connections to Temporal for clients (API, tools) and workers, from config, with an error that says
 * which variable to check when the server cannot be reached.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalConfig } from '../config/temporal';

type Config = Pick<TemporalConfig, 'temporal'>;
import { StartupError } from '../lifecycle';

function unreachable(config: Config, error: unknown): StartupError {
  return new StartupError(
    `Cannot reach Temporal at ${config.temporal.address} (${error instanceof Error ? error.message : String(error)}). ` +
      (config.temporal.embedded
        ? 'Start it with `npm run temporal` (or `npm start`), or set TEMPORAL_ADDRESS to a running server.'
        : 'Check TEMPORAL_ADDRESS and that the server is up.'),
  );
}

/** Address, TLS and API key: the same for clients and workers (Temporal Cloud, mTLS clusters, local). */
export function connectionOptions(config: Config) {
  const { address, tls, apiKey } = config.temporal;
  return { address, ...(tls ? { tls } : {}), ...(apiKey ? { apiKey } : {}) };
}

export async function connectClient(config: Config): Promise<Client> {
  try {
    const connection = await Connection.connect(connectionOptions(config));
    return new Client({ connection, namespace: config.temporal.namespace });
  } catch (error) {
    throw unreachable(config, error);
  }
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(connectionOptions(config));
  } catch (error) {
    throw unreachable(config, error);
  }
}

/**
 * A client whose connection is made on first use: the API starts (and answers /healthz, and 503 with
 * temporal_unavailable) even while Temporal is down, and recovers when it comes back.
 */
export function lazyClient(config: Config): Client {
  return new Client({ connection: Connection.lazy(connectionOptions(config)), namespace: config.temporal.namespace });
}
