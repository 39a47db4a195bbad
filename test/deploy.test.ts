/**
 * docker-compose.yml and the Dockerfile, checked without a Docker engine: images pinned, ports, env
 * names the config actually reads, the search attributes the workflow uses, and start commands that
 * exist and work (built and run here exactly as the image runs them). The monitoring beside them:
 * Prometheus scrapes the ports the worker and the API serve metrics on, and Grafana's dashboard reads
 * only metrics they expose (test/worker-metrics.test.ts finds each in real scrapes).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createMetrics } from '../src/api/metrics';
import { WORKER_METRICS } from '../src/contract/metrics';
import { envSchema } from '../src/service-config';
import { simulatorEnvSchema } from '../src/simulator/config';
import { SHARED_DYNAMIC_CONFIG_FILE, sharedDynamicConfig, startDevServer } from '../src/temporal/dev-server';
import { temporalServerArgs, temporalServerVersion } from '../scripts/temporal-server';
import { findFreePort } from '../src/temporal/dev-server';
import { SEARCH_ATTRIBUTES } from '../src/contract/search-attributes';
import { TOKENS } from './harness/api';
import { dashboardMetricNames, dashboardPanels, DASHBOARD_FILE, isExposed, OUR_WORKER_METRICS, parseExposition, readDashboard, SDK_METRICS } from './harness/metrics';
import { PROJECT_ROOT, startProcess } from './harness/processes';
import { connectClient, temporalAddress, uniqueId } from './harness/temporal';

const run = promisify(execFile);
const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
const packageJson = JSON.parse(read('package.json')) as { version: string; scripts: Record<string, string> };

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  init?: boolean;
  environment?: Record<string, string>;
  ports?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const dockerfile = read('Dockerfile');

describe('docker-compose.yml', () => {
  test('has PostgreSQL, Temporal (its schema job, setup and UI), the worker and the API, Prometheus and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'grafana', 'postgresql', 'prometheus', 'simulator', 'temporal', 'temporal-schema', 'temporal-setup', 'temporal-ui', 'worker']);
    expect(services.simulator!.profiles).toEqual(['simulator']);
  });

  test('every image is pinned to a version', () => {
    for (const [name, service] of Object.entries(services)) {
      expect([name, service.image]).toEqual([name, expect.stringMatching(/^[\w./-]+:[\w.-]*\d[\w.-]*$|@sha256:[0-9a-f]{64}$/)]);
      expect(service.image).not.toMatch(/:latest$/);
    }
    // Our own image is built from the Dockerfile by one service, tagged with our version, and reused.
    expect(services['temporal-setup']!.build).toEqual({ context: '.', target: 'runtime' });
    expect(services['temporal-setup']!.image).toBe(`video-agent-orchestrator:${packageJson.version}`);
    for (const name of ['worker', 'api', 'simulator']) expect(services[name]!.image).toBe(services['temporal-setup']!.image);
  });

  test('ports: Temporal 7233, its UI 8080, the API 3000', () => {
    expect(services.temporal!.ports).toEqual(['7233:7233']);
    expect(services['temporal-ui']!.ports).toEqual(['8080:8080']);
    expect(services.api!.ports).toEqual(['3000:3000']);
    expect(services.api!.environment!.PORT).toBe('3000');
  });

  test('our services are configured only by variables the config reads', () => {
    const known = new Set([...Object.keys(envSchema.shape), ...Object.keys(simulatorEnvSchema.shape)]);
    for (const name of ['temporal-setup', 'worker', 'api', 'simulator']) {
      for (const variable of Object.keys(services[name]!.environment ?? {})) expect([name, variable, known.has(variable)]).toEqual([name, variable, true]);
    }
    expect(services.worker!.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', HEYGEN_API_KEY: '${HEYGEN_API_KEY:-}' });
    expect(services.api!.environment!.API_TOKENS).toMatch(/^\$\{API_TOKENS:\?/);
  });

  test('the worker writes the video archive to a volume the API reads (the same ARCHIVE_DIR), owned by the image\'s user', () => {
    const mount = (name: string) => services[name]!.volumes?.find((volume) => volume.split(':')[1] === services[name]!.environment!.ARCHIVE_DIR);
    expect(mount('worker')).toBe('video-archive:/archive');
    expect(mount('api')).toBe('video-archive:/archive:ro');
    expect(compose.volumes).toHaveProperty('video-archive');
    expect(dockerfile).toMatch(/mkdir -p \/archive && chown node:node \/archive[\s\S]*USER node/);
  });

  test('the search attributes are registered by the service\'s own setup, from the workflow\'s definitions', () => {
    expect(services['temporal-setup']!.command).toEqual(['node', 'dist/src/temporal/setup.js']);
    expect(packageJson.scripts['temporal:setup']).toBe('node dist/src/temporal/setup.js');
    const setup = read('src/temporal/register-search-attributes.ts');
    expect(setup).toContain("import { SEARCH_ATTRIBUTES } from '../contract/search-attributes'");
    for (const name of ['worker', 'api']) expect(services[name]!.depends_on).toEqual({ 'temporal-setup': { condition: 'service_completed_successfully' } });
  });

  test('every service runs node itself, under an init, on the file its npm start script names', () => {
    // Under `npm run`, SIGTERM from `docker stop` never reached the node worker, which then did not drain.
    const scripts: Record<string, string> = { 'temporal-setup': 'temporal:setup', worker: 'start:worker', api: 'start:api', simulator: 'start:simulator' };
    for (const [name, script] of Object.entries(scripts)) {
      const service = services[name]!;
      expect([name, service.command]).toEqual([name, packageJson.scripts[script]!.split(' ')]);
      expect([name, service.init]).toEqual([name, true]);
    }
  });
});

describe('the Temporal server: one configuration for docker-compose.yml and test:cluster', () => {
  const mount = './deploy/temporal:/etc/temporal/vao:ro';
  const inContainer = (file: string) => path.posix.join('/etc/temporal/vao', file);

  test('one version: the server image, the schema tool image, and the server test:cluster builds', () => {
    const version = temporalServerVersion();
    expect(services.temporal!.image).toBe(`temporalio/server:${version}`);
    expect(services['temporal-schema']!.image).toBe(`temporalio/admin-tools:${version}`);
  });

  test('the server runs deploy/temporal/config with the shared dynamic config, started as test:cluster starts it', () => {
    expect(services.temporal!.volumes).toEqual([mount]);
    const entrypoint = (services.temporal as Service & { entrypoint: string[] }).entrypoint;
    expect(entrypoint.slice(0, 2)).toEqual(['sh', '-c']);
    expect(entrypoint[2]).toContain(`exec temporal-server ${temporalServerArgs('/etc/temporal/vao').join(' ')}`);
    expect(existsSync(path.join(PROJECT_ROOT, 'deploy', 'temporal', 'config', 'production.yaml'))).toBe(true);
    expect(services.temporal!.environment!.DYNAMIC_CONFIG_FILE_PATH).toBe(inContainer('dynamicconfig.yaml'));
    expect(SHARED_DYNAMIC_CONFIG_FILE).toBe(path.join(PROJECT_ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml'));
    expect(sharedDynamicConfig()).toMatchObject({ 'frontend.enableUpdateWorkflowExecution': true, 'frontend.enableServerVersionCheck': false });
  });

  test('the schema is applied by the script test:cluster runs, before the server starts', () => {
    expect(services['temporal-schema']!.volumes).toEqual([mount]);
    expect(services['temporal-schema']!.command).toEqual(['sh', inContainer('setup-schema.sh')]);
    expect(services['temporal-schema']!.depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect(services.temporal!.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
  });

  test('the server and the schema script read only variables compose gives them, and compose gives none they ignore', () => {
    const template = read('deploy/temporal/config/production.yaml');
    const script = read('deploy/temporal/setup-schema.sh');
    const readByTemplate = new Set([...template.matchAll(/env "([A-Z_]+)"/g)].map((match) => match[1]!));
    const readByScript = new Set([...script.matchAll(/\$\{([A-Z_]+)[:}]/g)].map((match) => match[1]!));
    for (const variable of Object.keys(services.temporal!.environment!)) expect([variable, readByTemplate.has(variable)]).toEqual([variable, true]);
    for (const variable of Object.keys(services['temporal-schema']!.environment!)) expect([variable, readByScript.has(variable)]).toEqual([variable, true]);
    // The database settings the two share are given the same values.
    for (const variable of ['POSTGRES_SEEDS', 'DB_PORT', 'POSTGRES_USER', 'POSTGRES_PWD']) {
      expect(services.temporal!.environment![variable]).toBe(services['temporal-schema']!.environment![variable]);
    }
    expect(services.postgresql!.environment!.POSTGRES_USER).toBe(services.temporal!.environment!.POSTGRES_USER);
  });
});

describe('monitoring: Prometheus and Grafana in docker-compose.yml', () => {
  interface ScrapeConfig {
    job_name: string;
    metrics_path?: string;
    dns_sd_configs?: { names: string[]; type: string; port: number }[];
    static_configs?: { targets: string[] }[];
  }
  const prometheusConfig = parse(read('deploy/prometheus/prometheus.yml')) as { scrape_configs: ScrapeConfig[] };
  const datasources = parse(read('deploy/grafana/provisioning/datasources/prometheus.yaml')) as { datasources: { uid: string; type: string; url: string }[] };
  const providers = parse(read('deploy/grafana/provisioning/dashboards/video-agent-orchestrator.yaml')) as { providers: { type: string; options: { path: string } }[] };
  /** The container path a service mounts a repository path at. */
  const mountOf = (service: string, source: string) =>
    services[service]!.volumes?.map((volume) => volume.split(':')).find(([from]) => path.normalize(from!) === path.normalize(source))?.[1];
  /** host:port targets each scrape job reaches: a compose service's name and a port. */
  const targetsOf = (job: ScrapeConfig) => [
    ...(job.dns_sd_configs ?? []).flatMap((sd) => sd.names.map((name) => ({ service: name, port: sd.port }))),
    ...(job.static_configs ?? []).flatMap((config) => config.targets.map((target) => ({ service: target.split(':')[0]!, port: Number(target.split(':')[1]) }))),
  ];

  test('Prometheus reads the scrape config from the repository, at the path it is told to', () => {
    const configPath = mountOf('prometheus', './deploy/prometheus/prometheus.yml');
    expect(configPath).toBeDefined();
    expect(services.prometheus!.command).toContain(`--config.file=${configPath}`);
    expect(services.prometheus!.ports).toEqual(['9090:9090']);
  });

  test("it scrapes every worker on its metrics port, which listens beyond the worker's loopback, and every API on its own port's /metrics", () => {
    const worker = services.worker!.environment!;
    expect(worker.WORKER_METRICS_HOST).toBe('0.0.0.0');
    const jobs = prometheusConfig.scrape_configs;
    const scraping = (service: string) => jobs.filter((job) => targetsOf(job).some((target) => target.service === service));
    expect(scraping('worker').map((job) => [job.metrics_path ?? '/metrics', targetsOf(job)])).toEqual([['/metrics', [{ service: 'worker', port: Number(worker.WORKER_METRICS_PORT) }]]]);
    expect(scraping('api').map((job) => [job.metrics_path ?? '/metrics', targetsOf(job)])).toEqual([['/metrics', [{ service: 'api', port: Number(services.api!.environment!.PORT) }]]]);
    // Service discovery by name, so `--scale worker=N` is scraped replica by replica.
    for (const job of jobs) expect(job.dns_sd_configs?.every((sd) => sd.type === 'A')).toBe(true);
    expect(read('src/api/routes/system.ts')).toMatch(/routes\.get\('\/metrics'/);
  });

  test('Grafana mounts its provisioning and the dashboard folder the provider loads; the data source is the prometheus service', () => {
    expect(mountOf('grafana', './deploy/grafana/provisioning/datasources')).toBe('/etc/grafana/provisioning/datasources');
    expect(mountOf('grafana', './deploy/grafana/provisioning/dashboards')).toBe('/etc/grafana/provisioning/dashboards');
    const [provider] = providers.providers;
    expect(provider).toMatchObject({ type: 'file' });
    expect(mountOf('grafana', './deploy/grafana/dashboards')).toBe(provider!.options.path);
    expect(path.dirname(DASHBOARD_FILE)).toBe(path.join(PROJECT_ROOT, 'deploy', 'grafana', 'dashboards'));
    expect(services.grafana!.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${provider!.options.path}/${path.basename(DASHBOARD_FILE)}`);
    expect(datasources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: `http://prometheus:${services.prometheus!.ports![0]!.split(':')[1]}` })]);
    expect(services.grafana!.ports).toEqual(['3001:3000']);
  });

  test('the dashboard is valid JSON whose every panel queries the provisioned data source', () => {
    const dashboard = readDashboard();
    expect(dashboard).toMatchObject({ uid: 'video-agent-orchestrator', title: 'Video Agent Orchestrator' });
    const panels = dashboardPanels(dashboard).filter((panel) => panel.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    const uid = datasources.datasources[0]!.uid;
    for (const panel of panels) {
      expect([panel.title, panel.datasource]).toEqual([panel.title, { type: 'prometheus', uid }]);
      expect([panel.title, panel.targets?.length ?? 0]).not.toEqual([panel.title, 0]);
      for (const target of panel.targets!) expect(target.expr).toMatch(/\b(vao|temporal)_/);
    }
  });

  test('the dashboard reads only metrics the worker or the API exposes, and shows every one of ours', async () => {
    const api = parseExposition(await createMetrics().render()).families;
    const known = new Map([...api, ...Object.entries(OUR_WORKER_METRICS), ...Object.entries(SDK_METRICS)]);
    const names = dashboardMetricNames();
    expect(names.filter((name) => !isExposed(name, known))).toEqual([]);
    // Ours: each on a panel (a histogram by any of its series).
    const shown = (metric: string) => names.some((name) => name === metric || name.replace(/_(bucket|sum|count)$/, '') === metric);
    expect(Object.keys(OUR_WORKER_METRICS).filter((metric) => !shown(metric))).toEqual([]);
    for (const metric of ['vao_http_requests_total', 'vao_http_request_duration_seconds']) expect([metric, shown(metric)]).toEqual([metric, true]);
    expect(Object.keys(OUR_WORKER_METRICS)).toContain(`${WORKER_METRICS.heygenRequests.name}_total`);
  });
});

describe('Dockerfile', () => {
  test('multi-stage, pinned base, non-root runtime with the prebuilt workflow bundle', () => {
    const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)\s+AS\s+(\w+)/gm)].map((m) => m[2]);
    expect(stages).toEqual(['build', 'runtime']);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/m);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toContain('TEMPORAL_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js');
    expect(dockerfile).toContain('npm run build:workflows -- dist/workflow-bundle.js');
  });

  test('its build runs npm scripts that exist; it starts node itself (the API), not npm', () => {
    const commands = [...dockerfile.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(commands).toEqual(['build', 'build:workflows']);
    for (const command of commands) expect(Object.keys(packageJson.scripts)).toContain(command);
    expect(dockerfile).toContain(`CMD ${JSON.stringify(packageJson.scripts['start:api']!.split(' ')).replace(/","/g, '", "')}`);
  });
});

describe('the image\'s start commands, built and run here', () => {
  const node = (script: string) => {
    const [command, ...args] = packageJson.scripts[script]!.split(' ');
    expect(command).toBe('node');
    return args;
  };

  beforeAll(async () => {
    await run('npm', ['run', 'build'], { cwd: PROJECT_ROOT });
    await run('npm', ['run', 'build:workflows', '--', 'dist/workflow-bundle.js'], { cwd: PROJECT_ROOT });
  }, 120_000);

  test('temporal:setup registers the search attributes on a bare server, and again is a no-op', async () => {
    const bare = await startDevServer({ cliPath: process.env.TEMPORAL_CLI_PATH!, searchAttributes: [] });
    try {
      const env = { ...process.env, TEMPORAL_ADDRESS: bare.address, LOG_FORMAT: 'json' };
      for (let i = 0; i < 2; i++) {
        const setup = startProcess(process.execPath, node('temporal:setup'), env, PROJECT_ROOT);
        expect((await setup.exited).code).toBe(0);
        expect(setup.output()).toMatch(i === 0 ? /"added":\["VideoAgentStatus"/ : /"added":\[\]/);
      }
      const { client, close } = await connectClient(bare.address);
      const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
      await close();
      for (const key of SEARCH_ATTRIBUTES) expect(customAttributes?.[key.name]).toBe(2);
    } finally {
      await bare.stop();
    }
  });

  test('start:worker (with the prebuilt bundle) and start:api run the compiled service', async () => {
    const port = await findFreePort();
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: uniqueId('image'),
      TEMPORAL_WORKFLOW_BUNDLE: 'dist/workflow-bundle.js',
      PORT: String(port),
      API_TOKENS: JSON.stringify([TOKENS.admin]),
      LOG_FORMAT: 'json',
    };
    const worker = startProcess(process.execPath, node('start:worker'), env, PROJECT_ROOT);
    const api = startProcess(process.execPath, node('start:api'), env, PROJECT_ROOT);
    try {
      await worker.waitForLine(/"msg":"worker running"/);
      await api.waitForLine(/API listening/);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      worker.child.kill('SIGTERM');
      api.child.kill('SIGTERM');
    }
    expect((await worker.exited).code).toBe(0);
    expect((await api.exited).code).toBe(0);
  });
});
