import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, envSchema, loadConfig } from '../src/service-config';
import { loadApiConfig } from '../src/api/config';
import { loadTemporalConfig } from '../src/config/temporal';
import { loadDeploymentToolConfig } from '../src/config/worker-deployment';
import { loadSimulatorConfig, simulatorEnvSchema } from '../src/simulator/config';
import { loadWorkerConfig } from '../src/worker-config';

function problemsOf(env: NodeJS.ProcessEnv): { variable: string; problem: string }[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  test('defaults describe the embedded setup', () => {
    const config = loadConfig({});
    expect(config.temporal).toEqual({
      address: '127.0.0.1:7233',
      embedded: true,
      namespace: 'default',
      taskQueue: 'video-agent',
      apiKey: undefined,
      tls: false,
      cliPath: undefined,
      devServer: { port: 7233, uiPort: 8233, ui: true, dbFile: '.data/temporal/dev.db' },
    });
    expect(config.heygen).toEqual({
      simulator: true,
      apiKey: 'sim_local_key',
      baseUrl: 'http://127.0.0.1:4010',
      webhookUrl: undefined,
      governor: { maxConcurrent: 10, holdSlotWhileParked: true, reclaimCheckMs: 30_000 },
    });
    expect(config.worker).toEqual({
      shutdownGraceMs: 30_000,
      maxConcurrentActivities: 100,
      maxCachedWorkflows: 100,
      workflowBundle: undefined,
      metrics: { host: '127.0.0.1', port: 9464, bindAddress: '127.0.0.1:9464', url: 'http://127.0.0.1:9464/metrics', countIntervalMs: 30_000 },
    });
    expect(config.api).toEqual({
      host: '127.0.0.1',
      port: 3000,
      tokens: undefined,
      tokensFile: undefined,
      bodyLimit: 1_048_576,
      rateLimitPerMinute: 600,
      queryTimeoutMs: 3_000,
      temporalTimeoutMs: 5_000,
      decisionWaitMs: 5_000,
      maxEventLoopDelayMs: 1_000,
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      maxConnections: 4_096,
      streamIntervalMs: 500,
      streams: { perToken: 20, max: 500 },
      notifyAllowPrivate: false,
      notifyDeniedPorts: [],
      reviewLinks: { secret: undefined, publicUrl: undefined },
      sessionTiming: undefined,
      archive: { kind: 'local', dir: path.resolve('.data', 'archive') },
    });
    expect(config.archive).toEqual(config.api.archive);
    expect(config.logLevel).toBe('info');
    expect(config.dataDir).toBe('.data');
  });

  test('reads every variable', () => {
    const config = loadConfig({
      WORKER_MAX_CACHED_WORKFLOWS: '300',
      REVIEW_LINK_SECRET: 'the review link secret, 32 characters or more',
      API_PUBLIC_URL: 'https://vao.example.com/',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'video-prod',
      TEMPORAL_TASK_QUEUE: 'video-agent-eu',
      TEMPORAL_CLI_PATH: '/opt/temporal/bin/temporal',
      TEMPORAL_DEV_PORT: '17233',
      TEMPORAL_DEV_UI_PORT: '18233',
      TEMPORAL_DEV_UI: 'false',
      TEMPORAL_DEV_DB: '/var/lib/vao/dev.db',
      HEYGEN_API_KEY: 'sk_V2_example',
      HEYGEN_BASE_URL: 'https://api.heygen.com/',
      HEYGEN_WEBHOOK_URL: 'https://vao.example.com/v1/webhooks/heygen',
      HEYGEN_MAX_CONCURRENT: '20',
      HEYGEN_HOLD_SLOT_IN_REVIEW: 'false',
      HEYGEN_SLOT_RECLAIM_INTERVAL: '1m',
      WORKER_SHUTDOWN_GRACE: '45s',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '20',
      TEMPORAL_WORKFLOW_BUNDLE: 'dist/workflow-bundle.js',
      WORKER_METRICS_PORT: '9100',
      WORKER_METRICS_HOST: '0.0.0.0',
      WORKER_METRICS_COUNT_INTERVAL: '15s',
      HOST: '0.0.0.0',
      PORT: '8080',
      API_TOKENS_FILE: '/etc/vao/tokens.json',
      API_BODY_LIMIT: '2048',
      API_RATE_LIMIT: '60',
      API_QUERY_TIMEOUT: '2s',
      API_TEMPORAL_TIMEOUT: '4s',
      API_DECISION_WAIT: '10s',
      API_MAX_EVENT_LOOP_DELAY: '250ms',
      API_STREAMS_PER_TOKEN: '5',
      API_STREAMS_MAX: '50',
      API_REQUEST_TIMEOUT: '45s',
      API_HEADERS_TIMEOUT: '15s',
      API_MAX_CONNECTIONS: '512',
      HEYGEN_WEBHOOK_SECRET: 'whsec_real_secret',
      NOTIFY_ALLOW_PRIVATE: 'true',
      NOTIFY_DENIED_PORTS: '7233, 8233,7233',
      SESSION_TIMING: '{"pollInitial":"5s","maxThinking":"1h"}',
      DATA_DIR: '/var/lib/vao',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
    });
    expect(config.temporal.address).toBe('temporal.internal:7233');
    expect(config.temporal.embedded).toBe(false);
    expect(config.temporal.namespace).toBe('video-prod');
    expect(config.temporal.taskQueue).toBe('video-agent-eu');
    expect(config.temporal.cliPath).toBe('/opt/temporal/bin/temporal');
    expect(config.temporal.devServer).toEqual({ port: 17233, uiPort: 18233, ui: false, dbFile: '/var/lib/vao/dev.db' });
    expect(config.heygen).toEqual({
      simulator: false,
      apiKey: 'sk_V2_example',
      baseUrl: 'https://api.heygen.com',
      webhookUrl: 'https://vao.example.com/v1/webhooks/heygen',
      governor: { maxConcurrent: 20, holdSlotWhileParked: false, reclaimCheckMs: 60_000 },
    });
    expect(config.dataDir).toBe('/var/lib/vao');
    expect(config.worker).toEqual({
      shutdownGraceMs: 45_000,
      maxConcurrentActivities: 20,
      maxCachedWorkflows: 300,
      workflowBundle: 'dist/workflow-bundle.js',
      // Every interface: reached at loopback from this machine.
      metrics: { host: '0.0.0.0', port: 9100, bindAddress: '0.0.0.0:9100', url: 'http://127.0.0.1:9100/metrics', countIntervalMs: 15_000 },
    });
    expect(config.api).toEqual({
      host: '0.0.0.0',
      port: 8080,
      tokens: undefined,
      tokensFile: '/etc/vao/tokens.json',
      bodyLimit: 2048,
      rateLimitPerMinute: 60,
      queryTimeoutMs: 2_000,
      temporalTimeoutMs: 4_000,
      decisionWaitMs: 10_000,
      maxEventLoopDelayMs: 250,
      requestTimeoutMs: 45_000,
      headersTimeoutMs: 15_000,
      maxConnections: 512,
      streamIntervalMs: 500,
      streams: { perToken: 5, max: 50 },
      notifyAllowPrivate: true,
      notifyDeniedPorts: [7233, 8233],
      reviewLinks: { secret: 'the review link secret, 32 characters or more', publicUrl: 'https://vao.example.com' },
      webhookSecret: 'whsec_real_secret',
      webhookUrl: 'https://vao.example.com/v1/webhooks/heygen',
      sessionTiming: expect.objectContaining({ pollInitial: 5_000, maxThinking: 3_600_000 }),
      archive: { kind: 'local', dir: '/var/lib/vao/archive' },
    });
    expect(config.notify).toMatchObject({ allowPrivate: true, deniedPorts: [7233, 8233] });
    expect(config.logLevel).toBe('debug');
    expect(config.logFormat).toBe('json');
  });

  test('NOTIFY_DENIED_PORTS: a list of ports, anything else named', () => {
    expect(loadConfig({}).notify.deniedPorts).toEqual([]);
    expect(() => loadConfig({ NOTIFY_DENIED_PORTS: '7233,http' })).toThrow(/NOTIFY_DENIED_PORTS: expected a comma-separated list of port numbers between 1 and 65535.*got "7233,http"/);
    expect(() => loadConfig({ NOTIFY_DENIED_PORTS: '70000' })).toThrow(/NOTIFY_DENIED_PORTS: expected a comma-separated list/);
  });

  test('request timeouts and the connection cap: defaults, overrides, and headers no longer than the request', () => {
    expect(loadConfig({}).api).toMatchObject({ requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, maxConnections: 4_096 });
    expect(loadConfig({ API_REQUEST_TIMEOUT: '1m', API_HEADERS_TIMEOUT: '5s', API_MAX_CONNECTIONS: '100' }).api).toMatchObject({ requestTimeoutMs: 60_000, headersTimeoutMs: 5_000, maxConnections: 100 });
    expect(() => loadConfig({ API_REQUEST_TIMEOUT: '5s' })).toThrow(/API_HEADERS_TIMEOUT: must not be longer than API_REQUEST_TIMEOUT/);
    expect(() => loadConfig({ API_MAX_CONNECTIONS: '0' })).toThrow(/API_MAX_CONNECTIONS/);
  });

  test('the archive: a folder under DATA_DIR, ARCHIVE_DIR, an S3 bucket, or off; anything else named', () => {
    expect(loadConfig({ ARCHIVE_DIR: '/srv/videos' }).archive).toEqual({ kind: 'local', dir: '/srv/videos' });
    expect(loadConfig({ ARCHIVE: 'off', ARCHIVE_DIR: '/srv/videos' }).api.archive).toEqual({ kind: 'off' });
    expect(() => loadConfig({ ARCHIVE: 's4' })).toThrow(/ARCHIVE: expected local, s3 or off/);
    expect(loadConfig({ ARCHIVE: 's3', ARCHIVE_S3_BUCKET: 'videos', ARCHIVE_S3_ENDPOINT: 'http://minio:9000/', AWS_REGION: 'eu-west-1', DATA_DIR: '/srv/vao' }).archive).toEqual({
      kind: 's3',
      bucket: 'videos',
      prefix: '',
      region: 'eu-west-1',
      endpoint: 'http://minio:9000',
      stagingDir: '/srv/vao/archive/.staging',
    });
    expect(loadConfig({ ARCHIVE: 's3', ARCHIVE_S3_BUCKET: 'videos', ARCHIVE_S3_PREFIX: 'vao/', ARCHIVE_S3_REGION: 'us-west-2', AWS_REGION: 'eu-west-1' }).api.archive).toMatchObject({ prefix: 'vao/', region: 'us-west-2' });
    expect(() => loadConfig({ ARCHIVE: 's3' })).toThrow(/ARCHIVE_S3_BUCKET: ARCHIVE=s3 needs the bucket/);
    expect(() => loadConfig({ ARCHIVE: 's3', ARCHIVE_S3_BUCKET: 'b', ARCHIVE_S3_PREFIX: '/abs' })).toThrow(/ARCHIVE_S3_PREFIX: expected folder names ending in a slash/);
  });

  test('the dev server database follows DATA_DIR unless TEMPORAL_DEV_DB is set', () => {
    expect(loadConfig({ DATA_DIR: '/srv/vao' }).temporal.devServer.dbFile).toBe('/srv/vao/temporal/dev.db');
    expect(loadConfig({ DATA_DIR: '/srv/vao', TEMPORAL_DEV_DB: '/db/dev.db' }).temporal.devServer.dbFile).toBe('/db/dev.db');
  });

  test('the default address follows TEMPORAL_DEV_PORT', () => {
    expect(loadConfig({ TEMPORAL_DEV_PORT: '17000' }).temporal.address).toBe('127.0.0.1:17000');
  });

  test('with a key and no base URL, the real API; without a key, the simulator unless a base URL is given', () => {
    expect(loadConfig({ HEYGEN_API_KEY: 'k' }).heygen.baseUrl).toBe('https://api.heygen.com');
    expect(loadConfig({ HEYGEN_BASE_URL: 'http://sim.internal:4010' }).heygen).toMatchObject({ simulator: true, baseUrl: 'http://sim.internal:4010' });
  });

  test('empty values count as unset', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: '', PORT: '  ', HEYGEN_API_KEY: '' });
    expect(config.temporal.embedded).toBe(true);
    expect(config.api.port).toBe(3000);
    expect(config.heygen.simulator).toBe(true);
  });

  test.each([
    ['PORT', 'abc', /integer port/],
    ['PORT', '70000', /integer port/],
    ['PORT', '3000.5', /integer port/],
    ['TEMPORAL_DEV_PORT', '0', /integer port/],
    ['TEMPORAL_ADDRESS', 'localhost', /host:port/],
    ['TEMPORAL_ADDRESS', 'http://localhost:7233', /host:port/],
    ['TEMPORAL_ADDRESS', 'localhost:99999', /host:port with a port between 1 and 65535/],
    ['TEMPORAL_NAMESPACE', 'has space', /namespace/],
    ['TEMPORAL_DEV_UI', 'maybe', /true or false/],
    ['HEYGEN_BASE_URL', 'api.heygen.com', /http\(s\) URL/],
    ['HEYGEN_BASE_URL', 'ftp://api.heygen.com', /http\(s\) URL/],
    ['LOG_LEVEL', 'verbose', /one of fatal, error, warn, info/],
    ['LOG_FORMAT', 'xml', /json or pretty/],
    ['HEYGEN_WEBHOOK_URL', 'vao.example.com/hook', /http\(s\) URL/],
    ['WORKER_SHUTDOWN_GRACE', 'a while', /duration with a unit \(ms, s, m, h or d\), such as 500ms, 30s/],
    ['WORKER_MAX_CONCURRENT_ACTIVITIES', '0', /whole number above 0/],
    ['NOTIFY_MAX_CONCURRENT', '0', /whole number above 0/],
    ['NOTIFY_MAX_PER_TENANT', 'two', /whole number above 0/],
    ['NOTIFY_TIMEOUT', '10', /a bare number has no unit/],
    ['NOTIFY_TIMEOUT', '1m', /from 1s to 25s \(an attempt must end before its activity's 30 s timeout\)/],
    ['HEYGEN_MAX_CONCURRENT', '-1', /whole number \(0 turns the governor off\)/],
    ['HEYGEN_MAX_CONCURRENT', 'ten', /whole number/],
    ['HEYGEN_HOLD_SLOT_IN_REVIEW', 'sometimes', /true or false/],
    ['HEYGEN_SLOT_RECLAIM_INTERVAL', 'often', /duration with a unit \(ms, s, m, h or d\), such as 500ms, 30s/],
    ['API_RATE_LIMIT', 'lots', /whole number above 0/],
    ['API_STREAMS_MAX', 'many', /whole number above 0/],
    ['API_QUERY_TIMEOUT', 'briefly', /duration with a unit \(ms, s, m, h or d\), such as 500ms, 30s/],
    ['API_QUERY_TIMEOUT', '3000', /a bare number has no unit \(write 3000ms or 3000s\)/],
    ['WORKER_SHUTDOWN_GRACE', '30', /a bare number has no unit/],
    ['SESSION_TIMING', '{"pollInitial":"soon"}', /duration/],
    ['SESSION_TIMING', '{"pollInitial":"5000"}', /a bare number has no unit/],
    ['SESSION_TIMING', 'fast', /JSON object/],
    ['WORKER_VERSIONING', 'maybe', /true or false/],
    ['WORKER_DEPLOYMENT_NAME', 'vao:prod', /letters, digits, - and _ \(no \. or :\)/],
    ['WORKER_DEPLOYMENT_NAME', 'vao.prod', /no \. or :/],
    ['WORKER_BUILD_ID', 'build 7', /letters, digits, \. - _ and \+/],
    ['WORKER_BUILD_ID', 'x'.repeat(101), /at most 100 characters/],
  ])('%s=%j is rejected with a message naming the variable and the expected form', (variable, value, expected) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.variable).toBe(variable);
    expect(problems[0]!.problem).toMatch(expected);
    expect(problems[0]!.problem).toContain(JSON.stringify(value));
  });

  test('notifications: their own slots, a share per tenant and a deadline per attempt, with defaults', () => {
    expect(loadWorkerConfig({}).notify).toMatchObject({ maxConcurrent: 10, maxPerTenant: 2, timeoutMs: 10_000 });
    // A tenant's share is never more than the whole.
    expect(loadWorkerConfig({ NOTIFY_MAX_CONCURRENT: '3', NOTIFY_MAX_PER_TENANT: '5', NOTIFY_TIMEOUT: '20s' }).notify).toMatchObject({ maxConcurrent: 3, maxPerTenant: 3, timeoutMs: 20_000 });
  });

  test('API_STREAMS_PER_TOKEN must be a whole number above 0 (its name says TOKEN, so its value is not echoed)', () => {
    expect(problemsOf({ API_STREAMS_PER_TOKEN: '0' })).toEqual([{ variable: 'API_STREAMS_PER_TOKEN', problem: 'expected a whole number above 0' }]);
  });

  test('review links: a short secret is refused without echoing it; a public URL must be http(s)', () => {
    const problems = problemsOf({ REVIEW_LINK_SECRET: 'too-short-secret', API_PUBLIC_URL: 'vao.example.com' });
    expect(problems).toEqual([
      { variable: 'REVIEW_LINK_SECRET', problem: expect.stringMatching(/at least 32 characters/) },
      { variable: 'API_PUBLIC_URL', problem: expect.stringMatching(/http\(s\) URL/) },
    ]);
    expect(JSON.stringify(problems)).not.toContain('too-short-secret');
  });

  test('one duration rule: text carries a unit, a JSON number is milliseconds', () => {
    const config = loadConfig({ API_QUERY_TIMEOUT: '3000ms', API_DECISION_WAIT: '2.5s', SESSION_TIMING: '{"pollInitial":5000,"pollMax":"2m"}' });
    expect(config.api.queryTimeoutMs).toBe(3_000);
    expect(config.api.decisionWaitMs).toBe(2_500);
    expect(config.api.sessionTiming).toMatchObject({ pollInitial: 5_000, pollMax: 120_000 });
  });

  test('every bad variable is reported at once, in a message that names each', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'x', TEMPORAL_ADDRESS: 'nope', LOG_LEVEL: 'loud' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/PORT: .*"x"/);
    expect(message).toMatch(/TEMPORAL_ADDRESS: .*"nope"/);
    expect(message).toMatch(/LOG_LEVEL: .*"loud"/);
  });

  test('an error message never carries the HeyGen key', () => {
    let message = '';
    try {
      loadConfig({ HEYGEN_API_KEY: 'sk_secret_value', HEYGEN_BASE_URL: 'nope' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('HEYGEN_BASE_URL');
    expect(message).not.toContain('sk_secret_value');
  });

  test('the Worker Deployment: versioned by default, the build named by the package version and the commit unless WORKER_BUILD_ID says', () => {
    const version = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: __dirname, encoding: 'utf8' }).trim();
    expect(loadWorkerConfig({}).deployment).toMatchObject({ versioning: true, deploymentName: 'video-agent-orchestrator', buildId: `${version}-${commit}`, buildIdSource: 'commit' });
    expect(loadWorkerConfig({ WORKER_BUILD_ID: 'v2.1+image-7', WORKER_DEPLOYMENT_NAME: 'vao-eu' }).deployment).toMatchObject({
      deploymentName: 'vao-eu',
      buildId: 'v2.1+image-7',
      buildIdSource: 'WORKER_BUILD_ID',
      uncommitted: false,
    });
    expect(loadWorkerConfig({ WORKER_VERSIONING: 'false' }).deployment.versioning).toBe(false);
    // temporal:setup and deployment:status read the same variables, and nothing of the worker's own.
    expect(loadDeploymentToolConfig({ WORKER_BUILD_ID: 'v2', HEYGEN_MAX_CONCURRENT: 'ten' }).deployment.buildId).toBe('v2');
    expect(() => loadDeploymentToolConfig({ WORKER_DEPLOYMENT_NAME: 'a:b' })).toThrow(/WORKER_DEPLOYMENT_NAME/);
  });

  test('worker metrics: port 0 serves none; the host is an IP address, IPv6 bracketed in addresses', () => {
    expect(loadWorkerConfig({ WORKER_METRICS_PORT: '0' }).worker.metrics).toBeNull();
    expect(loadWorkerConfig({ WORKER_METRICS_HOST: '::' }).worker.metrics).toMatchObject({ bindAddress: '[::]:9464', url: 'http://[::1]:9464/metrics' });
    expect(loadWorkerConfig({ WORKER_METRICS_HOST: '::1' }).worker.metrics).toMatchObject({ bindAddress: '[::1]:9464', url: 'http://[::1]:9464/metrics' });
    expect(problemsOf({ WORKER_METRICS_HOST: 'localhost', WORKER_METRICS_PORT: '70000' })).toEqual([
      { variable: 'WORKER_METRICS_PORT', problem: 'expected a port number between 1 and 65535, or 0 to serve no metrics, got "70000"' },
      { variable: 'WORKER_METRICS_HOST', problem: 'expected an IP address, for example 127.0.0.1 or 0.0.0.0, got "localhost"' },
    ]);
  });

  test('the README configuration table lists every variable the schema reads', () => {
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    for (const variable of [...Object.keys(envSchema.shape), ...Object.keys(simulatorEnvSchema.shape)]) {
      // In the first column of a table row (a row may name several variables).
      expect(readme).toMatch(new RegExp(`^\\|[^|]*\`${variable}\`[^|]*\\|`, 'm'));
    }
  });
});

describe('each process reads only its own variables', () => {
  const theApisMistake = { API_QUERY_TIMEOUT: '3000', API_RATE_LIMIT: 'lots' };
  const theWorkersMistake = { HEYGEN_MAX_CONCURRENT: 'ten', WORKER_SHUTDOWN_GRACE: '30' };

  test("the worker starts past the API's bad variables, and refuses its own", () => {
    expect(loadWorkerConfig(theApisMistake).heygen.governor.maxConcurrent).toBe(10);
    expect(() => loadWorkerConfig(theWorkersMistake)).toThrow(/HEYGEN_MAX_CONCURRENT[\s\S]*WORKER_SHUTDOWN_GRACE/);
    expect(loadWorkerConfig({})).not.toHaveProperty('api');
  });

  test("the API starts past the worker's bad variables (and never sees the HeyGen key), and refuses its own", () => {
    const config = loadApiConfig({ ...theWorkersMistake, HEYGEN_API_KEY: 'sk_never_read' });
    expect(JSON.stringify(config)).not.toContain('sk_never_read');
    expect(config).not.toHaveProperty('heygen');
    expect(() => loadApiConfig(theApisMistake)).toThrow(/API_RATE_LIMIT[\s\S]*API_QUERY_TIMEOUT|API_QUERY_TIMEOUT[\s\S]*API_RATE_LIMIT/);
  });

  test('the simulator and the Temporal tools read neither', () => {
    expect(loadSimulatorConfig({ ...theApisMistake, ...theWorkersMistake }).port).toBe(4010);
    expect(loadTemporalConfig({ ...theApisMistake, ...theWorkersMistake }).temporal.namespace).toBe('default');
  });
});
