/**
 * The HTTP API over real HTTP, on the run's Temporal server, with a session harness (simulator and
 * worker) behind it and a set of tokens covering the auth matrix.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/app';
import type { ApiToken } from '../../src/api/tokens';
import { loadConfig, type Config } from '../../src/service-config';
import { DEFAULT_SIMULATOR_WEBHOOK_SECRET } from '../../src/contract/simulator';
import { lazyClient } from '../../src/temporal/connection';
import { FAST_TIMING, startSessionHarness, type SessionHarness, type SessionHarnessOptions } from './sessions';
import { testLogger } from './temporal';

export const TOKENS = {
  admin: { name: 'ops-admin', token: 'tok_admin_7f3a9c2e51d84b06', scopes: ['admin'] },
  acme: { name: 'acme-tool', token: 'tok_acme_tool_4d1e8b7a92c3f605', scopes: ['sessions:create', 'sessions:read', 'sessions:review', 'sessions:stop'], tenant: 'acme' },
  acmeReader: { name: 'acme-reader', token: 'tok_acme_reader_0b9c7d6e5f4a3b21', scopes: ['sessions:read'], tenant: 'acme' },
  acmeCreator: { name: 'acme-creator', token: 'tok_acme_creator_5a6b7c8d9e0f1a2b', scopes: ['sessions:create'], tenant: 'acme' },
  initech: { name: 'initech-tool', token: 'tok_initech_tool_3c2b1a0f9e8d7c6b', scopes: ['sessions:create', 'sessions:read'], tenant: 'initech' },
  globex: { name: 'globex-tool', token: 'tok_globex_tool_8e7f6a5b4c3d2e10', scopes: ['sessions:create', 'sessions:read', 'sessions:review', 'sessions:stop'], tenant: 'globex' },
} satisfies Record<string, ApiToken>;

export type TokenName = keyof typeof TOKENS;

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiHarness {
  sessions: SessionHarness;
  app: FastifyInstance;
  /** The API's own Temporal client (a test may count the calls it makes). */
  client: Client;
  url: string;
  config: Config;
  call: <T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: { token?: TokenName | string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ) => Promise<ApiResponse<T>>;
  close: () => Promise<void>;
}

export interface ApiHarnessOptions {
  env?: Record<string, string>;
  sessions?: SessionHarnessOptions;
  /** Run the worker with callback_url = this API's webhook route, so the simulator calls us back. */
  webhooks?: boolean;
}

export async function startApiHarness(options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const sessions = await startSessionHarness({ ...options.sessions, worker: options.webhooks ? false : options.sessions?.worker });
  try {
    const api = await startApi(sessions, options.env ?? {});
    if (options.webhooks) await sessions.startWorker({ webhookUrl: `${api.url}/v1/webhooks/heygen` });
    return api;
  } catch (error) {
    await sessions.close();
    throw error;
  }
}

/**
 * Another API process's worth (its own config, e.g. other tokens) over the same sessions, worker and
 * Temporal: closing it leaves them running.
 */
export function startApiBeside(api: ApiHarness, env: Record<string, string>): Promise<ApiHarness> {
  return startApi(api.sessions, env, false);
}

async function startApi(sessions: SessionHarness, env: Record<string, string>, ownsSessions = true): Promise<ApiHarness> {
  const config = loadConfig({
    ...sessions.configEnv,
    API_TOKENS: JSON.stringify(Object.values(TOKENS)),
    SESSION_TIMING: JSON.stringify(FAST_TIMING),
    HEYGEN_WEBHOOK_SECRET: DEFAULT_SIMULATOR_WEBHOOK_SECRET,
    API_QUERY_TIMEOUT: '1s',
    API_DECISION_WAIT: '5s',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const client = lazyClient(config);
  const app = await buildApi({ config, logger: testLogger, client, tokens: config.api.tokens ?? [] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const call: ApiHarness['call'] = async (method, path, { token = 'acme', body, rawBody, headers = {} } = {}) => {
    const bearer = token === null ? undefined : token in TOKENS ? TOKENS[token as TokenName].token : token;
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(body !== undefined || rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (metrics, docs)
    }
    return { status: response.status, body: parsed as never, headers: response.headers };
  };

  return {
    sessions,
    app,
    client,
    url,
    config,
    call,
    close: async () => {
      await app.close();
      await client.connection.close();
      if (ownsSessions) await sessions.close();
    },
  };
}

/** Polls GET /v1/sessions/:id until the phase is one of `phases`. */
export async function waitForApiPhase(api: ApiHarness, id: string, phases: string | string[], token: TokenName = 'acme', timeoutMs = 20_000) {
  const wanted = Array.isArray(phases) ? phases : [phases];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await api.call<{ phase: string; [key: string]: unknown }>('GET', `/v1/sessions/${id}`, { token });
    if (response.status === 200 && wanted.includes(response.body.phase)) return response.body;
    if (Date.now() > deadline) throw new Error(`session ${id} did not reach ${wanted.join('|')}: last ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
