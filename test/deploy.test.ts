/**
 * docker-compose.yml and the Dockerfile, checked without a Docker engine: images pinned, ports, env
 * names the config actually reads, the search attributes the workflow uses, and start commands that
 * exist and work (built and run here exactly as the image runs them).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { envSchema } from '../src/service-config';
import { simulatorEnvSchema } from '../src/simulator/config';
import { SHARED_DYNAMIC_CONFIG_FILE, sharedDynamicConfig, startDevServer } from '../src/temporal/dev-server';
import { temporalServerArgs, temporalServerVersion } from '../scripts/temporal-server';
import { findFreePort } from '../src/temporal/dev-server';
import { SEARCH_ATTRIBUTES } from '../src/contract/search-attributes';
import { TOKENS } from './harness/api';
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
  test('has PostgreSQL, Temporal, its UI, the search-attribute setup, the worker and the API', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'postgresql', 'simulator', 'temporal', 'temporal-schema', 'temporal-setup', 'temporal-ui', 'worker']);
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
    expect(services['temporal-setup']!.command).toEqual(['node', 'dist/src/temporal/register-search-attributes.js']);
    expect(packageJson.scripts['temporal:setup']).toBe('node dist/src/temporal/register-search-attributes.js');
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
