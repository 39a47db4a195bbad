/**
 * Reading configuration from the environment: the field forms every process uses, and `parseEnv`, which
 * fails fast with a {@link ConfigError} naming each bad variable and the form it must take. Each process
 * declares only the variables it reads (src/api/config.ts, src/worker-config.ts, src/simulator/config.ts,
 * the Temporal section here in src/config/temporal.ts), so one process's bad variable never stops another.
 */
import { z } from 'zod';
import { durationProblem, parseDuration } from '../contract/duration';
import { UserFacingError } from '../errors';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Variables whose values must never be echoed back in an error message. */
const SECRET_VARIABLE = /KEY|TOKEN|SECRET|PASSWORD/i;

export const port = z.coerce
  .number({ error: 'expected an integer port number between 1 and 65535' })
  .int({ error: 'expected an integer port number between 1 and 65535' })
  .min(1, { error: 'expected an integer port number between 1 and 65535' })
  .max(65535, { error: 'expected an integer port number between 1 and 65535' });

const HOST_AND_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;
export const hostAndPort = z.string().refine(
  (value) => {
    const match = HOST_AND_PORT.exec(value);
    return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
  },
  { error: 'expected host:port with a port between 1 and 65535, for example 127.0.0.1:7233' },
);

/** An interface to listen on, as an IP literal (a socket address takes no host names). */
export const ipAddress = z.union([z.ipv4(), z.ipv6()], { error: 'expected an IP address, for example 127.0.0.1 or 0.0.0.0' });

export const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const nonEmpty = z.string().trim().min(1, { error: 'expected a non-empty value' });

export const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL, for example https://api.heygen.com' });

export const duration = z.string().transform((value, context) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    context.addIssue({ code: 'custom', message: durationProblem(value) });
    return z.NEVER;
  }
  return ms;
});

export const positiveInt = z.coerce
  .number({ error: 'expected a whole number above 0' })
  .int({ error: 'expected a whole number above 0' })
  .min(1, { error: 'expected a whole number above 0' });

/** Logging, which every process reads. */
export const loggingEnv = {
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty'], { error: 'expected json or pretty' }).optional(),
};

export function loggingConfig(env: { LOG_LEVEL: (typeof LOG_LEVELS)[number]; LOG_FORMAT?: 'json' | 'pretty' | undefined }) {
  return { logLevel: env.LOG_LEVEL, logFormat: env.LOG_FORMAT };
}
export type LoggingConfig = ReturnType<typeof loggingConfig>;

/** Only logging: for processes whose own variables are parsed by their own module (the simulator). */
export function loadLoggingConfig(env: NodeJS.ProcessEnv = process.env): LoggingConfig {
  return loggingConfig(parseEnv(z.object(loggingEnv), env));
}

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

