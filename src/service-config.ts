/**
 * The configuration of `npm start`, which runs every part in one process: the union of the API's and
 * the worker's (src/api/config.ts, src/worker-config.ts), each declared once there with its default and
 * the form it must take. The README's configuration table lists the same variables (a test keeps the
 * two in step). Processes that run one part read only that part's variables.
 */
import { z } from 'zod';
import { apiEnv, apiSection } from './api/config';
import { loggingConfig, loggingEnv, parseEnv } from './config/env';
import { temporalConfig, temporalEnv } from './config/temporal';
import { workerEnv, workerSections } from './worker-config';

export { ConfigError, parseEnv } from './config/env';

/** Every variable the service reads, with defaults. Keys are the variable names. */
export const envSchema = z.object({ ...loggingEnv, ...temporalEnv, ...workerEnv, ...apiEnv });

export type Env = z.input<typeof envSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseEnv(envSchema, env);
  return { ...loggingConfig(parsed), ...temporalConfig(parsed), ...workerSections(parsed), api: apiSection(parsed) };
}

export type Config = ReturnType<typeof loadConfig>;
