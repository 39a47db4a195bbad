/**
 * Simulator configuration: parsed once from SIMULATOR_* variables at start. The behaviour knobs
 * (time scale, latency, fault rates, concurrency cap, webhook faults) can also be changed at runtime
 * through `PATCH /__sim/config`, validated by the same schema.
 */
import { z } from 'zod';
import { parseEnv } from '../config/env';

import { DEFAULT_SIMULATOR_API_KEY, DEFAULT_SIMULATOR_PORT, DEFAULT_SIMULATOR_WEBHOOK_SECRET } from '../contract/simulator';

export { DEFAULT_SIMULATOR_API_KEY, DEFAULT_SIMULATOR_PORT, DEFAULT_SIMULATOR_WEBHOOK_SECRET };

const rate = z.coerce
  .number({ error: 'expected a probability between 0 and 1' })
  .min(0, { error: 'expected a probability between 0 and 1' })
  .max(1, { error: 'expected a probability between 0 and 1' });
const millis = z.coerce
  .number({ error: 'expected a whole number of milliseconds (0 or more)' })
  .int({ error: 'expected a whole number of milliseconds (0 or more)' })
  .min(0, { error: 'expected a whole number of milliseconds (0 or more)' });
const count = z.coerce
  .number({ error: 'expected a whole number (0 or more)' })
  .int({ error: 'expected a whole number (0 or more)' })
  .min(0, { error: 'expected a whole number (0 or more)' });

/** Behaviour that can change while the simulator runs. */
export const SimulatorKnobsSchema = z.object({
  /** Simulated seconds per real second: 60 runs a 30-minute session in 30 s. */
  timeScale: z.coerce.number({ error: 'expected a number above 0' }).positive({ error: 'expected a number above 0' }).max(1_000_000),
  /** Added to every /v3 response. */
  latencyMs: millis,
  /** How long a "slow response" fault holds the response. */
  slowMs: millis,
  /** `Retry-After` (seconds) on injected and concurrency-cap 429s. */
  retryAfterSeconds: count,
  /** Probability per /v3 request of each fault. */
  faultRates: z.object({
    rateLimited: rate,
    serverError: rate,
    connectionReset: rate,
    malformedBody: rate,
    slowResponse: rate,
  }),
  /** Open sessions allowed per API key (HeyGen's pay-as-you-go cap is 10); 0 disables the cap. */
  concurrencyLimit: count,
  /** Download speed of each media file in bytes per second; 0 for as fast as the machine goes. */
  mediaBytesPerSecond: count,
  webhooks: z.object({
    /** Probability that an event is delivered twice (same event id). */
    duplicateRate: rate,
    /** Probability that an event is never delivered. */
    dropRate: rate,
  }),
});
export type SimulatorKnobs = z.infer<typeof SimulatorKnobsSchema>;

/** A partial update of the knobs (the body of `PATCH /__sim/config`). */
export const SimulatorKnobsPatchSchema = SimulatorKnobsSchema.extend({
  faultRates: SimulatorKnobsSchema.shape.faultRates.partial(),
  webhooks: SimulatorKnobsSchema.shape.webhooks.partial(),
})
  .partial()
  .strict();
export type SimulatorKnobsPatch = z.infer<typeof SimulatorKnobsPatchSchema>;

export function applyKnobsPatch(knobs: SimulatorKnobs, patch: SimulatorKnobsPatch): SimulatorKnobs {
  return {
    ...knobs,
    ...patch,
    faultRates: { ...knobs.faultRates, ...patch.faultRates },
    webhooks: { ...knobs.webhooks, ...patch.webhooks },
  };
}

const port = z.coerce
  .number({ error: 'expected an integer port number between 0 and 65535 (0 picks a free port)' })
  .int({ error: 'expected an integer port number between 0 and 65535 (0 picks a free port)' })
  .min(0, { error: 'expected an integer port number between 0 and 65535 (0 picks a free port)' })
  .max(65535, { error: 'expected an integer port number between 0 and 65535 (0 picks a free port)' });

export const simulatorEnvSchema = z.object({
  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SIMULATOR_PORT: port.default(DEFAULT_SIMULATOR_PORT),
  SIMULATOR_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  SIMULATOR_API_KEYS: z
    .string()
    .default(DEFAULT_SIMULATOR_API_KEY)
    .transform((value) => value.split(',').map((key) => key.trim()).filter(Boolean))
    .refine((keys) => keys.length > 0, { error: 'expected a comma-separated list of at least one key' }),
  SIMULATOR_WEBHOOK_SECRET: z.string().min(8, { error: 'expected a secret of at least 8 characters' }).default(DEFAULT_SIMULATOR_WEBHOOK_SECRET),
  SIMULATOR_TIME_SCALE: SimulatorKnobsSchema.shape.timeScale.default(1),
  SIMULATOR_LATENCY_MS: millis.default(0),
  SIMULATOR_SLOW_MS: millis.default(35_000),
  SIMULATOR_RETRY_AFTER_SECONDS: count.default(1),
  SIMULATOR_FAULT_RATE_429: rate.default(0),
  SIMULATOR_FAULT_RATE_5XX: rate.default(0),
  SIMULATOR_FAULT_RATE_RESET: rate.default(0),
  SIMULATOR_FAULT_RATE_MALFORMED: rate.default(0),
  SIMULATOR_FAULT_RATE_SLOW: rate.default(0),
  SIMULATOR_CONCURRENCY_LIMIT: count.default(10),
  SIMULATOR_MEDIA_BYTES_PER_SECOND: count.default(0),
  SIMULATOR_WEBHOOK_DUPLICATE_RATE: rate.default(0),
  SIMULATOR_WEBHOOK_DROP_RATE: rate.default(0),
  SIMULATOR_MEDIA_URL_TTL_SECONDS: count.default(7 * 24 * 3600),
  SIMULATOR_SEED: count.default(1),
  SIMULATOR_STATE_FILE: z.string().min(1).optional(),
});

export interface SimulatorConfig {
  host: string;
  port: number;
  publicUrl?: string;
  apiKeys: string[];
  webhookSecret: string;
  mediaUrlTtlSeconds: number;
  /** Seed of the fault dice, so a run with fault rates is reproducible. */
  seed: number;
  /** Where sessions are kept across restarts; in memory only when unset. */
  stateFile?: string;
  knobs: SimulatorKnobs;
}

export function loadSimulatorConfig(env: NodeJS.ProcessEnv = process.env): SimulatorConfig {
  const env_ = parseEnv(simulatorEnvSchema, env);
  return {
    host: env_.SIMULATOR_HOST,
    port: env_.SIMULATOR_PORT,
    publicUrl: env_.SIMULATOR_PUBLIC_URL?.replace(/\/+$/, ''),
    apiKeys: env_.SIMULATOR_API_KEYS,
    webhookSecret: env_.SIMULATOR_WEBHOOK_SECRET,
    mediaUrlTtlSeconds: env_.SIMULATOR_MEDIA_URL_TTL_SECONDS,
    seed: env_.SIMULATOR_SEED,
    stateFile: env_.SIMULATOR_STATE_FILE,
    knobs: {
      timeScale: env_.SIMULATOR_TIME_SCALE,
      latencyMs: env_.SIMULATOR_LATENCY_MS,
      slowMs: env_.SIMULATOR_SLOW_MS,
      retryAfterSeconds: env_.SIMULATOR_RETRY_AFTER_SECONDS,
      faultRates: {
        rateLimited: env_.SIMULATOR_FAULT_RATE_429,
        serverError: env_.SIMULATOR_FAULT_RATE_5XX,
        connectionReset: env_.SIMULATOR_FAULT_RATE_RESET,
        malformedBody: env_.SIMULATOR_FAULT_RATE_MALFORMED,
        slowResponse: env_.SIMULATOR_FAULT_RATE_SLOW,
      },
      concurrencyLimit: env_.SIMULATOR_CONCURRENCY_LIMIT,
      mediaBytesPerSecond: env_.SIMULATOR_MEDIA_BYTES_PER_SECOND,
      webhooks: { duplicateRate: env_.SIMULATOR_WEBHOOK_DUPLICATE_RATE, dropRate: env_.SIMULATOR_WEBHOOK_DROP_RATE },
    },
  };
}
