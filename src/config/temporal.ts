/**
 * Where Temporal is and how to reach it (address, namespace, task queue, TLS or an API key), and the
 * embedded dev server's settings: the section every process that talks to Temporal reads.
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { z } from 'zod';
import { boolean, ConfigError, hostAndPort, loggingConfig, loggingEnv, nonEmpty, parseEnv, port } from './env';

export const temporalEnv = {
  TEMPORAL_ADDRESS: hostAndPort.optional(),
  TEMPORAL_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, { error: 'expected a Temporal namespace name, for example default' })
    .default('default'),
  TEMPORAL_TASK_QUEUE: nonEmpty.default('video-agent'),
  TEMPORAL_CLI_PATH: nonEmpty.optional(),
  TEMPORAL_API_KEY: nonEmpty.optional(),
  TEMPORAL_TLS: boolean.optional(),
  TEMPORAL_TLS_CERT: nonEmpty.optional(),
  TEMPORAL_TLS_KEY: nonEmpty.optional(),
  TEMPORAL_TLS_CERT_PATH: nonEmpty.optional(),
  TEMPORAL_TLS_KEY_PATH: nonEmpty.optional(),
  TEMPORAL_TLS_CA_PATH: nonEmpty.optional(),
  TEMPORAL_TLS_SERVER_NAME: nonEmpty.optional(),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_DEV_UI_PORT: port.default(8233),
  TEMPORAL_DEV_UI: boolean.default(true),
  TEMPORAL_DEV_DB: nonEmpty.optional(),
  DATA_DIR: nonEmpty.default('.data'),
};

type TemporalEnv = z.output<z.ZodObject<typeof temporalEnv>>;

function readPem(variable: string, file: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (error) {
    throw new ConfigError([{ variable, problem: `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})` }]);
  }
  if (!content.toString('utf8').includes('-----BEGIN ')) throw new ConfigError([{ variable, problem: `${file} is not a PEM file` }]);
  return content;
}

function inlinePem(variable: string, value: string): Buffer {
  // Inline PEM often arrives with literal \n from env files and secret stores.
  const text = value.includes('\\n') ? value.replace(/\\n/g, '\n') : value;
  if (!text.includes('-----BEGIN ')) throw new ConfigError([{ variable, problem: 'expected PEM text (-----BEGIN ...)' }]);
  return Buffer.from(text);
}

/** One of inline PEM or a path, or neither. */
function pem(env: TemporalEnv, inline: 'TEMPORAL_TLS_CERT' | 'TEMPORAL_TLS_KEY', pathVar: 'TEMPORAL_TLS_CERT_PATH' | 'TEMPORAL_TLS_KEY_PATH'): Buffer | undefined {
  if (env[inline] && env[pathVar]) throw new ConfigError([{ variable: pathVar, problem: `set either ${inline} or ${pathVar}, not both` }]);
  if (env[inline]) return inlinePem(inline, env[inline]);
  if (env[pathVar]) return readPem(pathVar, env[pathVar]);
  return undefined;
}

/**
 * TLS towards Temporal: mTLS with a client certificate (paths or inline PEM), or plain TLS, on whenever
 * a certificate or an API key is given (Temporal Cloud) unless TEMPORAL_TLS=false says otherwise.
 */
function temporalTls(env: TemporalEnv): false | TLSConfig {
  const crt = pem(env, 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_CERT_PATH');
  const key = pem(env, 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_KEY_PATH');
  if (crt && !key) throw new ConfigError([{ variable: 'TEMPORAL_TLS_KEY', problem: 'a client certificate needs its key (TEMPORAL_TLS_KEY or TEMPORAL_TLS_KEY_PATH)' }]);
  if (key && !crt) throw new ConfigError([{ variable: 'TEMPORAL_TLS_CERT', problem: 'a client key needs its certificate (TEMPORAL_TLS_CERT or TEMPORAL_TLS_CERT_PATH)' }]);
  const enabled = env.TEMPORAL_TLS ?? Boolean(crt || env.TEMPORAL_API_KEY || env.TEMPORAL_TLS_CA_PATH);
  if (!enabled) {
    if (crt) throw new ConfigError([{ variable: 'TEMPORAL_TLS', problem: 'is false, but a client certificate is configured' }]);
    return false;
  }
  return {
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(env.TEMPORAL_TLS_CA_PATH ? { serverRootCACertificate: readPem('TEMPORAL_TLS_CA_PATH', env.TEMPORAL_TLS_CA_PATH) } : {}),
    ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
}

/** The Temporal section of a process's configuration. */
export function temporalConfig(env: TemporalEnv) {
  return {
    temporal: {
      /** Where clients and workers connect. Defaults to the embedded dev server. */
      address: env.TEMPORAL_ADDRESS ?? `127.0.0.1:${env.TEMPORAL_DEV_PORT}`,
      /** True when no TEMPORAL_ADDRESS is given: `npm start` then runs its own dev server. */
      embedded: env.TEMPORAL_ADDRESS === undefined,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      /** Temporal Cloud API key (sent as a bearer token; TLS is then on). */
      apiKey: env.TEMPORAL_API_KEY,
      tls: temporalTls(env),
      cliPath: env.TEMPORAL_CLI_PATH,
      devServer: {
        port: env.TEMPORAL_DEV_PORT,
        uiPort: env.TEMPORAL_DEV_UI_PORT,
        ui: env.TEMPORAL_DEV_UI,
        dbFile: env.TEMPORAL_DEV_DB ?? `${env.DATA_DIR}/temporal/dev.db`,
      },
    },
    /** Local state of `npm start`: the dev server's database, the generated API token. */
    dataDir: env.DATA_DIR,
  };
}
export type TemporalConfig = ReturnType<typeof temporalConfig>;

/** Logging and Temporal: the Temporal tools (`npm run temporal`, `temporal:setup`, `temporal:cli`). */
export function loadTemporalConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseEnv(z.object({ ...loggingEnv, ...temporalEnv }), env);
  return { ...loggingConfig(parsed), ...temporalConfig(parsed) };
}
