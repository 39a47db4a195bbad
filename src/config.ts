/**
 * Service configuration: parsed once, at start, from the environment.
 *
 * Every variable is declared here with its default and the form it must take; `loadConfig` fails fast
 * with a {@link ConfigError} that names each bad variable. The README's configuration table lists the
 * same variables (a test keeps the two in step).
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { z } from 'zod';
import { durationProblem, parseDuration } from './contract/duration';
import { UserFacingError } from './errors';
import { jsonText } from './json-text';
import { ApiTokensJsonSchema } from './api/tokens';
import { TimingSchema } from './contract/session';
import { DEFAULT_SIMULATOR_API_KEY, DEFAULT_SIMULATOR_PORT } from './contract/simulator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Variables whose values must never be echoed back in an error message. */
const SECRET_VARIABLE = /KEY|TOKEN|SECRET|PASSWORD/i;

const port = z.coerce
  .number({ error: 'expected an integer port number between 1 and 65535' })
  .int({ error: 'expected an integer port number between 1 and 65535' })
  .min(1, { error: 'expected an integer port number between 1 and 65535' })
  .max(65535, { error: 'expected an integer port number between 1 and 65535' });

const HOST_AND_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;
const hostAndPort = z.string().refine(
  (value) => {
    const match = HOST_AND_PORT.exec(value);
    return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
  },
  { error: 'expected host:port with a port between 1 and 65535, for example 127.0.0.1:7233' },
);

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const nonEmpty = z.string().trim().min(1, { error: 'expected a non-empty value' });

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL, for example https://api.heygen.com' });

const duration = z.string().transform((value, context) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    context.addIssue({ code: 'custom', message: durationProblem(value) });
    return z.NEVER;
  }
  return ms;
});

const positiveInt = z.coerce
  .number({ error: 'expected a whole number above 0' })
  .int({ error: 'expected a whole number above 0' })
  .min(1, { error: 'expected a whole number above 0' });

/** The environment variables the service reads, with defaults. Keys are the variable names. */
export const envSchema = z.object({
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty'], { error: 'expected json or pretty' }).optional(),

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

  HEYGEN_API_KEY: nonEmpty.optional(),
  HEYGEN_BASE_URL: httpUrl.optional(),
  HEYGEN_WEBHOOK_URL: httpUrl.optional(),
  HEYGEN_MAX_CONCURRENT: z.coerce
    .number({ error: 'expected a whole number (0 turns the governor off)' })
    .int({ error: 'expected a whole number (0 turns the governor off)' })
    .min(0, { error: 'expected a whole number (0 turns the governor off)' })
    .max(10_000, { error: 'expected at most 10000' })
    .default(10),
  HEYGEN_HOLD_SLOT_IN_REVIEW: boolean.default(true),
  HEYGEN_SLOT_RECLAIM_INTERVAL: duration.default(30_000),

  WORKER_SHUTDOWN_GRACE: duration.default(30_000),
  WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(100),
  TEMPORAL_WORKFLOW_BUNDLE: nonEmpty.optional(),

  HOST: nonEmpty.default('127.0.0.1'),
  PORT: port.default(3000),
  API_TOKENS: ApiTokensJsonSchema.optional(),
  API_TOKENS_FILE: nonEmpty.optional(),
  API_BODY_LIMIT: positiveInt.default(1_048_576),
  API_RATE_LIMIT: positiveInt.default(600),
  API_QUERY_TIMEOUT: duration.default(3_000),
  API_TEMPORAL_TIMEOUT: duration.default(5_000),
  API_DECISION_WAIT: duration.default(5_000),
  API_MAX_EVENT_LOOP_DELAY: duration.default(1_000),
  API_CURSOR_SECRET: z.string().min(16, { error: 'expected a secret of at least 16 characters' }).optional(),
  HEYGEN_WEBHOOK_SECRET: z.string().min(8, { error: 'expected a secret of at least 8 characters' }).optional(),
  SESSION_TIMING: jsonText(TimingSchema.partial(), 'expected a JSON object such as {"pollInitial":"5s","pollMax":"1m"}').optional(),
});

export type Env = z.input<typeof envSchema>;

type ParsedEnv = z.output<typeof envSchema>;

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
function pem(env: ParsedEnv, inline: 'TEMPORAL_TLS_CERT' | 'TEMPORAL_TLS_KEY', pathVar: 'TEMPORAL_TLS_CERT_PATH' | 'TEMPORAL_TLS_KEY_PATH'): Buffer | undefined {
  if (env[inline] && env[pathVar]) throw new ConfigError([{ variable: pathVar, problem: `set either ${inline} or ${pathVar}, not both` }]);
  if (env[inline]) return inlinePem(inline, env[inline]);
  if (env[pathVar]) return readPem(pathVar, env[pathVar]);
  return undefined;
}

/**
 * TLS towards Temporal: mTLS with a client certificate (paths or inline PEM), or plain TLS, on whenever
 * a certificate or an API key is given (Temporal Cloud) unless TEMPORAL_TLS=false says otherwise.
 */
function temporalTls(env: ParsedEnv): false | TLSConfig {
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

function toConfig(env: ParsedEnv) {
  return {
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
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
    heygen: {
      /** Without a key the service talks to the HeyGen simulator (`npm run simulator`), never to HeyGen. */
      simulator: env.HEYGEN_API_KEY === undefined,
      apiKey: env.HEYGEN_API_KEY ?? DEFAULT_SIMULATOR_API_KEY,
      baseUrl: (env.HEYGEN_BASE_URL ?? (env.HEYGEN_API_KEY ? 'https://api.heygen.com' : `http://127.0.0.1:${DEFAULT_SIMULATOR_PORT}`)).replace(/\/+$/, ''),
      /** Our webhook receiver, given to HeyGen as `callback_url`. */
      webhookUrl: env.HEYGEN_WEBHOOK_URL,
      /** The concurrency governor: job slots per account, and whether a parked session keeps its slot. */
      governor: {
        maxConcurrent: env.HEYGEN_MAX_CONCURRENT,
        holdSlotWhileParked: env.HEYGEN_HOLD_SLOT_IN_REVIEW,
        reclaimCheckMs: env.HEYGEN_SLOT_RECLAIM_INTERVAL,
      },
      /** Verifies `Heygen-Signature`. Never defaulted: `npm start` passes its embedded simulator's own. */
      webhookSecret: env.HEYGEN_WEBHOOK_SECRET,
    },
    worker: {
      shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE,
      maxConcurrentActivities: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
      /** A prebuilt workflow bundle (`npm run build:workflows`); bundled from source at start otherwise. */
      workflowBundle: env.TEMPORAL_WORKFLOW_BUNDLE,
    },
    api: {
      host: env.HOST,
      port: env.PORT,
      tokens: env.API_TOKENS,
      tokensFile: env.API_TOKENS_FILE,
      bodyLimit: env.API_BODY_LIMIT,
      rateLimitPerMinute: env.API_RATE_LIMIT,
      queryTimeoutMs: env.API_QUERY_TIMEOUT,
      temporalTimeoutMs: env.API_TEMPORAL_TIMEOUT,
      decisionWaitMs: env.API_DECISION_WAIT,
      maxEventLoopDelayMs: env.API_MAX_EVENT_LOOP_DELAY,
      /** Signs listing cursors; shared by instances behind one address so a cursor works on any of them. */
      cursorSecret: env.API_CURSOR_SECRET,
      /** Polling and limit overrides for the sessions the API starts (see docs/session-workflow.md). */
      sessionTiming: env.SESSION_TIMING,
    },
  };
}

export type Config = ReturnType<typeof toConfig>;

/** Raised when the environment does not parse; the message names every bad variable. */
export class ConfigError extends UserFacingError {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly { variable: string; problem: string }[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.problem}`).join('\n')}\n` +
        'Fix the environment variables above (see the Configuration table in README.md).',
    );
  }
}

/**
 * Parses the variables a schema declares out of an environment. Empty values count as unset, as `FOO=`
 * in a compose file or a shell usually means "not configured". Throws a {@link ConfigError} naming every
 * bad variable, with the value received unless the variable holds a secret.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') raw[key] = value;
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? '(environment)');
      const received = raw[variable];
      const shown = received === undefined || SECRET_VARIABLE.test(variable) ? '' : `, got ${JSON.stringify(received)}`;
      return { variable, problem: `${issue.message}${shown}` };
    }),
  );
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return toConfig(parseEnv(envSchema, env));
}
