import { ConfigError } from '../../src/service-config';
import { applyKnobsPatch, DEFAULT_SIMULATOR_API_KEY, loadSimulatorConfig, SimulatorKnobsPatchSchema } from '../../src/simulator/config';

test('defaults', () => {
  const config = loadSimulatorConfig({});
  expect(config).toMatchObject({ host: '127.0.0.1', port: 4010, apiKeys: [DEFAULT_SIMULATOR_API_KEY], seed: 1 });
  expect(config.knobs).toEqual({
    timeScale: 1,
    latencyMs: 0,
    slowMs: 35_000,
    retryAfterSeconds: 1,
    faultRates: { rateLimited: 0, serverError: 0, connectionReset: 0, malformedBody: 0, slowResponse: 0 },
    concurrencyLimit: 10,
    mediaBytesPerSecond: 0,
    webhooks: { duplicateRate: 0, dropRate: 0 },
  });
});

test('every variable is read', () => {
  const config = loadSimulatorConfig({
    SIMULATOR_HOST: '0.0.0.0',
    SIMULATOR_PORT: '4999',
    SIMULATOR_PUBLIC_URL: 'http://sim.local:4999/',
    SIMULATOR_API_KEYS: 'key_a, key_b,,',
    SIMULATOR_WEBHOOK_SECRET: 'whsec_long_enough',
    SIMULATOR_TIME_SCALE: '60',
    SIMULATOR_LATENCY_MS: '25',
    SIMULATOR_SLOW_MS: '1000',
    SIMULATOR_RETRY_AFTER_SECONDS: '3',
    SIMULATOR_FAULT_RATE_429: '0.1',
    SIMULATOR_FAULT_RATE_5XX: '0.2',
    SIMULATOR_FAULT_RATE_RESET: '0.3',
    SIMULATOR_FAULT_RATE_MALFORMED: '0.4',
    SIMULATOR_FAULT_RATE_SLOW: '0.5',
    SIMULATOR_CONCURRENCY_LIMIT: '0',
    SIMULATOR_MEDIA_BYTES_PER_SECOND: '65536',
    SIMULATOR_WEBHOOK_DUPLICATE_RATE: '0.6',
    SIMULATOR_WEBHOOK_DROP_RATE: '0.7',
    SIMULATOR_MEDIA_URL_TTL_SECONDS: '60',
    SIMULATOR_SEED: '42',
  });
  expect(config).toMatchObject({
    host: '0.0.0.0',
    port: 4999,
    publicUrl: 'http://sim.local:4999',
    apiKeys: ['key_a', 'key_b'],
    webhookSecret: 'whsec_long_enough',
    mediaUrlTtlSeconds: 60,
    seed: 42,
  });
  expect(config.knobs).toEqual({
    timeScale: 60,
    latencyMs: 25,
    slowMs: 1000,
    retryAfterSeconds: 3,
    faultRates: { rateLimited: 0.1, serverError: 0.2, connectionReset: 0.3, malformedBody: 0.4, slowResponse: 0.5 },
    concurrencyLimit: 0,
    mediaBytesPerSecond: 65536,
    webhooks: { duplicateRate: 0.6, dropRate: 0.7 },
  });
});

test.each([
  ['SIMULATOR_PORT', '70000', /port number between 0 and 65535/],
  ['SIMULATOR_TIME_SCALE', '0', /number above 0/],
  ['SIMULATOR_FAULT_RATE_5XX', '1.5', /probability between 0 and 1/],
  ['SIMULATOR_API_KEYS', ' , ', /at least one key/],
  ['SIMULATOR_LATENCY_MS', '-5', /milliseconds/],
  ['SIMULATOR_PUBLIC_URL', 'sim.local', /http\(s\) URL/],
])('%s=%j fails naming the variable', (variable, value, message) => {
  let error: unknown;
  try {
    loadSimulatorConfig({ [variable]: value });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).problems).toEqual([{ variable, problem: expect.stringMatching(message) }]);
});

test('a short webhook secret is rejected without echoing it', () => {
  expect(() => loadSimulatorConfig({ SIMULATOR_WEBHOOK_SECRET: 'short' })).toThrow(/SIMULATOR_WEBHOOK_SECRET: expected a secret of at least 8 characters\n/);
});

test('runtime patches merge and are validated', () => {
  const knobs = loadSimulatorConfig({}).knobs;
  const patched = applyKnobsPatch(knobs, SimulatorKnobsPatchSchema.parse({ timeScale: 500, faultRates: { serverError: 0.5 } }));
  expect(patched.timeScale).toBe(500);
  expect(patched.faultRates).toEqual({ ...knobs.faultRates, serverError: 0.5 });
  expect(SimulatorKnobsPatchSchema.safeParse({ faultRates: { serverError: 2 } }).success).toBe(false);
  expect(SimulatorKnobsPatchSchema.safeParse({ unknownKnob: 1 }).success).toBe(false);
});
